// Package awsconfig loads the AWS SDK configuration every binary shares.
package awsconfig

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
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
