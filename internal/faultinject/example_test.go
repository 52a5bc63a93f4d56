package faultinject_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dainostore/jobs/internal/faultinject"
)

func Example() {
	// A stand-in for DynamoDB that answers every request with an empty item.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()

	cfg := aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:  awshttp.NewBuildableClient(),
		// The standard retryer (3 attempts), without its backoff delays.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}

	inj := faultinject.New()
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.APIOptions = append(o.APIOptions, inj.Middleware)
	})

	// The second GetItem fails as a whole; the SDK does not retry it.
	inj.FailNth(faultinject.DynamoDB, "GetItem", 2, faultinject.Throttling(faultinject.DynamoDB))
	// The first two attempts of every PutItem are throttled; the SDK's
	// retryer retries them and the call succeeds.
	inj.FailWhen(faultinject.DynamoDB, "PutItem", nil, 2, faultinject.Throttling(faultinject.DynamoDB)).PerAttempt()

	ctx := context.Background()
	get := &dynamodb.GetItemInput{
		TableName: aws.String("jobs"),
		Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "job#1"}},
	}
	for n := 1; n <= 3; n++ {
		_, err := db.GetItem(ctx, get)
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			fmt.Printf("GetItem %d: %s\n", n, apiErr.ErrorCode())
		} else {
			fmt.Printf("GetItem %d: %v\n", n, err)
		}
	}

	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("jobs"), Item: get.Key})
	fmt.Printf("PutItem: %v after %d attempts\n", err, inj.Attempts(faultinject.DynamoDB, "PutItem"))
	fmt.Println("calls:", inj.Calls(faultinject.DynamoDB, ""))

	// Output:
	// GetItem 1: <nil>
	// GetItem 2: ProvisionedThroughputExceededException
	// GetItem 3: <nil>
	// PutItem: <nil> after 3 attempts
	// calls: 4
}
