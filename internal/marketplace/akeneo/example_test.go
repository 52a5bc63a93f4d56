package akeneo_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/dainostore/jobs/internal/marketplace/akeneo"
	"github.com/dainostore/jobs/internal/sandbox/akeneofake"
)

// An import pages through the products by following each page's Next,
// which it can checkpoint and resume from.
func Example() {
	pim := akeneofake.New(akeneofake.Options{})
	pim.AddClient("connection", "secret", "api_user", "password")
	pim.SetCatalog(akeneofake.Seed(1, 250, 20))
	server := httptest.NewServer(pim)
	defer server.Close()

	client, err := akeneo.New(akeneo.Config{
		BaseURL:  server.URL,
		ClientID: "connection", Secret: "secret",
		Username: "api_user", Password: "password",
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	total, err := client.CountProducts(ctx, time.Time{})
	if err != nil {
		log.Fatal(err)
	}
	withSKU, withoutSKU := 0, 0
	for next := ""; ; {
		page, err := client.Products(ctx, next, time.Time{})
		if err != nil {
			log.Fatal(err)
		}
		for _, p := range page.Products {
			if p.SKU == "" {
				withoutSKU++ // every 101st seeded product has none
				continue
			}
			withSKU++
		}
		if next = page.Next; next == "" {
			break
		}
	}
	fmt.Printf("%d products: %d imported, %d without an SKU\n", total, withSKU, withoutSKU)
	// Output: 250 products: 248 imported, 2 without an SKU
}
