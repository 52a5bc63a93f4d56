package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/testenv"
)

// watch follows a job to its end, showing what a person needs on the way,
// and its exit code says how the job ended. The subtests share one system,
// each with its own store, so that their jobs run side by side.
func TestWatch(t *testing.T) {
	t.Parallel()
	b := setup(t, func(env *testenv.Env, _ *app.Overrides) {
		// Long enough that the watch sees the job between its attempts
		// (the client polls every 500 ms at least), short enough for a test.
		env.Config.RetryDelays = []time.Duration{2 * time.Second}
	})

	t.Run("through a retry to completion", func(t *testing.T) {
		t.Parallel()
		r := b.jobctl(t, "create", "dev:simulate", "--store", "watch-retry", "--watch", "--progress", "plain",
			"--payload", `{"steps": 4, "step_ms": 300, "fail_attempts": 1, "fail_with": "transient"}`).expect(t, exitOK)
		id := createdID(t, r)
		retrying := regexp.MustCompile(`(?m)^50% retrying in [12]s, attempt 2 of 2: simulated failure$`)
		done := regexp.MustCompile(`(?m)^100% `)
		last := "completed dev:simulate job " + id + " in "
		at := retrying.FindStringIndex(r.stdout)
		if at == nil {
			t.Fatalf("no retry countdown line in:\n%s", r.stdout)
		}
		if end := done.FindStringIndex(r.stdout); end == nil || end[0] < at[0] {
			t.Errorf("no 100%% line after the retry in:\n%s", r.stdout)
		}
		if got := lines(r.stdout); !strings.HasPrefix(got[len(got)-1], last) || !strings.HasSuffix(got[len(got)-1], `after 2 attempts: {"steps":4,"step_runs":4,"attempts":2}`) {
			t.Errorf("last line %q, want it to say the job completed after 2 attempts, with its result", got[len(got)-1])
		}
	})

	t.Run("of a failing job exits 1", func(t *testing.T) {
		t.Parallel()
		id := b.create(t, "watch-fail", `{"steps": 2, "step_ms": 10, "fail_attempts": 1, "fail_with": "permanent"}`)
		b.jobctl(t, "watch", id).expect(t, exitFailed,
			"failed dev:simulate job "+id+" after 1 attempt: simulated permanent failure: validation failed")
	})

	t.Run("of a job cancelled meanwhile exits 2", func(t *testing.T) {
		t.Parallel()
		id := b.create(t, "watch-cancel", `{"steps": 200, "step_ms": 100}`)
		watched := make(chan result, 1)
		go func() { watched <- b.jobctl(t, "watch", id) }()
		b.waitFor(t, id, client.StatusRunning)
		b.jobctl(t, "cancel", id).expect(t, exitOK)
		select {
		case r := <-watched:
			r.expect(t, exitCancelled, "cancelled dev:simulate job "+id+" at ")
		case <-time.After(30 * time.Second):
			t.Fatal("watch did not end within 30s of the cancel")
		}
	})

	t.Run("draws a bar", func(t *testing.T) {
		t.Parallel()
		r := b.jobctl(t, "create", "dev:simulate", "--store", "watch-bar", "--watch", "--progress", "bar",
			"--payload", `{"steps": 4, "step_ms": 200}`).expect(t, exitOK, "100% |", "██████████", "|", "\r")
		if got := lines(r.stdout); !strings.HasPrefix(got[len(got)-1], "completed dev:simulate job ") {
			t.Errorf("last line %q, want the outcome below the bar", got[len(got)-1])
		}
	})

	t.Run("with --json prints the statuses and the job, one per line", func(t *testing.T) {
		t.Parallel()
		r := b.jobctl(t, "--json", "create", "dev:simulate", "--store", "watch-json", "--watch",
			"--payload", `{"steps": 2, "step_ms": 100}`).expect(t, exitOK)
		got := lines(r.stdout)
		if len(got) < 3 {
			t.Fatalf("%d lines, want the created job, its statuses and the finished job", len(got))
		}
		var created, finished client.Job
		var status client.JobStatus
		for i, line := range got {
			into := any(&status)
			switch i {
			case 0:
				into = &created
			case len(got) - 1:
				into = &finished
			}
			if err := json.Unmarshal([]byte(line), into); err != nil {
				t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, line)
			}
		}
		if created.Status != client.StatusPending || finished.ID != created.ID || finished.Status != client.StatusCompleted || len(finished.Result) == 0 {
			t.Errorf("created %+v, finished %+v", created, finished)
		}
	})

	t.Run("of no such job exits 3", func(t *testing.T) {
		t.Parallel()
		b.jobctl(t, "watch", "no-such-job").expectError(t, "not found: no job with id no-such-job")
	})
}

// The retry countdown is worked out from the next attempt's time, so it
// counts down between polls.
func TestDescribeCountsDownToTheNextAttempt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	next := now.Add(11500 * time.Millisecond)
	status := &client.JobStatus{Status: client.StatusRetrying, Attempts: 1, NextAttemptAt: &next, Error: "Amazon answered 503"}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{now, "retrying in 12s, attempt 2 of 5: Amazon answered 503"},
		{now.Add(time.Second), "retrying in 11s, attempt 2 of 5: Amazon answered 503"},
		{now.Add(12 * time.Second), "retrying now, attempt 2 of 5: Amazon answered 503"},
	} {
		if got := describe(status, 5, tc.at); got != tc.want {
			t.Errorf("at %s: %q, want %q", tc.at.Sub(now), got, tc.want)
		}
	}
	running := &client.JobStatus{Status: client.StatusRunning, Progress: 45, ProgressMessage: "Sending to Amazon: 16/30",
		Estimate: &client.Estimate{Message: "about 2 min left"}}
	if got := describe(running, 5, now); got != "Sending to Amazon: 16/30 — about 2 min left" {
		t.Errorf("running: %q", got)
	}
	pending := &client.JobStatus{Status: client.StatusPending, Waiting: &client.Waiting{Message: "3 jobs ahead of it (1 urgent, 2 normal)"}}
	if got := describe(pending, 5, now); got != "waiting: 3 jobs ahead of it (1 urgent, 2 normal)" {
		t.Errorf("pending: %q", got)
	}
}
