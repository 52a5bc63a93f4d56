package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/marketplace"
)

// asJSON is a view as a client reads it.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var waitNow = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

func TestWhatHoldsAJobBackMostSpecificFirst(t *testing.T) {
	t.Parallel()
	retrying := func(err string) *job.Job {
		return &job.Job{Type: "amazon:export:products", Status: job.StatusRetrying, Attempts: 1, MaxAttempts: 4,
			Error: err, NextAttemptAt: job.TimePtr(waitNow.Add(90 * time.Second))}
	}
	pending := &job.Job{Type: "dev:simulate", Status: job.StatusPending}
	noPause := jobtable.Pauses{Types: map[string]bool{}}
	tests := []struct {
		name   string
		job    *job.Job
		pauses jobtable.Pauses
		market string
		want   string // JSON; empty when nothing holds the job back
	}{
		{"the queue is paused, over everything else", retrying("rate limited: 429"), jobtable.Pauses{All: true, Types: map[string]bool{"amazon:export:products": true}}, marketplace.Amazon,
			`{"reason":"queue_paused","message":"the queue is paused; the job starts when it resumes"}`},
		{"its type is paused", pending, jobtable.Pauses{Types: map[string]bool{"dev:simulate": true}}, "",
			`{"reason":"type_paused","message":"dev:simulate jobs are paused and start when they resume"}`},
		{"set aside by a pause that has ended", &job.Job{Type: "dev:simulate", Status: job.StatusPending, PausedAt: job.TimePtr(waitNow.Add(-time.Hour))}, noPause, "",
			`{"reason":"starting","message":"its pause has ended; it is put back in line in a moment"}`},
		{"a retry is scheduled", retrying("connection reset"), noPause, marketplace.Amazon,
			`{"reason":"retry_scheduled","message":"attempt 1 failed; attempt 2 of 4 is scheduled","until":"2026-11-29T10:01:30.000Z"}`},
		{"its marketplace rate-limited it", retrying("rate limited: amazon: 429 QuotaExceeded"), noPause, marketplace.Amazon,
			`{"reason":"rate_limited","message":"Amazon rate-limited the store's requests; attempt 2 of 4 starts when the limit resets","until":"2026-11-29T10:01:30.000Z","marketplace":"amazon"}`},
		{"rate-limited, by a type that names no marketplace", retrying("rate limited: simulated rate limit exceeded"), noPause, "",
			`{"reason":"rate_limited","message":"the job was rate-limited; attempt 2 of 4 starts when the limit resets","until":"2026-11-29T10:01:30.000Z"}`},
		{"a retry that is due is in line like any job", &job.Job{Type: "dev:simulate", Status: job.StatusRetrying, Attempts: 1, MaxAttempts: 4, Error: "rate limited: x", NextAttemptAt: job.TimePtr(waitNow)}, noPause, "", ""},
		{"a pending job is in line", pending, noPause, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := heldBack(tt.job, tt.pauses, tt.market, waitNow)
			switch {
			case tt.want == "" && got != nil:
				t.Errorf("held back: %s, want in line", asJSON(t, got))
			case tt.want != "" && (got == nil || asJSON(t, got) != tt.want):
				t.Errorf("held back: %s\nwant %s", asJSON(t, got), tt.want)
			}
		})
	}
}

func TestAJobInLineWaitsForTheJobsAheadThenAWorker(t *testing.T) {
	t.Parallel()
	ahead := func(atLeast bool, counts map[job.Priority]int) jobtable.Ahead {
		return jobtable.Ahead{ByPriority: counts, AtLeast: atLeast}
	}
	tests := []struct {
		name    string
		ahead   jobtable.Ahead
		running int64
		want    string
	}{
		{"jobs ahead, by priority", ahead(false, map[job.Priority]int{job.PriorityNormal: 2, job.PriorityUrgent: 1}), 2,
			`{"reason":"queued","message":"3 jobs ahead of it (1 urgent, 2 normal)","jobs_ahead":3,"jobs_ahead_by_priority":{"normal":2,"urgent":1}}`},
		{"one job ahead, every worker busy", ahead(false, map[job.Priority]int{job.PriorityHigh: 1}), 5,
			`{"reason":"queued","message":"1 job ahead of it (1 high), and all 5 workers are busy","jobs_ahead":1,"jobs_ahead_by_priority":{"high":1}}`},
		{"more active jobs than are read", ahead(true, map[job.Priority]int{job.PriorityLow: 50}), 5,
			`{"reason":"queued","message":"50+ jobs ahead of it, and all 5 workers are busy","jobs_ahead":50,"jobs_ahead_by_priority":{"low":50},"jobs_ahead_at_least":true}`},
		{"more active jobs than are read, none of them ahead", ahead(true, map[job.Priority]int{}), 1,
			`{"reason":"queued","message":"more than 50 other jobs are active; its place among them is not known","jobs_ahead":0,"jobs_ahead_at_least":true}`},
		{"nothing ahead, every worker busy", ahead(false, map[job.Priority]int{}), 5,
			`{"reason":"workers_busy","message":"all 5 workers are busy; it starts when one is free","jobs_ahead":0}`},
		{"nothing ahead, a worker free", ahead(false, map[job.Priority]int{}), 4,
			`{"reason":"starting","message":"next in line; a worker takes it in a moment","jobs_ahead":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := asJSON(t, inLine(tt.ahead, tt.running, 5)); got != tt.want {
				t.Errorf("in line: %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestARunningJobsEstimateComesFromItsPace(t *testing.T) {
	t.Parallel()
	running := func(progress int, started time.Duration) *job.Job {
		return &job.Job{Status: job.StatusRunning, Progress: progress, StartedAt: job.TimePtr(waitNow.Add(-started))}
	}
	tests := []struct {
		name string
		job  *job.Job
		want string
	}{
		{"a quarter done in 30 s: 90 s left", running(25, 30*time.Second),
			`{"seconds_left":90,"finish_at":"2026-11-29T10:01:30.000Z","message":"about 2 min left"}`},
		{"40% in 20 min", running(40, 20*time.Minute),
			`{"seconds_left":1800,"finish_at":"2026-11-29T10:30:00.000Z","message":"about 30 min left"}`},
		{"half done in 2 h", running(50, 2*time.Hour),
			`{"seconds_left":7200,"finish_at":"2026-11-29T12:00:00.000Z","message":"about 2 h left"}`},
		{"nearly done", running(95, 10*time.Minute),
			`{"seconds_left":32,"finish_at":"2026-11-29T10:00:31.578Z","message":"less than a minute left"}`},
		{"too little progress", running(2, 5*time.Minute),
			`{"message":"too early to estimate: 2% done"}`},
		{"too short a run", running(30, 4*time.Second),
			`{"message":"too early to estimate: running for 4 s"}`},
		{"all done, not yet recorded as completed", running(100, time.Minute),
			`{"seconds_left":0,"finish_at":"2026-11-29T10:00:00.000Z","message":"finishing"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := asJSON(t, estimate(tt.job, waitNow)); got != tt.want {
				t.Errorf("estimate: %s\nwant %s", got, tt.want)
			}
		})
	}
}
