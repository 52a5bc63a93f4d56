package ai_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/sandbox/bedrockfake"
)

// An export rewrites each product for the marketplace, records a product
// whose text could not be produced, and charges the tokens of every call.
func Example() {
	bedrock := bedrockfake.New(bedrockfake.Options{})
	server := httptest.NewServer(bedrock)
	defer server.Close()

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
	optimizer := ai.New(ai.NewClient(cfg, server.URL), "amazon.nova-lite-v1:0")
	limits := ai.Limits{Marketplace: "eBay", TitleMax: 80, DescriptionMax: 4000} // eBay shows no bullet points

	product := ai.Product{
		Title:       "Stoneware Mug",
		Description: "<p>Hand-glazed, holds <b>350&nbsp;ml</b>.</p>",
		Brand:       "Acme",
		Features:    []string{"Colour: Ocean", "Dishwasher safe"},
	}
	text, usage, err := optimizer.Optimize(context.Background(), product, limits)
	var item *ai.ItemError
	switch {
	case errors.As(err, &item):
		fmt.Println("not exported:", item.Reason)
		return
	case err != nil:
		log.Fatal(err) // throttled, misconfigured or transient: the job's retry schedule decides
	}
	fmt.Println(text.Title)
	fmt.Println(text.Description)
	fmt.Println(len(text.Bullets), "bullet points,", usage.Calls, "call")
	// Output:
	// Acme Stoneware Mug – Ocean
	// Hand-glazed, holds 350 ml.
	//
	// Details: Colour: Ocean; Dishwasher safe.
	// 0 bullet points, 1 call
}
