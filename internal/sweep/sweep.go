// Package sweep is the queue's recovery path, run every minute: it finds
// jobs that fell between two writes (saved but never enqueued, held by a
// worker that vanished, waiting on a retry whose message is gone) through
// the sparse due index and enqueues them again, enqueues the jobs a pause
// set aside once their pause has ended, and wakes workers for messages
// nobody is receiving.
package sweep

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/queue"
)

// Sweeper sweeps.
type Sweeper struct {
	jobs           *jobtable.Table
	queues         *queue.Queues
	dispatcher     *dispatch.Dispatcher
	maxConcurrency int
	// resendAfter is how long the sweep waits before looking at a job it
	// re-enqueued again, so a long backlog does not fill with duplicates.
	resendAfter time.Duration
	log         *slog.Logger
}

// New returns a Sweeper.
func New(jobs *jobtable.Table, q *queue.Queues, d *dispatch.Dispatcher, maxConcurrency int, resendAfter time.Duration, log *slog.Logger) *Sweeper {
	return &Sweeper{jobs: jobs, queues: q, dispatcher: d, maxConcurrency: maxConcurrency, resendAfter: resendAfter, log: log}
}

// Report says what a sweep did.
type Report struct {
	Enqueued     int // jobs whose message was sent again
	Released     int // jobs set aside by a pause that ended, enqueued again
	WorkersWoken int
}

// maxDuePerSweep bounds one sweep's work; the next sweep takes the rest.
const maxDuePerSweep = 500

// Sweep re-enqueues due jobs and wakes workers while queues hold messages.
func (s *Sweeper) Sweep(ctx context.Context) (Report, error) {
	var report Report
	var errs []error
	released, err := s.ReleaseParked(ctx, maxDuePerSweep)
	report.Released = released
	if err != nil {
		errs = append(errs, err)
	}
	ids, err := s.jobs.DueJobIDs(ctx, maxDuePerSweep)
	if err != nil {
		return report, errors.Join(append(errs, err)...)
	}
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
	for i := 0; i < min(visible+report.Enqueued+report.Released, s.maxConcurrency); i++ {
		if err := s.queues.Wake(ctx, 0); err != nil {
			errs = append(errs, err)
			break
		}
		report.WorkersWoken++
	}
	if report.Enqueued > 0 || report.Released > 0 || report.WorkersWoken > 0 {
		s.log.Info("sweep", "re_enqueued", report.Enqueued, "released_after_pause", report.Released, "workers_woken", report.WorkersWoken)
	}
	return report, errors.Join(errs...)
}

// sweepJob looks at one due job. Its message may be lost, or merely late
// (a long backlog): sending another is safe either way, because workers
// drop messages of jobs they cannot run.
func (s *Sweeper) sweepJob(ctx context.Context, id string) (bool, error) {
	j, err := s.jobs.Get(ctx, id)
	if errors.Is(err, jobtable.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	log := s.log.With("job_id", j.ID, "store_id", j.StoreID, "type", j.Type, "status", string(j.Status))
	switch {
	case j.Status.Terminal():
		return false, ignoreStale(s.jobs.ClearDue(ctx, j.ID, j.Version))
	case j.Status == job.StatusPending:
		if j.RunAt != nil && j.Attempts == 0 {
			// Delayed: its message goes out now, delayed to its start.
			log.Info("delayed job starts soon; enqueuing it", "run_at", j.RunAt.Format(time.RFC3339))
		} else {
			log.Warn("job was saved but never enqueued; enqueuing it")
		}
		if err := s.dispatcher.Dispatch(ctx, j); err != nil {
			return false, err
		}
		return true, nil
	}
	log.Warn("job is past its deadline with no worker on it; enqueuing it again")
	if err := s.queues.Enqueue(ctx, j); err != nil {
		return false, err
	}
	return true, ignoreStale(s.jobs.PostponeDue(ctx, j.ID, j.Version, s.jobs.Now().Add(s.resendAfter)))
}

func ignoreStale(err error) error {
	if errors.Is(err, jobtable.ErrStale) {
		return nil
	}
	return err
}

// indexLag is how long a job parked just now may take to show in the due
// index (GSI reads are eventually consistent): a type's marker is kept at
// least this long after its last parked job, so no job is left behind.
const indexLag = time.Minute

// ReleaseParked enqueues again, up to limit, the jobs a pause set aside
// whose type is no longer paused, and returns how many it released. The
// sweep calls it every time; resuming calls it at once.
func (s *Sweeper) ReleaseParked(ctx context.Context, limit int) (int, error) {
	parked, err := s.jobs.ParkedTypes(ctx)
	if err != nil || len(parked) == 0 {
		return 0, err
	}
	pauses, err := s.jobs.Pauses(ctx)
	if err != nil {
		return 0, err
	}
	released := 0
	var errs []error
	for jobType, parkedAt := range parked {
		if pauses.Paused(jobType) || released >= limit {
			continue
		}
		n, done, err := s.releaseType(ctx, jobType, limit-released)
		released += n
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if done {
			errs = append(errs, s.jobs.ForgetParked(ctx, jobType, parkedAt, indexLag))
		}
	}
	return released, errors.Join(errs...)
}

// releaseType releases up to limit parked jobs of one type, and tells
// whether none is left.
func (s *Sweeper) releaseType(ctx context.Context, jobType string, limit int) (int, bool, error) {
	ids, more, err := s.jobs.ParkedJobIDs(ctx, jobType, limit)
	if err != nil {
		return 0, false, err
	}
	released := 0
	var errs []error
	for _, id := range ids {
		j, err := s.jobs.Get(ctx, id)
		if errors.Is(err, jobtable.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if j.PausedAt == nil {
			continue // released meanwhile
		}
		event := jobtable.Event(s.jobs.Now(), "resumed_after_pause", j.Attempts, "%s jobs were resumed; the job goes back in its queue", j.Type)
		unparked, err := s.jobs.Unpark(ctx, j, s.resendAfter, event)
		if errors.Is(err, jobtable.ErrStale) {
			continue // cancelled or released meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Should the enqueue fail, the job is due for the next sweep.
		if err := s.dispatcher.Dispatch(ctx, unparked); err != nil {
			errs = append(errs, err)
			continue
		}
		released++
	}
	return released, !more && len(errs) == 0, errors.Join(errs...)
}
