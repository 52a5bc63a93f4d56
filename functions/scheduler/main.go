// Command scheduler is the scheduled-tasks Lambda: EventBridge rules invoke
// it with {"task": "<name>"} as their input.
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
		fmt.Fprintln(os.Stderr, "scheduler:", err)
		os.Exit(1)
	}
	lambda.Start(lambdaadapter.Schedule(a.Cron))
}
