package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/dainostore/jobs/internal/ledger"
	"github.com/dainostore/jobs/internal/sandbox/ledgerfake"
)

// A job charges a store for its work under a key derived from the work, so
// that sending the debit again after a lost answer charges it once; a
// balance that cannot cover a debit is an error the job tells apart.
func Example() {
	platform := ledgerfake.New(ledgerfake.Options{Token: "ledger-token"})
	platform.SetBalance("store-1", 10)
	server := httptest.NewServer(platform)
	defer server.Close()

	client := &ledger.Client{URL: server.URL, Token: "ledger-token"}
	ctx := context.Background()
	debit := ledger.Debit{
		StoreID: "store-1", Credits: 4,
		Reason: "ai_text", Reference: "job-42/sku-7",
		IdempotencyKey: "job-42:sku-7",
	}
	first, err := client.Debit(ctx, debit)
	if err != nil {
		log.Fatal(err)
	}
	again, err := client.Debit(ctx, debit) // as after a lost answer
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("balance %d, replayed %t\n", first.Balance, first.Replayed)
	fmt.Printf("balance %d, replayed %t\n", again.Balance, again.Replayed)

	_, err = client.Debit(ctx, ledger.Debit{StoreID: "store-1", Credits: 8, Reason: "ai_text", IdempotencyKey: "job-43:sku-1"})
	var insufficient *ledger.InsufficientCreditsError
	if errors.As(err, &insufficient) {
		fmt.Printf("%s has %d credits, %d needed\n", insufficient.StoreID, insufficient.Balance, insufficient.Needed)
	}
	balance, err := client.Balance(ctx, "store-1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("balance", balance)
	// Output:
	// balance 6, replayed false
	// balance 6, replayed true
	// store-1 has 6 credits, 8 needed
	// balance 6
}
