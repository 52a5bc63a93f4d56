// Package cleanup is the system job system:cleanup, run every hour by the
// schedules: it removes what DynamoDB's TTL has not removed yet and
// releases orphaned locks, and tells in its own job log what it did.
package cleanup

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
)

// Args is the payload of system:cleanup.
type Args struct {
	// LookBackDays is how far back expired items are looked for; TTL
	// removes most within two days.
	LookBackDays int `json:"look_back_days,omitempty"`
	// PageSize is how many entries of the cleanup index are handled
	// between two checkpoints; 100 if not set.
	PageSize int `json:"page_size,omitempty"`
}

// Kind names the job type.
func (Args) Kind() string { return "system:cleanup" }

// Handler runs system:cleanup.
type Handler struct{ Jobs *jobtable.Table }

// Run cleans up once, going on from its checkpoint when it was stopped: its
// checkpoint holds what it removed so far, so its result counts every run.
func (h Handler) Run(ctx context.Context, rt jobtype.Runtime, args Args) (any, error) {
	days := args.LookBackDays
	if days <= 0 {
		days = 7
	}
	var from jobtable.CleanupState
	resumed, err := rt.Resume(&from)
	if err != nil {
		return nil, err
	}
	if resumed {
		rt.Log(slog.LevelInfo, "resuming the cleanup", slog.String("partition", from.Partition),
			slog.Int("jobs_deleted", from.Report.JobsDeleted), slog.Int("locks_released", from.Report.LocksReleased))
	} else {
		rt.Progress(1, "Removing expired jobs, logs and keys")
	}
	report, err := h.Jobs.Cleanup(ctx, jobtable.CleanupOptions{
		LookBackDays: days,
		PageSize:     args.PageSize,
		From:         from,
		AfterPage: func(s jobtable.CleanupState) error {
			rt.Progress(s.Percent, fmt.Sprintf("Removed %d jobs, %d log lines, %d keys and %d locks so far",
				s.Report.JobsDeleted, s.Report.LogLinesDeleted, s.Report.IdempotencyKeysDeleted, s.Report.LocksReleased))
			return rt.Checkpoint(s)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cleanup: %w", err)
	}
	rt.Log(slog.LevelInfo, "cleanup done",
		slog.Int("jobs_deleted", report.JobsDeleted), slog.Int("log_lines_deleted", report.LogLinesDeleted),
		slog.Int("idempotency_keys_deleted", report.IdempotencyKeysDeleted), slog.Int("locks_released", report.LocksReleased))
	return report, nil
}
