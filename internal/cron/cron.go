// Package cron runs the platform's scheduled tasks by name, as EventBridge
// rules (and the local process's timers) fire them: the sweep, and the
// system jobs.
package cron

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/schedule"
	"github.com/dainostore/jobs/internal/sweep"
)

// Scheduled tasks. The sweep runs in the task itself; a task named after a
// system job type creates that job.
const (
	TaskSweep                = "sweep"
	TaskCleanup              = "system:cleanup"
	TaskDailyCreditDeduction = "system:daily_credit_deduction"
)

// DueSchedules creates the jobs of the stores' schedules that are due
// (schedule.Runner).
type DueSchedules interface {
	RunDue(ctx context.Context) (schedule.Report, error)
}

// HealthCheck is what runs after each sweep: the alert monitor.
type HealthCheck interface {
	Check(ctx context.Context) error
}

// Tasks runs scheduled tasks.
type Tasks struct {
	sweeper    *sweep.Sweeper
	schedules  DueSchedules // nil: no schedules
	health     HealthCheck  // nil: no alerts
	dispatcher *dispatch.Dispatcher
	jobTypes   *jobtype.Registry // which system job types this deployment runs
	log        *slog.Logger
}

// New returns the scheduled tasks.
func New(sweeper *sweep.Sweeper, schedules DueSchedules, health HealthCheck, d *dispatch.Dispatcher, jobTypes *jobtype.Registry, log *slog.Logger) *Tasks {
	return &Tasks{sweeper: sweeper, schedules: schedules, health: health, dispatcher: d, jobTypes: jobTypes, log: log}
}

// Run runs the named task.
func (t *Tasks) Run(ctx context.Context, task string) error {
	switch task {
	case TaskSweep:
		// The stores' schedules ride the sweep's minute: a schedule due
		// now becomes a job within a minute, at no extra invocation.
		_, err := t.sweeper.Sweep(ctx)
		if t.schedules != nil {
			_, scheduleErr := t.schedules.RunDue(ctx)
			err = errors.Join(err, scheduleErr)
		}
		if t.health != nil {
			err = errors.Join(err, t.health.Check(ctx))
		}
		return err
	case TaskCleanup:
		return t.createSystemJob(ctx, dispatch.Request{Type: task})
	case TaskDailyCreditDeduction:
		// One deduction per day: a rule delivered twice finds the first job.
		day := t.dispatcher.Now().UTC().Format(time.DateOnly)
		return t.createSystemJob(ctx, dispatch.Request{
			Type: task, Payload: fmt.Appendf(nil, `{"date":%q}`, day), IdempotencyKey: task + ":" + day,
		})
	}
	return fmt.Errorf("unknown scheduled task %q", task)
}

// createSystemJob creates a system job, unless one of its type is still
// active (a slow run must not pile up behind itself).
func (t *Tasks) createSystemJob(ctx context.Context, req dispatch.Request) error {
	jobType := req.Type
	if _, ok := t.jobTypes.Lookup(jobType); !ok {
		// A deployment without, say, a credits ledger does not run its job.
		t.log.Info("scheduled system job skipped: its job type is not configured here", "type", jobType)
		return nil
	}
	req.StoreID, req.Priority, req.CreatedBy = job.PlatformStore, job.PriorityLow, "the schedule"
	j, replayed, err := t.dispatcher.Create(ctx, req)
	var active *jobtable.DuplicateError
	if errors.As(err, &active) {
		t.log.Info("scheduled system job skipped: the previous one is still active", "type", jobType, "active_job_id", active.ExistingJobID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", jobType, err)
	}
	if replayed {
		t.log.Info("scheduled system job already created today", "type", jobType, "job_id", j.ID)
		return nil
	}
	t.log.Info("scheduled system job created", "type", jobType, "job_id", j.ID)
	return nil
}
