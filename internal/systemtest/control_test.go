package systemtest

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/testenv"
)

func TestSecondActiveJobOfATypeIs409(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	long := map[string]any{"type": "dev:simulate", "store_id": "dup", "payload": map[string]any{"steps": 200, "step_ms": 50}}
	first := createJob(t, base, long)
	status, out := call(t, http.MethodPost, base+"/api/background-jobs", long)
	errObj, _ := out["error"].(map[string]any)
	if status != http.StatusConflict || errObj["code"] != "job_already_active" || errObj["existing_job_id"] != first {
		t.Fatalf("second create: %d %v, want 409 naming %s", status, out, first)
	}
	// Another store, or another type, is not a duplicate.
	createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "dup-other", "payload": map[string]any{"steps": 0}})

	// Once the first ends, the slot is free again.
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/"+first+"/cancel", nil); status != http.StatusAccepted && status != http.StatusOK {
		t.Fatalf("cancel: %d", status)
	}
	waitForStatus(t, base, first, "cancelled")
	createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "dup", "payload": map[string]any{"steps": 0}})

	counts, err := a.Jobs.Counts(withTimeout(t, 10*time.Second), "dup")
	if err != nil {
		t.Fatal(err)
	}
	if counts.Total != 2 {
		t.Errorf("store dup counts %d jobs, want 2 (the 409 created nothing)", counts.Total)
	}
}

func TestIdempotencyKeyMakesCreateSafeToRepeat(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	body := map[string]any{"type": "dev:simulate", "store_id": "idem", "payload": map[string]any{"steps": 1}}
	status, first := call(t, http.MethodPost, base+"/api/background-jobs", body, "Idempotency-Key", "order-42")
	if status != http.StatusCreated {
		t.Fatalf("first: %d %v", status, first)
	}
	id := first["job"].(map[string]any)["id"]
	status, again := call(t, http.MethodPost, base+"/api/background-jobs", body, "Idempotency-Key", "order-42")
	if status != http.StatusOK || again["job"].(map[string]any)["id"] != id {
		t.Fatalf("repeat: %d %v, want 200 with job %v", status, again, id)
	}
	other := map[string]any{"type": "dev:simulate", "store_id": "idem", "payload": map[string]any{"steps": 2}}
	status, mismatch := call(t, http.MethodPost, base+"/api/background-jobs", other, "Idempotency-Key", "order-42")
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d %v, want 422", status, mismatch)
	}
	counts, err := a.Jobs.Counts(withTimeout(t, 10*time.Second), "idem")
	if err != nil || counts.Total != 1 {
		t.Errorf("store counts %+v (%v), want exactly 1 job", counts, err)
	}
}

func TestCancelPendingJobNeverStarts(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.SweepInterval = time.Second
	var runs atomic.Int32
	handlers := jobtype.NewRegistry()
	jobtype.Register[simulate.Args](handlers, jobtype.Func[simulate.Args](func(ctx context.Context, rt jobtype.Runtime, args simulate.Args) (any, error) {
		runs.Add(1)
		return simulate.Handler{}.Run(ctx, rt, args)
	}))
	a := env.App(t, app.Overrides{JobTypes: handlers})
	base := testenv.Serve(t, a)

	// Paused, so the job is certainly still pending when cancelled.
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/pause", map[string]any{"type": "dev:simulate"}); status != http.StatusOK {
		t.Fatalf("pause: %d", status)
	}
	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "c1", "payload": map[string]any{"steps": 1}})
	status, out := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil)
	if status != http.StatusOK || out["job"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel pending: %d %v", status, out)
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/resume", map[string]any{"type": "dev:simulate"}); status != http.StatusOK {
		t.Fatalf("resume: %d", status)
	}
	// A later job of the same type runs to completion, and the cancelled
	// job's message, if a worker had not dropped it yet, is dropped.
	next := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "c1", "payload": map[string]any{"steps": 1}})
	waitForStatus(t, base, next, "completed")
	eventually(t, time.Minute, func() error {
		return queuesEmpty(a)
	})
	if got := jobStatus(t, base, id)["status"]; got != "cancelled" {
		t.Errorf("cancelled job is now %v", got)
	}
	if runs.Load() != 1 {
		t.Errorf("handler ran %d times, want once (only the second job)", runs.Load())
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil); status != http.StatusConflict {
		t.Errorf("cancelling a finished job: %d, want 409", status)
	}
	counts, _ := a.Jobs.Counts(context.Background(), "c1")
	if counts.Cancelled != 1 || counts.Completed != 1 || counts.Pending != 0 {
		t.Errorf("counts = %+v", counts)
	}
}

func TestCancelRunningJobStopsIt(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	base := testenv.Serve(t, env.App(t, app.Overrides{}))

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "c2", "payload": map[string]any{"steps": 1000, "step_ms": 50}})
	eventually(t, 60*time.Second, func() error {
		if s := jobStatus(t, base, id); s["status"] != "running" || s["progress"].(float64) < 1 {
			return errors.New("not running with progress yet")
		}
		return nil
	})
	status, _ := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil)
	if status != http.StatusAccepted {
		t.Fatalf("cancel running: %d, want 202", status)
	}
	final := waitForStatus(t, base, id, "cancelled")
	if final["progress"].(float64) >= 100 {
		t.Errorf("cancelled job ran to the end: %v", final)
	}
}

// toggleArgs is a job that fails permanently while failing is set, and
// reports whether it resumed from a checkpoint.
type toggleArgs struct{}

func (toggleArgs) Kind() string { return "test:toggle" }

type toggle struct {
	failing atomic.Bool
	resumed atomic.Int32
}

func (h *toggle) Run(ctx context.Context, rt jobtype.Runtime, _ toggleArgs) (any, error) {
	var state struct{ Done int }
	if ok, _ := rt.Resume(&state); ok {
		h.resumed.Add(1)
	}
	rt.Progress(50, "half way")
	if err := rt.Checkpoint(struct{ Done int }{Done: 1}); err != nil {
		return nil, err
	}
	if h.failing.Load() {
		return nil, jobtype.Permanent(errors.New("invalid credentials"))
	}
	return map[string]int{"done": 2}, nil
}

func TestRetryFailedJobFromCheckpointAndFromStart(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	h := &toggle{}
	h.failing.Store(true)
	handlers := jobtype.NewRegistry()
	jobtype.Register[toggleArgs](handlers, h)
	a := env.App(t, app.Overrides{JobTypes: handlers})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "test:toggle", "store_id": "r1"})
	failed := waitForStatus(t, base, id, "failed")
	if failed["error"] != "invalid credentials" || failed["attempts"] != 1.0 {
		t.Fatalf("permanent error: %v, want failed at once with the message", failed)
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", `{"bogus": true}`); status != http.StatusBadRequest {
		t.Errorf("retry with an unknown field: %d, want 400", status)
	}

	// Retried while still failing: resumes from the checkpoint, fails again.
	status, out := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", nil)
	if status != http.StatusAccepted {
		t.Fatalf("retry: %d %v", status, out)
	}
	waitForStatus(t, base, id, "failed")
	if h.resumed.Load() != 1 {
		t.Errorf("retry resumed %d times from the checkpoint, want 1", h.resumed.Load())
	}

	// From the start: no checkpoint; and it completes now.
	h.failing.Store(false)
	status, _ = call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", map[string]any{"from_start": true})
	if status != http.StatusAccepted {
		t.Fatalf("retry from start: %d", status)
	}
	done := waitForStatus(t, base, id, "completed")
	if h.resumed.Load() != 1 || done["attempts"] != 1.0 || done["progress"] != 100.0 {
		t.Errorf("retry from start: resumed %d times, status %v", h.resumed.Load(), done)
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", nil); status != http.StatusConflict {
		t.Errorf("retrying a completed job: %d, want 409", status)
	}
	counts, _ := a.Jobs.Counts(context.Background(), "")
	if counts.Total != 1 || counts.Completed != 1 || counts.Failed != 0 {
		t.Errorf("counts after retries = %+v, want 1 job, completed", counts)
	}
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	status, paused := call(t, http.MethodPost, base+"/api/background-jobs/pause", nil)
	if status != http.StatusOK || paused["paused"] != true {
		t.Fatalf("pause: %d %v", status, paused)
	}
	_, queue := call(t, http.MethodGet, base+"/api/background-jobs/status", nil)
	if queue["status"].(map[string]any)["is_running"] != false {
		t.Errorf("is_running while paused: %v", queue["status"])
	}
	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "p1", "payload": map[string]any{"steps": 1}})
	// A worker that looks now leaves it alone, and its message too.
	runWorker(t, a)
	if got := jobStatus(t, base, id)["status"]; got != "pending" {
		t.Fatalf("job started while the queue was paused: %v", got)
	}
	depths, err := a.Queues.Depths(withTimeout(t, 10*time.Second))
	if err != nil || depths[job.PriorityNormal].Visible != 1 {
		t.Fatalf("while the queue is paused its message should wait, visible: %+v (%v)", depths[job.PriorityNormal], err)
	}
	status, resumed := call(t, http.MethodPost, base+"/api/background-jobs/resume", nil)
	if status != http.StatusOK || resumed["paused"] != false {
		t.Fatalf("resume: %d %v", status, resumed)
	}
	waitForStatus(t, base, id, "completed")
	_, queue = call(t, http.MethodGet, base+"/api/background-jobs/status", nil)
	if queue["status"].(map[string]any)["is_running"] != true {
		t.Errorf("is_running after resume: %v", queue["status"])
	}
	if status, _ := call(t, http.MethodPost, base+"/api/background-jobs/pause", map[string]any{"type": "no:such"}); status != http.StatusBadRequest {
		t.Errorf("pausing an unknown type: %d, want 400", status)
	}
}
