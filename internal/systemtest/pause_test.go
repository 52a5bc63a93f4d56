package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/testenv"
)

// runWorker is one worker invocation with a minute before its deadline.
func runWorker(t *testing.T, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.Worker.Run(ctx); err != nil {
		t.Fatalf("worker invocation: %v", err)
	}
}

func deadLetters(t *testing.T, a *app.App) int {
	t.Helper()
	d, err := a.Queues.DeadLetterDepth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d.Visible + d.InFlight
}

// A job type paused for longer than the queue's redrive count of receives
// (100) keeps its job, and the job starts within one sweep of the resume.
// Before, a paused job's message was hidden and looked at again every 30 s;
// each look counted as a receive, and a long pause sent the message to the
// dead-letter queue while the job stayed pending with its lock taken (with
// the look-again shortened to none, the test failed: "the dead-letter queue
// holds 1 messages after a long pause").
func TestAPauseOfAnyLengthKeepsTheJobAndResumesItWithinOneSweep(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, 2*time.Minute)
	if err := a.Jobs.SetPaused(ctx, "dev:simulate", true); err != nil {
		t.Fatal(err)
	}
	j := createDirect(t, a, "paused-long", map[string]any{"steps": 1})
	for range 120 { // more looks than the redrive allows receives
		runWorker(t, a)
	}
	if n := deadLetters(t, a); n != 0 {
		t.Fatalf("the dead-letter queue holds %d messages after a long pause", n)
	}
	if err := queuesEmpty(a); err != nil {
		t.Errorf("a paused job cycles through SQS: %v", err)
	}
	parked, err := a.Jobs.Get(ctx, j.ID)
	if err != nil || parked.Status != job.StatusPending || parked.PausedAt == nil {
		t.Fatalf("paused job: %+v, %v; want pending and set aside", parked, err)
	}

	// Resumed behind the API's back: the sweep alone brings the job back.
	if err := a.Jobs.SetPaused(ctx, "dev:simulate", false); err != nil {
		t.Fatal(err)
	}
	if err := a.Cron.Run(ctx, cron.TaskSweep); err != nil {
		t.Fatal(err)
	}
	runWorker(t, a)
	done, err := a.Jobs.Get(ctx, j.ID)
	if err != nil || done.Status != job.StatusCompleted || done.PausedAt != nil {
		t.Fatalf("after one sweep and one worker: %s (set aside %v), %v; want completed", done.Status, done.PausedAt, err)
	}
	logs, err := a.Jobs.Logs(ctx, j.ID, "info", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range logs.Entries {
		events = append(events, e.Event)
	}
	if got := strings.Join(events, ","); got != "created,paused,resumed_after_pause,claimed,completed" {
		t.Errorf("the job's story: %s", got)
	}
}

// Resuming through the API enqueues the set-aside jobs at once, and a job
// set aside while paused can be cancelled at once.
func TestResumeReleasesSetAsideJobsAndCancelEndsThem(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)
	ctx := withTimeout(t, 2*time.Minute)

	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/pause", map[string]any{"type": "dev:simulate"}); status != http.StatusOK {
		t.Fatalf("pause: %d", status)
	}
	kept := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "resumed", "payload": map[string]any{"steps": 1}})
	dropped := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "cancelled", "payload": map[string]any{"steps": 1}})
	for _, id := range []string{kept, dropped} {
		eventually(t, time.Minute, func() error {
			if jobStatus(t, base, id)["paused_at"] == nil {
				return fmt.Errorf("job %s is not set aside yet", id)
			}
			return nil
		})
	}
	status, out := call(t, http.MethodPost, base+"/api/background-jobs/"+dropped+"/cancel", nil)
	if status != http.StatusOK || out["job"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel a set-aside job: %d %v; want cancelled at once", status, out)
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/resume", map[string]any{"type": "dev:simulate"}); status != http.StatusOK {
		t.Fatalf("resume: %d", status)
	}
	waitForStatus(t, base, kept, "completed")
	if got := jobStatus(t, base, dropped)["status"]; got != "cancelled" {
		t.Errorf("the cancelled job is %v after the resume", got)
	}
	counts, err := a.Jobs.Counts(ctx, "")
	if err != nil || counts.Completed != 1 || counts.Cancelled != 1 || counts.Pending != 0 {
		t.Errorf("counts %+v (%v)", counts, err)
	}
}

// A duplicate message of a job that a live worker holds is deleted, not
// hidden until the lease could expire: every look would count towards the
// redrive, and a job that runs long would see its duplicate dead-lettered.
// Before, it stayed in the queue (the test failed: "the normal queue still
// holds {Visible:0 InFlight:1 Delayed:0}").
func TestADuplicateOfARunningJobIsDeleted(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, time.Minute)
	j := createDirect(t, a, "held-elsewhere", map[string]any{"steps": 1})
	read, err := a.Jobs.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Jobs.Claim(ctx, read, jobtable.Lease{Token: "another-worker", ExpiresAt: a.Clock.Now().Add(10 * time.Minute)}, time.Minute, jobtable.LogEntry{}); err != nil {
		t.Fatal(err)
	}
	runWorker(t, a)
	if err := queuesEmpty(a); err != nil {
		t.Error(err)
	}
	if held, _ := a.Jobs.Get(ctx, j.ID); held.LeaseToken != "another-worker" || held.Status != job.StatusRunning {
		t.Errorf("the job is %s under lease %q; want it left to the worker holding it", held.Status, held.LeaseToken)
	}
}

// A job whose type has no handler in this deployment (a type removed, a
// rollback) ends failed, with its lock released and its failure grouped;
// once the type is deployed again a retry runs it. Before, its message was
// dead-lettered and the job stayed pending forever, holding its lock (the
// test failed: "job is pending").
func TestAJobWhoseTypeIsNotDeployedFailsAndRunsOnceRetried(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	with := env.App(t, app.Overrides{})
	without := env.App(t, app.Overrides{JobTypes: jobtype.NewRegistry()})
	ctx := withTimeout(t, 2*time.Minute)

	j := createDirect(t, with, "rolled-back", map[string]any{"steps": 1})
	runWorker(t, without)
	failed, err := without.Jobs.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != job.StatusFailed || !strings.Contains(failed.Error, `no handler for job type "dev:simulate"`) {
		t.Fatalf("job is %s with error %q; want failed saying its type has no handler", failed.Status, failed.Error)
	}
	if n := deadLetters(t, without); n != 0 {
		t.Errorf("%d messages were dead-lettered; the job's message should just be deleted", n)
	}
	groups, err := without.Jobs.FailureGroups(ctx, 1)
	if err != nil || len(groups) != 1 || groups[0].Kind != "unknown_type" || groups[0].Type != "dev:simulate" {
		t.Errorf("failure groups %+v (%v); want one unknown_type group of dev:simulate", groups, err)
	}
	// The lock is free: the store can start another job of the type.
	other := createDirect(t, with, "rolled-back", map[string]any{"steps": 1})
	if _, err := with.Jobs.Cancel(ctx, other.ID, "test"); err != nil {
		t.Fatal(err)
	}

	// A deployment without the type refuses the retry, and changes nothing.
	api := httptest.NewServer(without.HTTP)
	t.Cleanup(api.Close)
	status, out := call(t, http.MethodPost, api.URL+"/api/background-jobs/"+j.ID+"/retry", nil)
	if errObj, _ := out["error"].(map[string]any); status != http.StatusBadRequest || errObj["code"] != "unknown_job_type" {
		t.Errorf("retry where the type is missing: %d %v; want 400 unknown_job_type", status, out)
	}
	if got, _ := with.Jobs.Get(ctx, j.ID); got.Status != job.StatusFailed {
		t.Errorf("the refused retry changed the job to %s", got.Status)
	}
	// It cannot pause the type it lacks, but it can resume it, had it been
	// paused where it was deployed: its parked jobs must not wait forever.
	if status, _ := call(t, http.MethodPost, api.URL+"/api/background-jobs/pause", map[string]any{"type": "dev:simulate"}); status != http.StatusBadRequest {
		t.Errorf("pausing a type not deployed here: %d, want 400", status)
	}
	if err := with.Jobs.SetPaused(ctx, "dev:simulate", true); err != nil {
		t.Fatal(err)
	}
	status, out = call(t, http.MethodPost, api.URL+"/api/background-jobs/resume", map[string]any{"type": "dev:simulate"})
	if status != http.StatusOK || len(out["paused_types"].([]any)) != 0 {
		t.Errorf("resuming a paused type not deployed here: %d %v, want 200 and nothing paused", status, out)
	}
	// Where it is deployed again, the retry runs it.
	retried, err := with.Jobs.Retry(ctx, j.ID, false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := with.Dispatcher.Dispatch(ctx, retried); err != nil {
		t.Fatal(err)
	}
	runWorker(t, with)
	if done, _ := with.Jobs.Get(ctx, j.ID); done.Status != job.StatusCompleted {
		t.Errorf("after the retry: %s, want completed", done.Status)
	}
}
