package jobtable_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

func TestStaleWorkersCannotOverwriteANewerOne(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	c := clock.NewFake(time.Now())
	a := env.App(t, app.Overrides{Clock: c})
	ctx := context.Background()
	created, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: "fence", Type: "dev:simulate"})
	if err != nil {
		t.Fatal(err)
	}
	read, err := a.Jobs.Get(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}

	// Two workers read the same pending job; only one claim wins.
	first, err := a.Jobs.Claim(ctx, read, jobtable.Lease{Token: "worker-a", ExpiresAt: c.Now().Add(time.Minute)}, time.Minute, jobtable.LogEntry{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Jobs.Claim(ctx, read, jobtable.Lease{Token: "worker-b", ExpiresAt: c.Now().Add(time.Minute)}, time.Minute, jobtable.LogEntry{}); !errors.Is(err, jobtable.ErrStale) {
		t.Fatalf("second claim of the same read: %v, want ErrStale", err)
	}
	if _, err := a.Jobs.SaveProgress(ctx, created.ID, jobtable.Lease{Token: "worker-b", ExpiresAt: c.Now().Add(time.Minute)}, jobtable.Progress{Percent: 90}, time.Minute); !errors.Is(err, jobtable.ErrStale) {
		t.Fatalf("progress under a lease never granted: %v, want ErrStale", err)
	}
	if _, err := a.Jobs.SaveProgress(ctx, created.ID, jobtable.Lease{Token: "worker-a", ExpiresAt: c.Now().Add(time.Minute)}, jobtable.Progress{Percent: 40, Checkpoint: []byte(`{"next":4}`)}, time.Minute); err != nil {
		t.Fatal(err)
	}

	// Worker A goes silent; after its lease B takes the job over.
	c.Advance(2 * time.Minute)
	expired, _ := a.Jobs.Get(ctx, created.ID)
	second, err := a.Jobs.Claim(ctx, expired, jobtable.Lease{Token: "worker-b", ExpiresAt: c.Now().Add(time.Minute)}, time.Minute, jobtable.LogEntry{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Attempts != 2 || string(second.Checkpoint) != `{"next":4}` || second.Progress != 40 {
		t.Errorf("taken-over job = attempt %d, checkpoint %s, progress %d", second.Attempts, second.Checkpoint, second.Progress)
	}

	// A wakes up: every write it tries is fenced off.
	if _, err := a.Jobs.SaveProgress(ctx, created.ID, jobtable.Lease{Token: "worker-a", ExpiresAt: c.Now().Add(time.Minute)}, jobtable.Progress{Percent: 99}, time.Minute); !errors.Is(err, jobtable.ErrStale) {
		t.Errorf("stale progress: %v, want ErrStale", err)
	}
	if err := a.Jobs.Finish(ctx, first, jobtable.Outcome{Status: job.StatusCompleted, Progress: jobtable.Progress{Percent: 100}}); !errors.Is(err, jobtable.ErrStale) {
		t.Errorf("stale completion: %v, want ErrStale", err)
	}
	if err := a.Jobs.Finish(ctx, second, jobtable.Outcome{Status: job.StatusFailed, Progress: jobtable.Progress{Percent: 40}, Error: "boom"}); err != nil {
		t.Fatal(err)
	}
	final, _ := a.Jobs.Get(ctx, created.ID)
	if final.Status != job.StatusFailed || final.Error != "boom" || final.Progress != 40 {
		t.Errorf("final = %s %q %d, want B's outcome", final.Status, final.Error, final.Progress)
	}
	counts, _ := a.Jobs.Counts(ctx, "fence")
	if counts != (jobtable.Counts{Total: 1, Failed: 1}) {
		t.Errorf("counts = %+v, want one failed job", counts)
	}
}

func TestCountersStayExactUnderConcurrentTransitions(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	ctx := context.Background()
	const jobs = 40
	errs := make(chan error, jobs)
	for i := range jobs {
		go func() {
			j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: "busy", Type: "t" + string(rune('a'+i%26)) + string(rune('a'+i/26))})
			if err != nil {
				errs <- err
				return
			}
			claimed, err := a.Jobs.Claim(ctx, j, jobtable.Lease{Token: j.ID, ExpiresAt: time.Now().Add(time.Minute)}, time.Minute, jobtable.LogEntry{})
			if err != nil {
				errs <- err
				return
			}
			status := job.StatusCompleted
			if i%4 == 0 {
				status = job.StatusFailed
			}
			errs <- a.Jobs.Finish(ctx, claimed, jobtable.Outcome{Status: status})
		}()
	}
	for range jobs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, scope := range []string{"", "busy"} {
		counts, err := a.Jobs.Counts(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		if counts != (jobtable.Counts{Total: jobs, Completed: 30, Failed: 10}) {
			t.Errorf("counts of %q = %+v, want 40 total, 30 completed, 10 failed", scope, counts)
		}
	}
}
