package schedule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
)

// Creator creates jobs: the dispatcher.
type Creator interface {
	Create(ctx context.Context, req dispatch.Request) (*job.Job, bool, error)
}

// JobReader reads jobs: the job table. It answers jobtable.ErrNotFound for
// a job that is gone.
type JobReader interface {
	Get(ctx context.Context, id string) (*job.Job, error)
}

var (
	_ Creator   = (*dispatch.Dispatcher)(nil)
	_ JobReader = (*jobtable.Table)(nil)
)

// Lead is how long before its due time a run's job is created, delayed to
// that time (a delayed job's message waits in SQS): the sweep that comes
// within Lead before the due time creates it, so it starts on time rather
// than up to a sweep's minute late. Shorter than the minute between two
// sweeps, so a sweep never reaches the due time after next, and the
// previous run is checked as close to the due time as a sweep comes.
const Lead = 55 * time.Second

// DefaultMaxFailures is how many runs in a row may fail before a schedule
// pauses itself, unless the runner is told otherwise.
const DefaultMaxFailures = 3

const (
	// maxDuePerRun bounds one RunDue's work; the next sweep takes the rest.
	maxDuePerRun = 100
	// missedCountLimit bounds how many missed due times are counted after an
	// outage; a message says "more than" past it.
	missedCountLimit = 1000
	// maxErrorInReason bounds how much of a failed job's error the paused
	// reason quotes.
	maxErrorInReason = 500
)

// Runner creates the jobs of due schedules.
type Runner struct {
	store       *Store
	creator     Creator
	jobs        JobReader
	maxFailures int
	log         *slog.Logger
}

// NewRunner returns a Runner. maxFailures is how many failed runs in a row
// pause a schedule (DefaultMaxFailures if 0 or less).
func NewRunner(store *Store, creator Creator, jobs JobReader, maxFailures int, log *slog.Logger) *Runner {
	if maxFailures <= 0 {
		maxFailures = DefaultMaxFailures
	}
	return &Runner{store: store, creator: creator, jobs: jobs, maxFailures: maxFailures, log: log}
}

// Report says what a RunDue did.
type Report struct {
	Started  int // jobs created, caught-up runs included
	CaughtUp int // of which for the latest of several missed due times
	Skipped  int // due times passed over: the store's job of the type was still active
	Paused   int // schedules that paused themselves after failed runs
}

// RunDue handles the schedules that are due, up to a bound per call. A
// schedule whose job could not be created (a DynamoDB or SQS fault) stays
// due for the next call; its error is returned, joined with the others',
// after every other schedule has been handled.
func (r *Runner) RunDue(ctx context.Context) (Report, error) {
	now := r.store.Now()
	keys, err := r.store.Due(ctx, now.Add(Lead), maxDuePerRun)
	if err != nil {
		return Report{}, err
	}
	var report Report
	var errs []error
	for _, key := range keys {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		if err := r.runDue(ctx, key, now, &report); err != nil {
			errs = append(errs, fmt.Errorf("schedule %s of store %s: %w", key.ID, key.StoreID, err))
		}
	}
	return report, errors.Join(errs...)
}

// runDue handles one due schedule: it counts the ends of earlier runs'
// jobs, pauses the schedule if too many failed in a row, or else creates
// the job of the latest due time and records the run, all in one write
// conditional on the version read.
func (r *Runner) runDue(ctx context.Context, key Key, now time.Time, report *Report) error {
	s, err := r.store.Get(ctx, key.StoreID, key.ID)
	if errors.Is(err, ErrNotFound) {
		return nil // deleted since the index listed it
	}
	if err != nil {
		return err
	}
	if !s.Enabled || s.NextRunAt == nil || s.NextRunAt.After(now.Add(Lead)) {
		return nil // handled or changed since the index, which lags, listed it
	}
	log := r.log.With("schedule_id", s.ID, "store_id", s.StoreID, "type", s.Type)

	lastError, err := r.countEndedRuns(ctx, s)
	if err != nil {
		return err
	}
	if s.ConsecutiveFailures >= r.maxFailures {
		s.Enabled, s.NextRunAt, s.UpdatedAt = false, nil, job.NewTime(now)
		s.PausedReason = pausedReason(s.ConsecutiveFailures, lastError)
		if err := r.store.put(ctx, s); err != nil {
			return ignoreStale(err)
		}
		report.Paused++
		log.Warn("schedule paused itself", "reason", s.PausedReason)
		return nil
	}

	// The latest due time already past (several: an outage), or else the
	// one coming within Lead, whose job waits for it.
	firstDue := s.NextRunAt.Time
	missed := s.compiled.MissedSince(firstDue, now, missedCountLimit)
	due, merged := firstDue, false
	if missed.Count > 0 {
		due = missed.Latest
		// Found late, with the next due time coming within Lead: one run,
		// on time for that one, stands for both. Run late instead, a
		// schedule due every minute would stay as late as the sweep's
		// second in the minute, run after run.
		if upcoming := s.compiled.Next(due); !upcoming.IsZero() && !upcoming.After(now.Add(Lead)) {
			due, merged = upcoming, true
		}
	}
	s.NextRunAt, s.UpdatedAt = nextRun(s.compiled, later(due, now)), job.NewTime(now)
	if last := s.lastDue(); last != nil && !due.After(last.Time) {
		// Already recorded: only the next run is out of date.
		return ignoreStale(r.store.put(ctx, s))
	}
	run := Run{DueAt: job.NewTime(due), HandledAt: job.NewTime(now), Outcome: OutcomeStarted}
	var missedNote string
	if missed.Count > 1 || merged {
		run.Outcome = OutcomeCaughtUp
		missedNote = fmt.Sprintf("%s missed since %s", runsMissed(missed), formatUTC(firstDue))
		run.Message = "caught up once for " + missedNote
	}
	idempotencyKey := fmt.Sprintf("schedule:%s:%d", s.ID, due.Unix())
	req := r.request(s, idempotencyKey, fmt.Sprintf("schedule %s (%s)", s.ID, s.Label()))
	if due.After(now) {
		req.RunAt = &due
	}
	created, _, err := r.creator.Create(ctx, req)
	var duplicate *jobtable.DuplicateError
	switch {
	case errors.As(err, &duplicate):
		run.Outcome, run.JobID = OutcomeSkipped, duplicate.ExistingJobID
		run.Message = r.skipMessage(ctx, s, duplicate.ExistingJobID)
	case errors.Is(err, jobtable.ErrIdempotencyMismatch):
		// Someone else's request took the run's key: no retry can create it.
		run.Outcome = OutcomeSkipped
		run.Message = fmt.Sprintf("skipped: the idempotency key %s was already used by another request", idempotencyKey)
	case err != nil:
		return fmt.Errorf("create the job due at %s: %w", formatUTC(due), err)
	default:
		// A replay too: the sweep that created it stopped before recording it.
		run.JobID = created.ID
	}
	if run.Outcome == OutcomeSkipped && missedNote != "" {
		run.Message += "; " + missedNote
	}
	s.LastRuns = append([]Run{run}, s.LastRuns...)
	s.LastRuns = s.LastRuns[:min(len(s.LastRuns), MaxRuns)]
	if err := r.store.put(ctx, s); err != nil {
		// Stale: another sweep recorded this due time (its create and
		// ours were one, through the idempotency key).
		return ignoreStale(err)
	}
	switch run.Outcome {
	case OutcomeStarted:
		report.Started++
	case OutcomeCaughtUp:
		report.Started++
		report.CaughtUp++
	case OutcomeSkipped:
		report.Skipped++
	}
	next := "never"
	if s.NextRunAt != nil {
		next = s.NextRunAt.String()
	}
	log.Info("schedule due", "due_at", run.DueAt.String(), "outcome", string(run.Outcome), "job_id", run.JobID, "message", run.Message, "next_run_at", next)
	return nil
}

// countEndedRuns counts, oldest first, the ends of the runs' jobs not yet
// counted: a failed job is one more failure in a row, a completed one ends
// the row; a cancelled or deleted one counts neither way. A job still
// active is counted by a later sweep, once it has ended. It returns the
// error of the last failed job it counted.
func (r *Runner) countEndedRuns(ctx context.Context, s *Schedule) (string, error) {
	var lastError string
	for i := len(s.LastRuns) - 1; i >= 0; i-- {
		run := &s.LastRuns[i]
		if run.counted || run.JobID == "" || run.Outcome == OutcomeSkipped {
			continue // a skipped run's job is not the schedule's
		}
		j, err := r.jobs.Get(ctx, run.JobID)
		switch {
		case errors.Is(err, jobtable.ErrNotFound):
			run.counted = true
		case err != nil:
			return "", fmt.Errorf("read the job of the run due at %s: %w", formatUTC(run.DueAt.Time), err)
		case j.Status == job.StatusFailed:
			s.ConsecutiveFailures++
			lastError, run.counted = j.Error, true
		case j.Status == job.StatusCompleted:
			s.ConsecutiveFailures, run.counted = 0, true
		case j.Status == job.StatusCancelled:
			run.counted = true
		}
	}
	return lastError, nil
}

func pausedReason(failures int, lastError string) string {
	lastError = strings.TrimRight(strings.TrimSpace(lastError), ".")
	if len(lastError) > maxErrorInReason {
		lastError = strings.ToValidUTF8(lastError[:maxErrorInReason], "") + "…"
	}
	if lastError == "" {
		return fmt.Sprintf("paused after %d failed runs in a row. Fix the cause and enable the schedule again.", failures)
	}
	return fmt.Sprintf("paused after %d failed runs in a row; the last failed with: %s. Fix the cause and enable the schedule again.", failures, lastError)
}

// skipMessage tells which active job made a run skip.
func (r *Runner) skipMessage(ctx context.Context, s *Schedule, activeID string) string {
	status := "active"
	if j, err := r.jobs.Get(ctx, activeID); err == nil {
		status = string(j.Status)
	}
	for _, run := range s.LastRuns {
		if run.Outcome != OutcomeSkipped && run.JobID != "" {
			if run.JobID == activeID {
				return fmt.Sprintf("skipped: the previous run %s (%s) was still active", activeID, status)
			}
			break
		}
	}
	return fmt.Sprintf("skipped: job %s (%s) of the same type was still active", activeID, status)
}

// RunNow creates the schedule's job at once, outside its rhythm, enabled
// or not (a paused schedule can be tried before it is enabled again). Its
// next run does not move and no run is recorded. createdBy names who
// asked, for the job's log. Two requests within the same minute make one
// job (the second returns it). When the store's job of the type is still
// active the error is a *jobtable.DuplicateError, as for any create;
// storeID "" finds any store's schedule.
func (r *Runner) RunNow(ctx context.Context, storeID, id, createdBy string) (*job.Job, error) {
	s, err := r.store.Get(ctx, storeID, id)
	if err != nil {
		return nil, err
	}
	by := fmt.Sprintf("schedule %s (%s), run now", s.ID, s.Label())
	if createdBy != "" {
		by = fmt.Sprintf("%s through schedule %s (%s)", createdBy, s.ID, s.Label())
	}
	now := r.store.Now()
	key := fmt.Sprintf("schedule:%s:now:%d", s.ID, now.Unix()/60)
	created, replayed, err := r.creator.Create(ctx, r.request(s, key, by))
	if err != nil || replayed {
		return created, err
	}
	// Shown with the last runs; the job stands whether or not this write
	// wins a race with a sweep (the next "run now" records its own).
	s.LastRuns = append([]Run{{DueAt: job.NewTime(now), HandledAt: job.NewTime(now), Outcome: OutcomeRunNow, JobID: created.ID}}, s.LastRuns...)
	s.LastRuns, s.UpdatedAt = s.LastRuns[:min(len(s.LastRuns), MaxRuns)], job.NewTime(now)
	if err := r.store.put(ctx, s); err != nil && !errors.Is(err, ErrStale) {
		r.log.Warn("record a run now", "schedule_id", s.ID, "job_id", created.ID, "error", err)
	}
	return created, nil
}

// request is the create of the schedule's job under an idempotency key.
// The request hash is the key's own: every try of the same key is the same
// request, so a replay returns the job created first.
func (r *Runner) request(s *Schedule, idempotencyKey, createdBy string) dispatch.Request {
	hash := sha256.Sum256([]byte(idempotencyKey))
	return dispatch.Request{
		StoreID: s.StoreID, Type: s.Type, Priority: s.Priority, Payload: s.Payload,
		IdempotencyKey: idempotencyKey, RequestHash: hex.EncodeToString(hash[:]), CreatedBy: createdBy,
	}
}

func runsMissed(m Missed) string {
	switch {
	case m.More:
		return fmt.Sprintf("more than %d runs", m.Count)
	case m.Count == 1:
		return "1 run"
	}
	return fmt.Sprintf("%d runs", m.Count)
}

func formatUTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func ignoreStale(err error) error {
	if errors.Is(err, ErrStale) {
		return nil
	}
	return err
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
