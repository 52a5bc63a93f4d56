// Package awsconfig loads the AWS SDK configuration every binary shares.
package awsconfig

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Load reads the standard AWS environment (region, credentials, and
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> for local emulators).
// The buildable HTTP client honours AWS_CA_BUNDLE, which a plain
// *http.Client would not.
func Load(ctx context.Context, optFns ...func(*config.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*config.LoadOptions) error{
		config.WithHTTPClient(awshttp.NewBuildableClient()),
		config.WithDefaultRegion("us-east-1"),
	}, optFns...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}

// S3Options are the options every S3 client of the service is built with:
// s3.NewFromConfig(cfg, awsconfig.S3Options()...). Deployed there are none.
// When an endpoint override points S3 at the local emulator
// (AWS_ENDPOINT_URL_S3, or AWS_ENDPOINT_URL for every service):
//
//   - buckets are addressed path-style, http://127.0.0.1:PORT/BUCKET/KEY.
//     The default, virtual-hosted style, puts the bucket in the host name
//     (BUCKET.127.0.0.1), which cannot reach an emulator on an IP address.
//     AWS itself recommends the virtual-hosted style, so it stays deployed.
//   - the SDK does not log each response that carries no checksum: the
//     emulator neither stores nor returns object checksums, so every
//     GetObject would log one. Responses are still checked where they carry one.
func S3Options() []func(*s3.Options) {
	if os.Getenv("AWS_ENDPOINT_URL_S3") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
		return nil
	}
	return []func(*s3.Options){func(o *s3.Options) {
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	}}
}

// DynamoDBReadTimeout is how long a DynamoDB connection may stay silent
// while an answer is awaited. DynamoDB answers in milliseconds, so a longer
// silence is a broken connection (a lost packet, a stuck node); the SDK then
// retries on a fresh one instead of holding a worker until its invocation
// ends. The SDK sets no such limit by default.
const DynamoDBReadTimeout = 30 * time.Second

// DynamoDBOptions are the options every DynamoDB client of the service is
// built with: dynamodb.NewFromConfig(cfg, awsconfig.DynamoDBOptions()...).
func DynamoDBOptions() []func(*dynamodb.Options) {
	return []func(*dynamodb.Options){withReadTimeout(DynamoDBReadTimeout)}
}

func withReadTimeout(timeout time.Duration) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		if client, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = client.WithReadTimeout(timeout)
		}
	}
}
