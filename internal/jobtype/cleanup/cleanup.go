// Package cleanup is the system job system:cleanup, run every hour by the
// schedules: it removes what DynamoDB's TTL has not removed yet and
// releases orphaned locks, and tells in its own job log what it did.
package cleanup

import (
	"context"
	"log/slog"

	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
)

// Args is the payload of system:cleanup.
type Args struct {
	// LookBackDays is how far back expired items are looked for; TTL
	// removes most within two days.
	LookBackDays int `json:"look_back_days,omitempty"`
}

// Kind names the job type.
func (Args) Kind() string { return "system:cleanup" }

// Handler runs system:cleanup.
type Handler struct{ Jobs *jobtable.Table }

// Run cleans up once.
func (h Handler) Run(ctx context.Context, rt jobtype.Runtime, args Args) (any, error) {
	days := args.LookBackDays
	if days <= 0 {
		days = 7
	}
	rt.Progress(10, "Removing expired jobs, logs and keys")
	report, err := h.Jobs.Cleanup(ctx, days)
	if err != nil {
		return nil, err
	}
	rt.Log(slog.LevelInfo, "cleanup done",
		slog.Int("jobs_deleted", report.JobsDeleted), slog.Int("log_lines_deleted", report.LogLinesDeleted),
		slog.Int("idempotency_keys_deleted", report.IdempotencyKeysDeleted), slog.Int("locks_released", report.LocksReleased))
	return report, nil
}
