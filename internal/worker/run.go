package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/queue"
)

// Why a handler's context ended.
var (
	errCancelRequested = errors.New("cancel requested")
	errLeaseLost       = errors.New("lease lost")
	errDeadline        = errors.New("invocation deadline near")
)

// outcomeTimeout bounds the writes that record how a run ended.
const outcomeTimeout = 15 * time.Second

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// run executes a claimed job's handler and records how it ended. It reports
// whether it handed the job on to a fresh invocation.
func (w *Worker) run(ctx context.Context, log *slog.Logger, j *job.Job, entry *jobtype.Entry, msg *queue.Message) (handedOn bool) {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if deadline, ok := ctx.Deadline(); ok {
		var cancelDeadline context.CancelFunc
		runCtx, cancelDeadline = context.WithDeadlineCause(runCtx, deadline.Add(-w.cfg.DeadlineMargin), errDeadline)
		defer cancelDeadline()
	}
	rt := newRuntime(w, log, j, entry.Secrets.Values(j.Payload), cancel)
	log.Info("job started", "resumed_from_checkpoint", j.Checkpoint != nil)

	stopKeeper := rt.keepAlive(ctx, msg)
	result, err := callHandler(runCtx, entry, rt)
	stopKeeper()

	// The outcome is written even if the invocation is ending right now,
	// after the handler's last log lines.
	ctx, cancelOutcome := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancelOutcome()
	rt.flushLogs(ctx)

	progress := rt.snapshot()
	cause := context.Cause(runCtx)
	policy := w.policy(j)
	switch {
	case err == nil:
		// Finished, even if the keeper gave the lease up meanwhile: the
		// outcome is fenced on the lease, so it is written only if no other
		// worker has taken the job over, and the work is not done twice.
		progress.Percent = 100
		_ = w.finish(ctx, log, j, msg, jobtable.Outcome{Status: job.StatusCompleted, Progress: progress, Result: result,
			Event: w.event("completed", j.Attempts, "completed on attempt %d", j.Attempts)})
	case errors.Is(cause, errLeaseLost) || errors.Is(err, jobtable.ErrStale):
		// Another worker may own the job now; anything written would be fenced off.
		log.Warn("stopped a job whose lease was lost")
	case errors.Is(cause, errCancelRequested) || isCancelled(err):
		reason := rt.scrub(cancelReason(err))
		_ = w.finish(ctx, log, j, msg, jobtable.Outcome{Status: job.StatusCancelled, Progress: progress, Error: reason,
			Event: w.event("cancelled", j.Attempts, "%s at %d%%", reason, progress.Percent)})
	case jobtype.IsContextEnd(err) && (errors.Is(cause, errDeadline) || errors.Is(cause, context.Canceled)),
		errors.Is(err, jobtype.ErrContinueLater):
		// The invocation is ending (its deadline is near, or the process is
		// shutting down): hand the job on without using up an attempt.
		w.continueLater(ctx, log, j, msg, progress)
		return true
	default:
		// A handler's error may quote its payload: never its credentials.
		message := rt.scrub(err.Error())
		decision := policy.Decide(j.Attempts, err)
		if !decision.Retry {
			log.Warn("job failed", "error", message)
			_ = w.finish(ctx, log, j, msg, jobtable.Outcome{Status: job.StatusFailed, Progress: progress, Error: message, Result: result,
				Failure: &jobtable.Failure{Kind: failureKind(err), Message: message},
				Event:   w.failEvent("failed", j.Attempts, "attempt %d of %d failed for good: %s", j.Attempts, policy.MaxAttempts(), message)})
			return false
		}
		next := w.cfg.Clock.Now().Add(decision.Delay)
		log.Warn("job attempt failed, retry scheduled", "error", message, "delay", decision.Delay.String())
		if w.record(ctx, log, j, jobtable.Outcome{Status: job.StatusRetrying, Progress: progress, Error: message, NextAttemptAt: next, SweepGrace: w.cfg.SweepGrace,
			Failure: &jobtable.Failure{Kind: failureKind(err), Message: message},
			Event:   w.failEvent("retry_scheduled", j.Attempts, "attempt %d failed: %s; retry in %s, at %s", j.Attempts, message, decision.Delay, job.NewTime(next))}) != nil {
			return false
		}
		w.emitMetrics(log, j, job.StatusRetrying)
		// The same message carries the retry: hidden until the next attempt.
		w.setVisibility(ctx, log, msg, decision.Delay)
		if err := w.queues.Wake(ctx, decision.Delay); err != nil {
			log.Error("schedule wake for retry", "error", err)
		}
	}
	return false
}

// callHandler runs the handler, turning a panic into a failed attempt.
func callHandler(ctx context.Context, entry *jobtype.Entry, rt *jobRuntime) (result []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			rt.log.Error("handler panicked", "panic", rt.scrub(fmt.Sprint(r)), "stack", string(debug.Stack()))
			err = panicError{fmt.Sprint(r)}
		}
	}()
	return entry.Run(ctx, rt, rt.job.Payload)
}

// panicError is a handler's panic, turned into a failed attempt.
type panicError struct{ value string }

func (e panicError) Error() string { return "handler panicked: " + e.value }

// failureKind names the kind of a failed attempt, for failure groups.
func failureKind(err error) string {
	var permanent *jobtype.PermanentError
	var limited *jobtype.RateLimitedError
	var panicked panicError
	switch {
	case errors.As(err, &permanent):
		if permanent.Kind != "" {
			return permanent.Kind
		}
		return "permanent"
	case errors.As(err, &limited):
		return "rate_limited"
	case errors.As(err, &panicked):
		return "panic"
	}
	return "error"
}

func isCancelled(err error) bool {
	var c *jobtype.CancelledError
	return errors.As(err, &c)
}

func cancelReason(err error) string {
	if isCancelled(err) {
		return err.Error()
	}
	return "cancelled by request"
}

// finish records a final outcome and deletes the job's message. ErrStale
// means the job changed meanwhile and nothing was written.
func (w *Worker) finish(ctx context.Context, log *slog.Logger, j *job.Job, msg *queue.Message, o jobtable.Outcome) error {
	if err := w.record(ctx, log, j, o); err != nil {
		return err
	}
	w.emitMetrics(log, j, o.Status)
	log.Info("job finished", "status", string(o.Status))
	w.deleteMessage(ctx, log, msg)
	return nil
}

// record writes an outcome. The SDK's retryer has already tried again what
// heals by trying again; if it still fails, the message stays and the job
// is run again from its checkpoint once the lease expires.
func (w *Worker) record(ctx context.Context, log *slog.Logger, j *job.Job, o jobtable.Outcome) error {
	err := w.jobs.Finish(ctx, j, o)
	switch {
	case errors.Is(err, jobtable.ErrStale):
		log.Warn("outcome not recorded: the job changed meanwhile", "status", string(o.Status))
	case err != nil:
		log.Error("record job outcome", "status", string(o.Status), "error", err)
	}
	return err
}

// continueLater hands the job to a fresh invocation: same attempt, from its
// last checkpoint. The new message is sent before the old one is deleted, so
// a crash in between leaves a duplicate (harmless), never no message.
func (w *Worker) continueLater(ctx context.Context, log *slog.Logger, j *job.Job, msg *queue.Message, p jobtable.Progress) {
	event := w.event("handed_on", j.Attempts, "handed on to a fresh invocation at %d%% (the invocation is ending)", p.Percent)
	if err := w.jobs.Release(ctx, j, p, w.cfg.SweepGrace, event); err != nil {
		log.Error("release job for continuation", "error", err)
		return
	}
	log.Info("job continues in a fresh invocation", "progress", p.Percent)
	if err := w.queues.Enqueue(ctx, j); err != nil {
		// The old message reappears after its visibility timeout instead.
		log.Error("enqueue continuation", "error", err)
		return
	}
	w.deleteMessage(ctx, log, msg)
	if err := w.queues.Wake(ctx, 0); err != nil {
		log.Error("wake for continuation", "error", err)
	}
}

// metricNames are the EMF counters of each outcome.
var metricNames = map[job.Status]string{
	job.StatusCompleted: "JobsCompleted",
	job.StatusFailed:    "JobsFailed",
	job.StatusCancelled: "JobsCancelled",
	job.StatusRetrying:  "JobsRetried",
}

// emitMetrics writes the outcome's EMF line, by job type and priority: a
// count, how long the job has run since it first started, and with its
// final outcome how long it waited in the queue before that.
func (w *Worker) emitMetrics(log *slog.Logger, j *job.Job, status job.Status) {
	if w.cfg.Metrics == nil {
		return
	}
	now := w.cfg.Clock.Now()
	metrics := []emf.Metric{{Name: metricNames[status], Unit: emf.Count, Value: 1}}
	if j.StartedAt != nil {
		metrics = append(metrics, emf.Metric{Name: "Duration", Unit: emf.Milliseconds, Value: float64(now.Sub(j.StartedAt.Time).Milliseconds())})
		if status.Terminal() {
			metrics = append(metrics, emf.Metric{Name: "QueueWait", Unit: emf.Milliseconds, Value: float64(j.StartedAt.Sub(j.CreatedAt.Time).Milliseconds())})
		}
	}
	dimensions := map[string]string{"JobType": j.Type, "Priority": j.Priority.String()}
	properties := map[string]any{"job_id": j.ID, "store_id": j.StoreID, "attempt": j.Attempts}
	if err := w.cfg.Metrics.Emit(now, dimensions, metrics, properties); err != nil {
		log.Warn("emit metrics", "error", err)
	}
}
