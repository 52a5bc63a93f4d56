// Package scheduler runs the platform's scheduled tasks. EventBridge rules
// (and the local process's timers) fire them by name; the most important is
// the sweep, which finds jobs that fell between two writes and wakes workers
// for messages nobody is receiving.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/handler"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/store"
)

// Scheduled tasks. The sweep runs in the scheduler itself; a task named
// after a system job type creates that job.
const (
	TaskSweep                = "sweep"
	TaskCleanup              = "system:cleanup"
	TaskDailyCreditDeduction = "system:daily_credit_deduction"
)

// PlatformStore is the store id of system jobs.
const PlatformStore = "platform"

// HealthCheck is what the sweep runs after it swept: the alert monitor.
type HealthCheck interface {
	Check(ctx context.Context) error
}

// Scheduler runs scheduled tasks.
type Scheduler struct {
	health         HealthCheck // nil: no alerts
	store          *store.Store
	queues         *queue.Queues
	dispatcher     *dispatch.Dispatcher
	handlers       *handler.Registry // which system job types this deployment runs
	maxConcurrency int
	// resendAfter is how long the sweep waits before looking at a job it
	// re-enqueued again, so a long backlog does not fill with duplicates.
	resendAfter time.Duration
	log         *slog.Logger
}

// New returns a Scheduler.
func New(s *store.Store, q *queue.Queues, d *dispatch.Dispatcher, handlers *handler.Registry, health HealthCheck, maxConcurrency int, resendAfter time.Duration, log *slog.Logger) *Scheduler {
	return &Scheduler{store: s, queues: q, dispatcher: d, handlers: handlers, health: health, maxConcurrency: maxConcurrency, resendAfter: resendAfter, log: log}
}

// Run runs the named task.
func (s *Scheduler) Run(ctx context.Context, task string) error {
	switch task {
	case TaskSweep:
		_, err := s.Sweep(ctx)
		if s.health != nil {
			err = errors.Join(err, s.health.Check(ctx))
		}
		return err
	case TaskCleanup:
		return s.createSystemJob(ctx, dispatch.Request{Type: task})
	case TaskDailyCreditDeduction:
		// One deduction per day: a rule delivered twice finds the first job.
		day := s.store.Now().UTC().Format(time.DateOnly)
		return s.createSystemJob(ctx, dispatch.Request{
			Type: task, Payload: fmt.Appendf(nil, `{"date":%q}`, day), IdempotencyKey: task + ":" + day,
		})
	}
	return fmt.Errorf("unknown scheduled task %q", task)
}

// createSystemJob creates a system job, unless one of its type is still
// active (a slow run must not pile up behind itself).
func (s *Scheduler) createSystemJob(ctx context.Context, req dispatch.Request) error {
	jobType := req.Type
	if _, ok := s.handlers.Lookup(jobType); !ok {
		// A deployment without, say, a credits ledger does not run its job.
		s.log.Info("scheduled system job skipped: its job type is not configured here", "type", jobType)
		return nil
	}
	req.StoreID, req.Priority, req.CreatedBy = PlatformStore, job.PriorityLow, "the schedule"
	j, replayed, err := s.dispatcher.Create(ctx, req)
	var active *store.DuplicateError
	if errors.As(err, &active) {
		s.log.Info("scheduled system job skipped: the previous one is still active", "type", jobType, "active_job_id", active.ExistingJobID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", jobType, err)
	}
	if replayed {
		s.log.Info("scheduled system job already created today", "type", jobType, "job_id", j.ID)
		return nil
	}
	s.log.Info("scheduled system job created", "type", jobType, "job_id", j.ID)
	return nil
}

// SweepReport says what a sweep did.
type SweepReport struct {
	Enqueued     int // jobs whose message was sent again
	WorkersWoken int
}

// maxDuePerSweep bounds one sweep's work; the next sweep takes the rest.
const maxDuePerSweep = 500

// Sweep re-enqueues due jobs and wakes workers while queues hold messages.
func (s *Scheduler) Sweep(ctx context.Context) (SweepReport, error) {
	var report SweepReport
	ids, err := s.store.DueJobIDs(ctx, maxDuePerSweep)
	if err != nil {
		return report, err
	}
	var errs []error
	for _, id := range ids {
		enqueued, err := s.sweepJob(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if enqueued {
			report.Enqueued++
		}
	}
	depths, err := s.queues.Depths(ctx)
	if err != nil {
		return report, errors.Join(append(errs, err)...)
	}
	visible := 0
	for _, d := range depths {
		visible += d.Visible
	}
	for i := 0; i < min(visible+report.Enqueued, s.maxConcurrency); i++ {
		if err := s.queues.Wake(ctx, 0); err != nil {
			errs = append(errs, err)
			break
		}
		report.WorkersWoken++
	}
	if report.Enqueued > 0 || report.WorkersWoken > 0 {
		s.log.Info("sweep", "re_enqueued", report.Enqueued, "workers_woken", report.WorkersWoken)
	}
	return report, errors.Join(errs...)
}

// sweepJob looks at one due job. Its message may be lost, or merely late
// (a long backlog): sending another is safe either way, because workers
// drop messages of jobs they cannot run.
func (s *Scheduler) sweepJob(ctx context.Context, id string) (bool, error) {
	j, err := s.store.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	log := s.log.With("job_id", j.ID, "store_id", j.StoreID, "type", j.Type, "status", string(j.Status))
	switch {
	case j.Status.Terminal():
		return false, ignoreStale(s.store.ClearDue(ctx, j.ID, j.Version))
	case j.Status == job.StatusPending:
		log.Warn("job was saved but never enqueued; enqueuing it")
		s.dispatcher.Dispatch(ctx, j)
		return true, nil
	}
	log.Warn("job is past its deadline with no worker on it; enqueuing it again")
	if err := s.queues.Enqueue(ctx, j); err != nil {
		return false, err
	}
	return true, ignoreStale(s.store.PostponeDue(ctx, j.ID, j.Version, s.store.Now().Add(s.resendAfter)))
}

func ignoreStale(err error) error {
	if errors.Is(err, store.ErrStale) {
		return nil
	}
	return err
}
