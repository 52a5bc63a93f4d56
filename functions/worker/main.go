// Command worker is the worker Lambda. Its event source mapping on the wake
// queue starts it; each invocation pulls job messages from the priority
// queues itself (see internal/worker).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/lambdaadapter"
	"github.com/dainostore/jobs/internal/worker"
)

func main() {
	a, err := app.FromEnvironment(context.Background(), app.Overrides{
		// Metrics go to stdout as EMF lines: CloudWatch Logs turns them
		// into metrics with no API call.
		WorkerConfig: worker.Config{ID: lambdacontext.LogStreamName, Metrics: emf.NewWriter(os.Stdout, emf.Namespace)},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
	lambda.Start(lambdaadapter.Wake(a.Worker))
}
