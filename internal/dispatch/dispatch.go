// Package dispatch creates jobs and hands them to the queues. DynamoDB is
// written first and is the source of truth; the SQS message and the wake
// that follow are best effort, because a job whose enqueue failed is found
// by the sweep and dispatched again.
package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/retry"
)

// Dispatcher creates and enqueues jobs.
type Dispatcher struct {
	jobs   *jobtable.Table
	queues *queue.Queues
	// retry is the schedule every new job is created with and keeps.
	retry retry.Policy
	log   *slog.Logger
}

// New returns a Dispatcher.
func New(jobs *jobtable.Table, q *queue.Queues, policy retry.Policy, log *slog.Logger) *Dispatcher {
	return &Dispatcher{jobs: jobs, queues: q, retry: policy, log: log}
}

// Request is a new job to create.
type Request struct {
	StoreID        string
	Type           string
	Priority       job.Priority
	Payload        json.RawMessage
	IdempotencyKey string
	RequestHash    string
	// CreatedBy names who asked, for the job's log.
	CreatedBy string
	// RunAt, when set, delays the job: it is pending until then.
	RunAt *time.Time
}

// Create saves the job and enqueues it. It returns the job and whether the
// request was an idempotent replay of an earlier one.
func (d *Dispatcher) Create(ctx context.Context, req Request) (*job.Job, bool, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, false, fmt.Errorf("new job id: %w", err)
	}
	if req.Priority == 0 {
		req.Priority = job.PriorityNormal
	}
	if len(req.Payload) == 0 {
		req.Payload = json.RawMessage("{}")
	}
	j := &job.Job{
		ID: id.String(), StoreID: req.StoreID, Type: req.Type,
		Status: job.StatusPending, Priority: req.Priority, PriorityLevel: int(req.Priority),
		Payload: req.Payload, MaxAttempts: d.retry.MaxAttempts(), RetryDelays: d.retry.Delays,
		CreatedAt: job.NewTime(d.jobs.Now()),
	}
	if req.CreatedBy == "" {
		req.CreatedBy = "the platform"
	}
	event := jobtable.Event(j.CreatedAt.Time, "created", 0, "created by %s with %s priority", req.CreatedBy, j.Priority)
	if req.RunAt != nil && req.RunAt.After(j.CreatedAt.Time) {
		// It competes with the jobs ready to run from its start time on.
		j.RunAt, j.ReadyAt = job.TimePtr(*req.RunAt), job.TimePtr(*req.RunAt)
		event = jobtable.Event(j.CreatedAt.Time, "created", 0, "created by %s with %s priority, to start at %s",
			req.CreatedBy, j.Priority, j.RunAt.Format(time.RFC3339))
	}
	created, replayed, err := d.jobs.Create(ctx, jobtable.CreateRequest{Job: j, IdempotencyKey: req.IdempotencyKey, RequestHash: req.RequestHash, Event: event})
	if err != nil || replayed {
		return created, replayed, err
	}
	if created.RunAt != nil && created.RunAt.Sub(d.jobs.Now()) > jobtable.ScheduleLead {
		// Too far off for a delayed message: the sweep enqueues it when
		// its time comes near.
		return created, false, nil
	}
	// The job is saved: a failed enqueue is the sweep's to repair.
	_ = d.Dispatch(ctx, created)
	return created, false, nil
}

// afterCommitTimeout bounds the enqueue and wake that follow a saved job.
const afterCommitTimeout = 10 * time.Second

// Dispatch enqueues a saved job and wakes a worker. The job is saved
// whatever happens here: until its message is sent it stays due, and the
// sweep enqueues it; the error says the enqueue failed. The work runs
// detached from ctx's cancellation: a caller that goes away right after the
// commit (a client that disconnects) must not delay the job by a sweep.
func (d *Dispatcher) Dispatch(ctx context.Context, j *job.Job) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), afterCommitTimeout)
	defer cancel()
	log := d.log.With("job_id", j.ID, "store_id", j.StoreID, "type", j.Type)
	if err := d.queues.Enqueue(ctx, j); err != nil {
		log.Error("enqueue failed; the sweep will enqueue the job again", "error", err)
		return err
	}
	if err := d.jobs.MarkEnqueued(ctx, j); err != nil {
		// Harmless: the sweep enqueues a duplicate, which workers ignore.
		log.Warn("mark job enqueued", "error", err)
	}
	var wait time.Duration
	if j.RunAt != nil {
		wait = j.RunAt.Sub(d.jobs.Now()) // a worker wakes when the job may start
	}
	if err := d.queues.Wake(ctx, wait); err != nil {
		// The sweep wakes workers while queues hold messages.
		log.Warn("wake workers", "error", err)
	}
	return nil
}

// Now is the dispatcher's clock.
func (d *Dispatcher) Now() time.Time { return d.jobs.Now() }
