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

	"github.com/dainostore/jobs/internal/clock"
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
	// job of a less urgent queue ready for longer than this is taken first.
	StarvationWait time.Duration
	// Clock is the time the worker decides by and its keeper ticks on.
	Clock clock.Clock
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
	if c.Clock == nil {
		c.Clock = clock.Real
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// JobTable is what the worker reads and writes of the job table.
type JobTable interface {
	Get(ctx context.Context, id string) (*job.Job, error)
	Pauses(ctx context.Context) (jobtable.Pauses, error)
	Claim(ctx context.Context, j *job.Job, lease jobtable.Lease, sweepGrace time.Duration, event jobtable.LogEntry) (*job.Job, error)
	SaveProgress(ctx context.Context, id string, lease jobtable.Lease, p jobtable.Progress, sweepGrace time.Duration) (cancelRequested bool, err error)
	AppendLogs(ctx context.Context, jobID string, entries []jobtable.LogEntry) (written int, err error)
	Finish(ctx context.Context, j *job.Job, o jobtable.Outcome) error
	Release(ctx context.Context, j *job.Job, p jobtable.Progress, sweepGrace time.Duration, event jobtable.LogEntry) error
	Park(ctx context.Context, j *job.Job, event jobtable.LogEntry) error
}

// Queues is what the worker does with the job queues and the wake queue.
type Queues interface {
	Receive(ctx context.Context, p job.Priority, visibility, wait time.Duration) (*queue.Message, error)
	Delete(ctx context.Context, m *queue.Message) error
	SetVisibility(ctx context.Context, m *queue.Message, d time.Duration) error
	DeadLetter(ctx context.Context, m *queue.Message, reason string) error
	Enqueue(ctx context.Context, j *job.Job) error
	Wake(ctx context.Context, delay time.Duration) error
	DropStaleWakes(ctx context.Context, emptySince time.Time) (int, error)
}

var (
	_ JobTable = (*jobtable.Table)(nil)
	_ Queues   = (*queue.Queues)(nil)
)

// Worker runs jobs from the queues.
type Worker struct {
	jobs     JobTable
	queues   Queues
	jobTypes *jobtype.Registry
	cfg      Config
}

// New returns a worker.
func New(jobs JobTable, q Queues, jobTypes *jobtype.Registry, cfg Config) *Worker {
	return &Worker{jobs: jobs, queues: q, jobTypes: jobTypes, cfg: cfg.withDefaults()}
}

// Run is one invocation: it runs jobs until no queue holds a job it can run
// or the context's deadline is too near to start another.
func (w *Worker) Run(ctx context.Context) error {
	inv := &invocation{lastStarvationCheck: w.cfg.Clock.Now()}
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
		if handedOn := w.handle(ctx, msg, pauses); handedOn {
			// The job goes on in a fresh invocation, which its wake starts;
			// this one is ending (or was asked to make way).
			return nil
		}
	}
}

// invocation is what one Run remembers between jobs.
type invocation struct {
	pausesReadAt        time.Time
	cachedPauses        jobtable.Pauses
	lastStarvationCheck time.Time
	// lookedSince is when next began its last look at the queues.
	lookedSince time.Time
	// handled counts the job messages taken.
	handled int
}

// pausesTTL is how long an invocation trusts the pause switches it read.
const pausesTTL = 2 * time.Second

func (inv *invocation) pauses(ctx context.Context, w *Worker) (jobtable.Pauses, error) {
	now := w.cfg.Clock.Now()
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
	inv.lookedSince = w.cfg.Clock.Now()
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
// message whose job has been ready to run for longer than StarvationWait;
// a job ready for less goes back at once. So under a steady stream of
// urgent jobs a low job still starts within about StarvationWait and a
// quarter of becoming ready.
func (w *Worker) starving(ctx context.Context, inv *invocation) (*queue.Message, error) {
	now := w.cfg.Clock.Now()
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
		if waited, long := w.waitedLong(ctx, msg, now); long {
			w.cfg.Logger.Info("starvation guard takes a long-waiting job first", "job_id", msg.JobID, "priority", msg.Priority.String(), "waited", waited.Round(time.Second).String())
			return msg, nil
		}
		if err := w.queues.SetVisibility(ctx, msg, 0); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// waitedLong tells how long a message's job has been ready to run, and
// whether that is longer than StarvationWait. A message keeps the time it
// was sent through retries, pauses and duplicates, so the wait is read
// from the job; only for a message sent longer ago than the wait, to spare
// the read otherwise (a message sent after its job became ready, as a
// re-sent one is, is looked at later, never earlier). A message whose job
// cannot be read is taken: handling it sorts it out.
func (w *Worker) waitedLong(ctx context.Context, msg *queue.Message, now time.Time) (time.Duration, bool) {
	if msg.SentAt.IsZero() || now.Sub(msg.SentAt) < w.cfg.StarvationWait {
		return 0, false
	}
	if msg.JobID == "" {
		return now.Sub(msg.SentAt), true
	}
	j, err := w.jobs.Get(ctx, msg.JobID)
	if err != nil {
		return now.Sub(msg.SentAt), true
	}
	waited := now.Sub(readySince(j))
	return waited, waited >= w.cfg.StarvationWait
}

// readySince is when a job last became ready to run.
func readySince(j *job.Job) time.Time {
	switch {
	case j.Status == job.StatusRunning && j.LeaseToken != "":
		return j.LeaseExpiresAt // its worker stopped responding then
	case j.ReadyAt != nil:
		return j.ReadyAt.Time
	}
	return j.CreatedAt.Time
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
	e := jobtable.Event(w.cfg.Clock.Now(), name, attempt, format, args...)
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
	attempt, maxAttempts := j.Attempts+1, w.policy(j).MaxAttempts()
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
		return w.event("resumed", attempt, "%s; attempt %d of %d resumes from its checkpoint at %d%%", how, attempt, maxAttempts, j.Progress)
	}
	return w.event("claimed", attempt, "%s; attempt %d of %d starts", how, attempt, maxAttempts)
}
