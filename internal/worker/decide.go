package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/retry"
)

// action is what a received message means for its job.
type action int

const (
	// actionClaim claims the job and runs it.
	actionClaim action = iota
	// actionDelete deletes the message: the job needs nothing from it (it
	// ended, a live worker holds it with its own message, it is parked).
	actionDelete
	// actionWait hides the message until the job is due.
	actionWait
	// actionPark parks the job while its type is paused, and deletes the
	// message.
	actionPark
	// actionFailUnknownType fails a job no handler of whose type runs here.
	actionFailUnknownType
	// actionCancelAbandoned ends cancelled a job whose worker stopped
	// responding after a cancel request.
	actionCancelAbandoned
	// actionFailAbandoned fails a job whose worker stopped responding on
	// its last attempt.
	actionFailAbandoned
)

var actionNames = map[action]string{
	actionClaim: "claim", actionDelete: "delete", actionWait: "wait", actionPark: "park",
	actionFailUnknownType: "fail_unknown_type", actionCancelAbandoned: "cancel_abandoned", actionFailAbandoned: "fail_abandoned",
}

func (a action) String() string { return actionNames[a] }

// decision is an action, and for actionWait how long.
type decision struct {
	action action
	wait   time.Duration
}

// decide is the worker's decision table: what to do with a message of the
// job as read, at now. A message never makes the worker wait for a job
// indefinitely: every receive counts towards the queue's dead-letter
// redrive, so a job that cannot run for a while (paused) gives its message
// up and waits in the job table instead.
func (w *Worker) decide(j *job.Job, registered bool, pauses jobtable.Pauses, now time.Time) decision {
	liveLease := j.Status == job.StatusRunning && j.LeaseToken != "" && j.LeaseExpiresAt.After(now)
	abandoned := j.Status == job.StatusRunning && j.LeaseToken != "" && !liveLease
	switch {
	case j.Status.Terminal():
		// A duplicate message, or one whose delete failed: the job is done.
		return decision{action: actionDelete}
	case liveLease:
		// A duplicate: the worker holding the job has its own message, and
		// the job's due entry brings it back should that worker vanish.
		return decision{action: actionDelete}
	case j.Status == job.StatusRetrying && j.NextAttemptAt != nil && j.NextAttemptAt.After(now):
		// Visible too early (its visibility change failed): wait the rest.
		return decision{action: actionWait, wait: j.NextAttemptAt.Sub(now)}
	case j.Status == job.StatusPending && j.RunAt != nil && j.RunAt.After(now):
		// Delayed, and visible too early (a copy the sweep sent): hide it
		// until the start, or leave the job to the due index if that is
		// further off than a message may be delayed.
		if until := j.RunAt.Sub(now); until <= jobtable.ScheduleLead {
			return decision{action: actionWait, wait: until}
		}
		return decision{action: actionDelete}
	case j.PausedAt != nil:
		// Parked, and this is a stray copy of its old message: the sweep
		// enqueues the job again when its pause ends.
		return decision{action: actionDelete}
	case !registered:
		return decision{action: actionFailUnknownType}
	case abandoned && j.CancelRequested:
		return decision{action: actionCancelAbandoned}
	case abandoned && j.Attempts >= w.policy(j).MaxAttempts():
		return decision{action: actionFailAbandoned}
	case pauses.Paused(j.Type):
		return decision{action: actionPark}
	}
	// Pending, retrying and due, handed on for a continuation, or abandoned
	// with attempts left (taken over as a new attempt).
	return decision{action: actionClaim}
}

// policy is the retry schedule a job was created with; a job saved before
// jobs kept theirs follows the configuration's.
func (w *Worker) policy(j *job.Job) retry.Policy {
	if len(j.RetryDelays) > 0 {
		return retry.Policy{Delays: j.RetryDelays}
	}
	return w.cfg.Retry
}

// staleReads bounds how often handle reads a job again that changed
// between its read and the write its decision made.
const staleReads = 3

// handle decides what a received message means for its job and acts on it,
// and reports whether it handed a job on to a fresh invocation. Whatever
// fails here leaves the message in its queue: it comes back after its
// visibility timeout, so a fault can delay a job but never lose it.
func (w *Worker) handle(ctx context.Context, msg *queue.Message, pauses jobtable.Pauses) (handedOn bool) {
	log := w.cfg.Logger.With("worker", w.cfg.ID, "job_id", msg.JobID, "priority", msg.Priority.String())
	if msg.JobID == "" {
		log.Warn("dead-lettering a message that is not a job message", "body", msg.Body)
		w.deadLetter(ctx, log, msg, "unparseable message")
		return false
	}
	for range staleReads {
		j, err := w.jobs.Get(ctx, msg.JobID)
		if errors.Is(err, jobtable.ErrNotFound) {
			log.Warn("dead-lettering a message of an unknown job")
			w.deadLetter(ctx, log, msg, "unknown job")
			return false
		}
		if err != nil {
			log.Error("read job", "error", err)
			return false
		}
		jobLog := log.With("store_id", j.StoreID, "type", j.Type)
		entry, registered := w.jobTypes.Lookup(j.Type)
		d := w.decide(j, registered, pauses, w.cfg.Clock.Now())
		handedOn, err := w.act(ctx, jobLog, d, j, entry, msg)
		if !errors.Is(err, jobtable.ErrStale) {
			return handedOn
		}
		// The job changed since it was read (a duplicate message's worker
		// claimed it, a user cancelled it): decide again on what it is now.
		jobLog.Debug("job changed meanwhile; reading it again", "action", d.action.String())
	}
	// Still changing: the message comes back after its visibility timeout.
	return false
}

// act carries out a decision, and reports whether it handed the job on to
// a fresh invocation. ErrStale means the job changed since it was read and
// nothing was written.
func (w *Worker) act(ctx context.Context, log *slog.Logger, d decision, j *job.Job, entry *jobtype.Entry, msg *queue.Message) (handedOn bool, err error) {
	switch d.action {
	case actionDelete:
		w.deleteMessage(ctx, log, msg)
	case actionWait:
		w.setVisibility(ctx, log, msg, d.wait)
	case actionPark:
		event := w.event("paused", j.Attempts, "set aside: %s jobs are paused; it goes on when they are resumed", j.Type)
		if err := w.jobs.Park(ctx, j, event); err != nil {
			if !errors.Is(err, jobtable.ErrStale) {
				log.Error("park a job of a paused type", "error", err)
			}
			return false, err
		}
		log.Info("job set aside while its type is paused")
		w.deleteMessage(ctx, log, msg)
	case actionFailUnknownType:
		message := fmt.Sprintf("no handler for job type %q runs in this deployment, so the job cannot run; retry it once the type is deployed again", j.Type)
		log.Error("failing a job whose type has no handler here")
		return false, w.end(ctx, log, j, msg, job.StatusFailed, "unknown_type", message, w.failEvent("failed", j.Attempts, "failed: %s", message))
	case actionCancelAbandoned:
		return false, w.end(ctx, log, j, msg, job.StatusCancelled, "", "cancelled by request",
			w.event("cancelled", j.Attempts, "cancelled by request; its worker had stopped responding"))
	case actionFailAbandoned:
		const lost = "the worker running this job stopped responding (lease expired) on the last attempt"
		return false, w.end(ctx, log, j, msg, job.StatusFailed, "lost_worker", lost, w.failEvent("failed", j.Attempts, "failed: %s", lost))
	case actionClaim:
		if j.Status == job.StatusRunning && j.LeaseToken != "" {
			log.Warn("taking over a job whose worker stopped responding", "attempt", j.Attempts)
		}
		lease := jobtable.Lease{Token: newToken(), ExpiresAt: w.cfg.Clock.Now().Add(w.cfg.Lease)}
		claimed, err := w.jobs.Claim(ctx, j, lease, w.cfg.SweepGrace, w.claimEvent(j))
		if err != nil {
			if !errors.Is(err, jobtable.ErrStale) {
				log.Error("claim job", "error", err)
			}
			return false, err
		}
		return w.run(ctx, log.With("attempt", claimed.Attempts), claimed, entry, msg), nil
	}
	return false, nil
}

// end ends a job that no handler is running, where it stands, with a
// reason and, for a failure, its kind.
func (w *Worker) end(ctx context.Context, log *slog.Logger, j *job.Job, msg *queue.Message, status job.Status, failureKind, reason string, event jobtable.LogEntry) error {
	o := jobtable.Outcome{Status: status, Progress: jobtable.Progress{Percent: j.Progress, Message: j.ProgressMessage}, Error: reason, Event: event}
	if failureKind != "" {
		o.Failure = &jobtable.Failure{Kind: failureKind, Message: reason}
	}
	return w.finish(ctx, log, j, msg, o)
}
