package translation_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dainostore/jobs/internal/sandbox/translatefake"
	"github.com/dainostore/jobs/internal/translation"
)

// A label is translated with its placeholders and markup kept; a label
// whose answer broke them is recorded, not written.
func Example() {
	translate := translatefake.New(translatefake.Options{})
	server := httptest.NewServer(translate)
	defer server.Close()

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	translator := translation.New(translation.NewClient(cfg, server.URL))

	text, usage, err := translator.Translate(context.Background(), "Free shipping on orders over <strong>%s</strong>", "en", "fr")
	var item *translation.ItemError
	switch {
	case errors.As(err, &item):
		fmt.Println("not translated:", item.Reason)
		return
	case err != nil:
		log.Fatal(err) // throttled, misconfigured or transient: the job decides
	}
	fmt.Println(text)
	fmt.Println(usage.Calls, "call,", usage.Characters, "characters")
	// Output:
	// Frèè shìppìng òn òrdèrs òvèr <strong>%s</strong>
	// 1 call, 76 characters
}
