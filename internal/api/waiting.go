package api

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/marketplace"
)

// A job's status says why it has not started yet, or when it will end, from
// what the system records anyway: the pause switches, the job's own retry
// time and last error, the status counters and the active jobs ahead of it
// (jobtable.JobsAhead). None of these reads grows with the number of stored
// jobs.

// Why a job waits, most specific first: the first that holds is the one
// given.
const (
	waitScheduled      = "scheduled"
	waitQueuePaused    = "queue_paused"
	waitTypePaused     = "type_paused"
	waitRateLimited    = "rate_limited"
	waitRetryScheduled = "retry_scheduled"
	waitQueued         = "queued"
	waitWorkersBusy    = "workers_busy"
	waitStarting       = "starting"
)

// waitingView says why a job that no worker runs has not started.
type waitingView struct {
	Reason string `json:"reason"`
	// Message says it in words, for people.
	Message string `json:"message"`
	// JobsAhead is how many jobs a worker takes first: more urgent ones,
	// then those of its priority ready for longer, of every store.
	JobsAhead           *int           `json:"jobs_ahead,omitempty"`
	JobsAheadByPriority map[string]int `json:"jobs_ahead_by_priority,omitempty"`
	// JobsAheadAtLeast means more jobs are active than are read to count
	// them: JobsAhead is a lower bound.
	JobsAheadAtLeast bool `json:"jobs_ahead_at_least,omitempty"`
	// Until is when a delayed job starts, or when a scheduled retry (or the
	// rate limit it waits out) is due.
	Until *job.Time `json:"until,omitempty"`
	// Marketplace is the marketplace that rate-limited the job, when its
	// type uses one.
	Marketplace string `json:"marketplace,omitempty"`
}

// estimateView says when a running job should end, from its pace so far.
type estimateView struct {
	SecondsLeft *int      `json:"seconds_left,omitempty"`
	FinishAt    *job.Time `json:"finish_at,omitempty"`
	// Message says it in words, or why there is no estimate yet.
	Message string `json:"message"`
}

// An estimate needs this much progress and running time: before, the
// pace says more about the start (reading, connecting) than about the rest.
const (
	estimateMinProgress = 5
	estimateMinRunning  = 10 * time.Second
)

// waitingOrEstimate says why an active job waits, or when a running one
// should end; nothing for a finished job.
func (s *Server) waitingOrEstimate(ctx context.Context, j *job.Job) (*waitingView, *estimateView, error) {
	if j.Status.Terminal() {
		return nil, nil, nil
	}
	now := s.jobs.Now()
	if j.Status == job.StatusRunning && j.PausedAt == nil && j.LeaseToken != "" {
		return nil, estimate(j, now), nil
	}
	pauses, err := s.jobs.Pauses(ctx)
	if err != nil {
		return nil, nil, err
	}
	if held := heldBack(j, pauses, s.marketplaceOf(j.Type), now); held != nil {
		return held, nil, nil
	}
	ahead, err := s.jobs.JobsAhead(ctx, j, pauses)
	if err != nil {
		return nil, nil, err
	}
	counts, err := s.jobs.Counts(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	return inLine(ahead, counts.Running, s.cfg.MaxConcurrentJobs), nil, nil
}

// marketplaceOf is the marketplace a job type works with, if any.
func (s *Server) marketplaceOf(jobType string) string {
	if entry, ok := s.jobTypes.Lookup(jobType); ok {
		return entry.Marketplace
	}
	return ""
}

// heldBack says what keeps a job from running whatever the workers do: a
// pause, or the time of its next attempt. Nil when nothing does.
func heldBack(j *job.Job, pauses jobtable.Pauses, market string, now time.Time) *waitingView {
	switch {
	case j.Status == job.StatusPending && j.RunAt != nil && j.RunAt.After(now):
		until := *j.RunAt
		return &waitingView{Reason: waitScheduled, Until: &until,
			Message: fmt.Sprintf("scheduled for %s (in %s)", until.UTC().Format("2006-01-02 15:04 MST"), roughly(until.Sub(now)))}
	case pauses.All:
		return &waitingView{Reason: waitQueuePaused, Message: "the queue is paused; the job starts when it resumes"}
	case pauses.Types[j.Type]:
		return &waitingView{Reason: waitTypePaused, Message: j.Type + " jobs are paused and start when they resume"}
	case j.PausedAt != nil:
		// Resumed, and not yet put back in line by the sweep.
		return &waitingView{Reason: waitStarting, Message: "its pause has ended; it is put back in line in a moment"}
	case j.Status == job.StatusRetrying && j.NextAttemptAt != nil && j.NextAttemptAt.After(now):
		until := *j.NextAttemptAt
		next := fmt.Sprintf("attempt %d", j.Attempts+1)
		if j.MaxAttempts > 0 {
			next += fmt.Sprintf(" of %d", j.MaxAttempts)
		}
		if !strings.HasPrefix(j.Error, "rate limited:") {
			return &waitingView{Reason: waitRetryScheduled, Until: &until,
				Message: fmt.Sprintf("attempt %d failed; %s is scheduled", j.Attempts, next)}
		}
		who := "the job was rate-limited"
		if market != "" {
			who = marketplace.Title(market) + " rate-limited the store's requests"
		}
		return &waitingView{Reason: waitRateLimited, Until: &until, Marketplace: market,
			Message: fmt.Sprintf("%s; %s starts when the limit resets", who, next)}
	}
	return nil
}

// inLine says what a job that could run now waits for: the jobs ahead of
// it, a free worker, or nothing.
func inLine(ahead jobtable.Ahead, running int64, workers int) *waitingView {
	total := ahead.Total()
	v := &waitingView{JobsAhead: &total, JobsAheadAtLeast: ahead.AtLeast}
	busy := workers > 0 && running >= int64(workers)
	switch {
	case total > 0 || ahead.AtLeast:
		v.Reason = waitQueued
		v.JobsAheadByPriority = map[string]int{}
		var parts []string
		for _, p := range job.Priorities {
			if n := ahead.ByPriority[p]; n > 0 {
				v.JobsAheadByPriority[p.String()] = n
				parts = append(parts, fmt.Sprintf("%d %s", n, p))
			}
		}
		switch {
		case ahead.AtLeast && total == 0:
			v.Message = fmt.Sprintf("more than %d other jobs are active; its place among them is not known", jobtable.AheadReadLimit)
		case ahead.AtLeast:
			v.Message = fmt.Sprintf("%d+ jobs ahead of it", total)
		default:
			v.Message = fmt.Sprintf("%d %s ahead of it (%s)", total, plural(total, "job", "jobs"), strings.Join(parts, ", "))
		}
		if busy {
			v.Message += ", and " + everyWorkerBusy(workers)
		}
	case busy:
		v.Reason = waitWorkersBusy
		v.Message = everyWorkerBusy(workers) + "; it starts when one is free"
	default:
		v.Reason = waitStarting
		v.Message = "next in line; a worker takes it in a moment"
	}
	return v
}

// estimate is when a running job should end, at the pace it has kept since
// it first started: elapsed time over progress. Time it spent waiting in
// between (for a retry, through a pause) counts as time taken, so such an
// estimate errs on the long side.
func estimate(j *job.Job, now time.Time) *estimateView {
	if j.StartedAt == nil {
		return &estimateView{Message: "too early to estimate: not started yet"}
	}
	running := now.Sub(j.StartedAt.Time)
	switch {
	case j.Progress >= 100:
		zero := 0
		return &estimateView{SecondsLeft: &zero, FinishAt: job.TimePtr(now), Message: "finishing"}
	case j.Progress < estimateMinProgress:
		return &estimateView{Message: fmt.Sprintf("too early to estimate: %d%% done", j.Progress)}
	case running < estimateMinRunning:
		return &estimateView{Message: fmt.Sprintf("too early to estimate: running for %d s", int(running.Seconds()))}
	}
	left := time.Duration(float64(running) * float64(100-j.Progress) / float64(j.Progress))
	seconds := int(math.Ceil(left.Seconds()))
	return &estimateView{SecondsLeft: &seconds, FinishAt: job.TimePtr(now.Add(left)), Message: timeLeftInWords(left)}
}

// timeLeftInWords rounds a time left as people say it: "about 4 min left".
func timeLeftInWords(left time.Duration) string {
	minutes := int(math.Round(left.Minutes()))
	switch {
	case left < time.Minute:
		return "less than a minute left"
	case minutes < 90:
		return fmt.Sprintf("about %d min left", minutes)
	case minutes%60 == 0:
		return fmt.Sprintf("about %d h left", minutes/60)
	}
	return fmt.Sprintf("about %d h %d min left", minutes/60, minutes%60)
}

func everyWorkerBusy(workers int) string {
	if workers == 1 {
		return "the one worker is busy"
	}
	return fmt.Sprintf("all %d workers are busy", workers)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// roughly says a time ahead as people do: "6 h", "2 d 3 h", "14 min",
// "40 s".
func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(math.Ceil(d.Seconds())))
	case d < 90*time.Minute:
		return fmt.Sprintf("%d min", int(math.Round(d.Minutes())))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(math.Round(d.Hours())))
	}
	total := int(math.Round(d.Hours()))
	days, hours := total/24, total%24
	if hours == 0 {
		return fmt.Sprintf("%d d", days)
	}
	return fmt.Sprintf("%d d %d h", days, hours)
}
