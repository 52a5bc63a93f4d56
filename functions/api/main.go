// Command api is the API Lambda: API Gateway HTTP API events in, the same
// net/http handler the local process serves.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/lambdaadapter"
)

func main() {
	a, err := app.FromEnvironment(context.Background(), app.Overrides{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
	lambda.Start(lambdaadapter.HTTP(a.HTTP))
}
