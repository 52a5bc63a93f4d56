package lambdaadapter

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Runner is one worker invocation's work (worker.Worker.Run).
type Runner interface {
	Run(ctx context.Context) error
}

// Wake turns a worker into the Lambda handler for its wake queue's event
// source mapping. A wake carries no work of its own: it only starts an
// invocation, which pulls job messages itself. So the whole batch succeeds
// or fails together; a failed batch comes back after its visibility timeout.
func Wake(r Runner) func(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	return func(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
		if err := r.Run(ctx); err != nil {
			failures := make([]events.SQSBatchItemFailure, 0, len(event.Records))
			for _, record := range event.Records {
				failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: record.MessageId})
			}
			return events.SQSEventResponse{BatchItemFailures: failures}, nil
		}
		return events.SQSEventResponse{}, nil
	}
}
