// Package worker runs jobs. One Run is one worker invocation: it pulls job
// messages itself, most urgent queue first, and runs them one at a time
// under a lease until the queues are empty or its deadline is near.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/retry"
	"github.com/dainostore/jobs/internal/schema"
)

// Config tunes a worker. Zero values take the defaults.
type Config struct {
	// ID names this worker in logs, such as the Lambda log stream.
	ID string
	// Retry is the retry schedule.
	Retry retry.Policy
	// Lease is how long a job stays claimed without a heartbeat; a worker
	// that dies mid-job is noticed this long after its last heartbeat.
	Lease time.Duration
	// Heartbeat is how often the lease and message visibility are extended.
	Heartbeat time.Duration
	// ProgressInterval coalesces progress writes to at most one per interval.
	ProgressInterval time.Duration
	// DeadlineMargin ends a handler's context this long before the
	// invocation's deadline, leaving time to checkpoint and hand the job on.
	DeadlineMargin time.Duration
	// EmptyWait long-polls each queue this long before deciding that all are
	// empty (SQS short polls sample only some servers). 0 trusts short polls.
	EmptyWait time.Duration
	// SweepGrace is how long past a deadline (lease expiry, retry time) the
	// sweep waits before it re-enqueues a job whose message seems lost.
	SweepGrace time.Duration
	// StarvationWait bounds how long a job waits behind more urgent ones: a
	// message older than this in a less urgent queue is taken first.
	StarvationWait time.Duration
	// PausedRecheck is how long a paused job's message stays hidden before a
	// worker looks at it again.
	PausedRecheck time.Duration
	// Now is the clock.
	Now func() time.Time
	// Logger receives the worker's structured logs.
	Logger *slog.Logger
	// Metrics, when set, receives a CloudWatch Embedded Metric Format line
	// per outcome, so CloudWatch metrics and alarms need no API call.
	Metrics *emf.Writer
}

func (c Config) withDefaults() Config {
	if len(c.Retry.Delays) == 0 {
		c.Retry.Delays = retry.DefaultDelays
	}
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = c.Lease / 3
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Second
	}
	if c.DeadlineMargin == 0 {
		c.DeadlineMargin = 20 * time.Second
	}
	if c.SweepGrace == 0 {
		c.SweepGrace = c.Lease
	}
	if c.StarvationWait == 0 {
		c.StarvationWait = 2 * time.Minute
	}
	if c.PausedRecheck == 0 {
		c.PausedRecheck = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Worker runs jobs from the queues.
type Worker struct {
	jobs     *jobtable.Table
	queues   *queue.Queues
	jobTypes *jobtype.Registry
	cfg      Config
}

// New returns a worker.
func New(s *jobtable.Table, q *queue.Queues, jobTypes *jobtype.Registry, cfg Config) *Worker {
	return &Worker{jobs: s, queues: q, jobTypes: jobTypes, cfg: cfg.withDefaults()}
}

// Run is one invocation: it runs jobs until no queue holds a job it can run
// or the context's deadline is too near to start another.
func (w *Worker) Run(ctx context.Context) error {
	inv := &invocation{lastStarvationCheck: w.cfg.Now()}
	for {
		if w.tooLateToStart(ctx) {
			return nil
		}
		pauses, err := inv.pauses(ctx, w)
		if err != nil {
			return err
		}
		if pauses.All {
			// Nothing may start; resuming the queue wakes workers again.
			return nil
		}
		msg, err := w.next(ctx, inv)
		if err != nil {
			return err
		}
		if msg == nil {
			// Each job message came with a wake. An invocation that took
			// more messages than the wakes that started it left their wakes
			// behind, and one that took fewer was started by such a wake:
			// either way others are likely waiting, each of which would
			// start an invocation that finds nothing. One that took as many
			// as its wakes leaves nothing to drop, and does not look.
			if inv.handled != schema.WakeBatchSize {
				w.dropStaleWakes(ctx, inv.lookedSince)
			}
			return nil
		}
		inv.handled++
		w.handle(ctx, msg, pauses)
	}
}

// invocation is what one Run remembers between jobs.
type invocation struct {
	pausesReadAt        time.Time
	cachedPauses        jobtable.Pauses
	lastStarvationCheck time.Time
	// lookedSince is when next began its last look at the queues (wall
	// clock, as the wakes' due times are).
	lookedSince time.Time
	// handled counts the job messages taken.
	handled int
}

// pausesTTL is how long an invocation trusts the pause switches it read.
const pausesTTL = 2 * time.Second

func (inv *invocation) pauses(ctx context.Context, w *Worker) (jobtable.Pauses, error) {
	now := w.cfg.Now()
	if !inv.pausesReadAt.IsZero() && now.Sub(inv.pausesReadAt) < pausesTTL {
		return inv.cachedPauses, nil
	}
	p, err := w.jobs.Pauses(ctx)
	if err != nil {
		return jobtable.Pauses{}, err
	}
	inv.cachedPauses, inv.pausesReadAt = p, now
	return p, nil
}

func (w *Worker) tooLateToStart(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	deadline, ok := ctx.Deadline()
	// A job needs at least a moment of its own before the margin begins.
	// Deadlines are wall-clock time, whatever clock the jobs run on.
	return ok && time.Until(deadline) < w.cfg.DeadlineMargin+time.Second
}

// next takes the next job message, most urgent queue first. It hides the
// message for one lease: if this worker dies, the message comes back then.
func (w *Worker) next(ctx context.Context, inv *invocation) (*queue.Message, error) {
	if msg, err := w.starving(ctx, inv); msg != nil || err != nil {
		return msg, err
	}
	inv.lookedSince = time.Now()
	for _, p := range job.Priorities {
		msg, err := w.queues.Receive(ctx, p, w.cfg.Lease, 0)
		if err != nil || msg != nil {
			return msg, err
		}
	}
	if w.cfg.EmptyWait <= 0 {
		return nil, nil
	}
	return w.longPollAll(ctx)
}

// longPollAll long-polls every queue at once, so that concluding they are
// empty takes one EmptyWait rather than one per queue (the invocation's
// time is billed). Of the messages that arrive meanwhile the most urgent is
// taken and the others are put back at once, as polling one queue after
// the other would have left them.
func (w *Worker) longPollAll(ctx context.Context) (*queue.Message, error) {
	type answer struct {
		msg *queue.Message
		err error
	}
	answers := make([]answer, len(job.Priorities))
	var wg sync.WaitGroup
	for i, p := range job.Priorities {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg, err := w.queues.Receive(ctx, p, w.cfg.Lease, w.cfg.EmptyWait)
			answers[i] = answer{msg, err}
		}()
	}
	wg.Wait()
	var taken *queue.Message
	var errs []error
	for _, a := range answers {
		switch {
		case a.err != nil:
			errs = append(errs, a.err)
		case a.msg == nil:
		case taken == nil:
			taken = a.msg
		default:
			if err := w.queues.SetVisibility(ctx, a.msg, 0); err != nil {
				// It comes back after one lease instead.
				w.cfg.Logger.Warn("put back a less urgent message", "job_id", a.msg.JobID, "error", err)
			}
		}
	}
	if taken != nil {
		return taken, nil
	}
	return nil, errors.Join(errs...)
}

// dropStaleWakes deletes the wakes this invocation made redundant by finding
// every queue empty: each would start an invocation that finds the same.
func (w *Worker) dropStaleWakes(ctx context.Context, emptySince time.Time) {
	if emptySince.IsZero() || ctx.Err() != nil {
		return
	}
	dropped, err := w.queues.DropStaleWakes(ctx, emptySince)
	if err != nil {
		// Harmless: each wake left starts a short invocation.
		w.cfg.Logger.Warn("drop stale wakes", "error", err)
	}
	if dropped > 0 {
		w.cfg.Logger.Debug("dropped wakes the empty queues made redundant", "wakes", dropped)
	}
}

// starving is the starvation guard. A few times per StarvationWait it looks
// at the head of each less urgent queue, least urgent first, and takes a
// message that has waited longer than StarvationWait; a younger one goes
// back at once. So under a steady stream of urgent jobs a low job still
// starts within about StarvationWait and a quarter.
func (w *Worker) starving(ctx context.Context, inv *invocation) (*queue.Message, error) {
	now := w.cfg.Now()
	if now.Sub(inv.lastStarvationCheck) < w.cfg.StarvationWait/4 {
		return nil, nil
	}
	inv.lastStarvationCheck = now
	for i := len(job.Priorities) - 1; i > 0; i-- {
		msg, err := w.queues.Receive(ctx, job.Priorities[i], w.cfg.Lease, 0)
		if err != nil {
			return nil, err
		}
		if msg == nil {
			continue
		}
		if !msg.SentAt.IsZero() && now.Sub(msg.SentAt) >= w.cfg.StarvationWait {
			w.cfg.Logger.Info("starvation guard takes a long-waiting job first", "job_id", msg.JobID, "priority", msg.Priority.String(), "waited", now.Sub(msg.SentAt).Round(time.Second).String())
			return msg, nil
		}
		if err := w.queues.SetVisibility(ctx, msg, 0); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// handle decides what a received message means for its job and acts on it.
// Whatever fails here leaves the message in its queue: it comes back after
// its visibility timeout, so a fault can delay a job but never lose it.
func (w *Worker) handle(ctx context.Context, msg *queue.Message, pauses jobtable.Pauses) {
	log := w.cfg.Logger.With("worker", w.cfg.ID, "job_id", msg.JobID, "priority", msg.Priority.String())
	if msg.JobID == "" {
		log.Warn("dead-lettering a message that is not a job message", "body", msg.Body)
		w.deadLetter(ctx, log, msg, "unparseable message")
		return
	}
	j, err := w.jobs.Get(ctx, msg.JobID)
	if errors.Is(err, jobtable.ErrNotFound) {
		log.Warn("dead-lettering a message of an unknown job")
		w.deadLetter(ctx, log, msg, "unknown job")
		return
	}
	if err != nil {
		log.Error("read job", "error", err)
		return
	}
	log = log.With("store_id", j.StoreID, "type", j.Type)
	entry, ok := w.jobTypes.Lookup(j.Type)
	if !ok {
		log.Error("dead-lettering a message of a job type with no handler")
		w.deadLetter(ctx, log, msg, "no handler for job type "+j.Type)
		return
	}
	now := w.cfg.Now()
	switch {
	case j.Status.Terminal():
		// A duplicate message, or one whose delete failed: the job is done.
		w.deleteMessage(ctx, log, msg)
		return
	case j.Status == job.StatusRetrying && j.NextAttemptAt != nil && j.NextAttemptAt.After(now):
		// Visible too early (its visibility change failed): wait the rest.
		w.setVisibility(ctx, log, msg, j.NextAttemptAt.Sub(now))
		return
	case j.Status == job.StatusRunning && j.LeaseToken != "" && j.LeaseExpiresAt.After(now):
		// Another worker holds the job: this is a duplicate message. Look
		// again once that lease could have expired.
		w.setVisibility(ctx, log, msg, j.LeaseExpiresAt.Sub(now)+time.Second)
		return
	case j.Status == job.StatusRunning && j.LeaseToken != "" && j.CancelRequested:
		// Its worker died after a user asked to cancel it.
		w.finish(ctx, log, j, msg, jobtable.Outcome{
			Status:   job.StatusCancelled,
			Progress: jobtable.Progress{Percent: j.Progress, Message: j.ProgressMessage},
			Error:    "cancelled by request",
			Event:    w.event("cancelled", j.Attempts, "cancelled by request; its worker had stopped responding"),
		})
		return
	case j.Status == job.StatusRunning && j.LeaseToken != "" && j.Attempts >= w.cfg.Retry.MaxAttempts():
		// Its worker died during the last attempt.
		const lost = "the worker running this job stopped responding (lease expired) on the last attempt"
		w.finish(ctx, log, j, msg, jobtable.Outcome{
			Status:   job.StatusFailed,
			Progress: jobtable.Progress{Percent: j.Progress, Message: j.ProgressMessage},
			Error:    lost,
			Failure:  &jobtable.Failure{Kind: "lost_worker", Message: lost},
			Event:    w.failEvent("failed", j.Attempts, "failed: %s", lost),
		})
		return
	}
	if pauses.Paused(j.Type) {
		w.setVisibility(ctx, log, msg, w.cfg.PausedRecheck)
		return
	}
	if j.Status == job.StatusRunning && j.LeaseToken != "" {
		log.Warn("taking over a job whose worker stopped responding", "attempt", j.Attempts)
	}
	lease := jobtable.Lease{Token: newToken(), ExpiresAt: now.Add(w.cfg.Lease)}
	claimed, err := w.jobs.Claim(ctx, j, lease, w.cfg.SweepGrace, w.claimEvent(j))
	if errors.Is(err, jobtable.ErrStale) {
		// Another worker claimed it from a duplicate message in between.
		w.setVisibility(ctx, log, msg, w.cfg.Lease)
		return
	}
	if err != nil {
		log.Error("claim job", "error", err)
		return
	}
	w.run(ctx, log.With("attempt", claimed.Attempts), claimed, entry, msg)
}

func (w *Worker) deadLetter(ctx context.Context, log *slog.Logger, msg *queue.Message, reason string) {
	if err := w.queues.DeadLetter(ctx, msg, reason); err != nil {
		log.Error("dead-letter message", "error", err)
	}
}

func (w *Worker) deleteMessage(ctx context.Context, log *slog.Logger, msg *queue.Message) {
	if err := w.queues.Delete(ctx, msg); err != nil {
		log.Error("delete message", "error", err)
	}
}

func (w *Worker) setVisibility(ctx context.Context, log *slog.Logger, msg *queue.Message, d time.Duration) {
	if err := w.queues.SetVisibility(ctx, msg, d); err != nil {
		log.Error("change message visibility", "error", err)
	}
}

// event is a lifecycle log line written by this worker.
func (w *Worker) event(name string, attempt int, format string, args ...any) jobtable.LogEntry {
	e := jobtable.Event(w.cfg.Now(), name, attempt, format, args...)
	e.Worker = w.cfg.ID
	return e
}

// failEvent is a lifecycle line at warning level: something went wrong.
func (w *Worker) failEvent(name string, attempt int, format string, args ...any) jobtable.LogEntry {
	e := w.event(name, attempt, format, args...)
	e.Level = "warn"
	return e
}

// claimEvent tells how a claim continues the job's story.
func (w *Worker) claimEvent(j *job.Job) jobtable.LogEntry {
	attempt := j.Attempts + 1
	var how string
	switch {
	case j.Continuation:
		return w.event("continued", j.Attempts, "continued in a fresh invocation from its checkpoint at %d%% (attempt %d)", j.Progress, j.Attempts)
	case j.Status == job.StatusRunning:
		how = "taken over from a worker that stopped responding (its lease expired)"
	case j.Status == job.StatusRetrying:
		how = "claimed for its retry"
	default:
		how = "claimed"
	}
	if j.Checkpoint != nil {
		return w.event("resumed", attempt, "%s; attempt %d of %d resumes from its checkpoint at %d%%", how, attempt, w.cfg.Retry.MaxAttempts(), j.Progress)
	}
	return w.event("claimed", attempt, "%s; attempt %d of %d starts", how, attempt, w.cfg.Retry.MaxAttempts())
}
