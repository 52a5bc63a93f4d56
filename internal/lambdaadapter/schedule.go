package lambdaadapter

import (
	"context"
	"fmt"
)

// TaskRunner runs a scheduled task by name (cron.Tasks.Run).
type TaskRunner interface {
	Run(ctx context.Context, task string) error
}

// ScheduledEvent is the constant input an EventBridge rule passes.
type ScheduledEvent struct {
	Task string `json:"task"`
}

// Schedule turns a task runner into the Lambda handler for EventBridge rules.
func Schedule(r TaskRunner) func(ctx context.Context, event ScheduledEvent) error {
	return func(ctx context.Context, event ScheduledEvent) error {
		if event.Task == "" {
			return fmt.Errorf("scheduled event has no task")
		}
		return r.Run(ctx, event.Task)
	}
}
