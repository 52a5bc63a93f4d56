package systemtest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/testenv"
)

func TestCreatedJobRunsToCompletion(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	base := testenv.Serve(t, env.App(t, app.Overrides{}))

	id := createJob(t, base, map[string]any{
		"type": "dev:simulate", "store_id": "store-1", "priority": "high",
		"payload": map[string]any{"steps": 4, "step_ms": 20},
	})
	final := waitForStatus(t, base, id, "completed")

	// The guide's job status shape.
	hasKeys(t, "job status", final, "id", "type", "status", "progress", "progress_message")
	if final["id"] != id || final["type"] != "dev:simulate" || final["progress"] != float64(100) {
		t.Errorf("final status = %v, want id %s, type dev:simulate, progress 100", final, id)
	}
	if final["progress_message"] != "Simulating step 4/4" {
		t.Errorf("progress_message = %q", final["progress_message"])
	}

	status, full := call(t, http.MethodGet, base+"/api/background-jobs/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("get job: %d", status)
	}
	j := full["job"].(map[string]any)
	hasKeys(t, "job", j, "id", "store_id", "type", "status", "priority", "payload", "progress", "progress_message", "attempts", "created_at", "started_at", "finished_at", "result")
	if j["attempts"] != float64(1) || j["priority"] != "high" || j["store_id"] != "store-1" {
		t.Errorf("job = %v", j)
	}
	result := j["result"].(map[string]any)
	if result["step_runs"] != float64(4) {
		t.Errorf("result = %v, want 4 step runs", result)
	}
	for _, field := range []string{"created_at", "started_at", "finished_at"} {
		if _, err := time.Parse("2006-01-02T15:04:05.000Z07:00", j[field].(string)); err != nil {
			t.Errorf("%s = %v is not RFC 3339 with milliseconds", field, j[field])
		}
	}

	// The guide's queue status shape, with the job counted.
	for _, url := range []string{base + "/api/background-jobs/status", base + "/api/background-jobs/status?store_id=store-1"} {
		status, queue := call(t, http.MethodGet, url, nil)
		if status != http.StatusOK {
			t.Fatalf("queue status: %d", status)
		}
		hasKeys(t, "queue status", queue, "status", "statistics")
		s := queue["status"].(map[string]any)
		hasKeys(t, "status", s, "is_running", "currently_processing", "max_concurrent_jobs")
		stats := queue["statistics"].(map[string]any)
		hasKeys(t, "statistics", stats, "total", "completed", "failed", "pending", "running", "success_rate")
		want := map[string]any{"total": 1.0, "completed": 1.0, "failed": 0.0, "pending": 0.0, "running": 0.0, "success_rate": "100.00%"}
		for k, v := range want {
			if stats[k] != v {
				t.Errorf("%s: statistics.%s = %v, want %v", url, k, stats[k], v)
			}
		}
		if s["is_running"] != true || s["max_concurrent_jobs"] != 5.0 || s["currently_processing"] != 0.0 {
			t.Errorf("%s: status = %v", url, s)
		}
		h := queue["health"].(map[string]any)
		if h["success_rate"].(map[string]any)["rating"] != "excellent" || h["queue_depth"].(map[string]any)["rating"] != "healthy" {
			t.Errorf("%s: health = %v, want an excellent success rate and a healthy queue", url, h)
		}
		if byPriority, _ := h["queue_depth"].(map[string]any)["by_priority"].(map[string]any); len(byPriority) != 4 {
			t.Errorf("%s: depth by priority = %v, want the four queues", url, byPriority)
		}
	}
	_, other := call(t, http.MethodGet, base+"/api/background-jobs/status?store_id=store-2", nil)
	if other["statistics"].(map[string]any)["total"] != 0.0 {
		t.Errorf("another store's statistics count this store's job: %v", other)
	}
}

// gateArgs is a test job that runs until its gate opens, recording the
// order in which jobs start.
type gateArgs struct {
	Name string `json:"name"`
}

func (gateArgs) Kind() string { return "test:gate" }

type recorder struct {
	mu      sync.Mutex
	started []string
	gate    chan struct{}
	running atomic.Int32
	maxSeen atomic.Int32
	// release, when set, keeps every job running until the test closes it.
	release chan struct{}
}

func (r *recorder) Run(ctx context.Context, rt jobtype.Runtime, args gateArgs) (any, error) {
	now := r.running.Add(1)
	defer r.running.Add(-1)
	for {
		seen := r.maxSeen.Load()
		if now <= seen || r.maxSeen.CompareAndSwap(seen, now) {
			break
		}
	}
	r.mu.Lock()
	r.started = append(r.started, args.Name)
	r.mu.Unlock()
	if args.Name == "blocker" {
		select {
		case <-r.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if r.release != nil {
		select {
		case <-r.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, nil
}

func TestPriorityOrderWithOneWorkerBusy(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.MaxConcurrency = 1
	rec := &recorder{gate: make(chan struct{})}
	handlers := jobtype.NewRegistry()
	jobtype.Register[gateArgs](handlers, rec)
	base := testenv.Serve(t, env.App(t, app.Overrides{JobTypes: handlers}))

	blocker := createJob(t, base, map[string]any{"type": "test:gate", "store_id": "blocker", "payload": map[string]any{"name": "blocker"}})
	waitForStatus(t, base, blocker, "running")
	var ids []string
	for _, p := range []string{"low", "normal", "high", "urgent"} {
		ids = append(ids, createJob(t, base, map[string]any{"type": "test:gate", "store_id": "store-" + p, "priority": p, "payload": map[string]any{"name": p}}))
	}
	close(rec.gate)
	for _, id := range ids {
		waitForStatus(t, base, id, "completed")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	want := []string{"blocker", "urgent", "high", "normal", "low"}
	if fmt.Sprint(rec.started) != fmt.Sprint(want) {
		t.Errorf("jobs started in order %v, want %v", rec.started, want)
	}
}

func TestNeverMoreThanMaxConcurrentJobs(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	rec := &recorder{release: make(chan struct{})}
	handlers := jobtype.NewRegistry()
	jobtype.Register[gateArgs](handlers, rec)
	a := env.App(t, app.Overrides{JobTypes: handlers})
	base := testenv.Serve(t, a)

	var ids []string
	for i := range 12 {
		ids = append(ids, createJob(t, base, map[string]any{"type": "test:gate", "store_id": fmt.Sprintf("store-%d", i), "payload": map[string]any{"name": fmt.Sprint(i)}}))
	}
	// Every job holds until released: the workers fill up, and the rest
	// wait their turn however long that takes.
	limit := int32(env.Config.MaxConcurrency)
	eventually(t, 90*time.Second, func() error {
		if n := rec.running.Load(); n < limit {
			return fmt.Errorf("%d jobs running", n)
		}
		return nil
	})
	counts, err := a.Jobs.Counts(withTimeout(t, 10*time.Second), "")
	if err != nil || counts.Running != int64(limit) || counts.Pending != int64(12-limit) {
		t.Errorf("with every worker busy: %+v (%v); want %d running and the rest pending", counts, err, limit)
	}
	close(rec.release)
	for _, id := range ids {
		waitForStatus(t, base, id, "completed")
	}
	if got := rec.maxSeen.Load(); got != int32(env.Config.MaxConcurrency) {
		t.Errorf("at most %d jobs ran at once, want exactly max_concurrent_jobs = %d", got, env.Config.MaxConcurrency)
	}
}

func TestBadInputIsRejectedAndWritesNothing(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	tests := []struct {
		name string
		body string
		code string
	}{
		{"malformed JSON", `{"type": "dev:simulate", "store_id": `, "invalid_request"},
		{"not an object", `[1, 2]`, "invalid_request"},
		{"unknown type", `{"type": "amazon:export:everything", "store_id": "s1"}`, "unknown_job_type"},
		{"bad priority name", `{"type": "dev:simulate", "store_id": "s1", "priority": "asap"}`, "invalid_request"},
		{"bad priority number", `{"type": "dev:simulate", "store_id": "s1", "priority": 4}`, "invalid_request"},
		{"missing store_id", `{"type": "dev:simulate"}`, "invalid_request"},
		{"missing type", `{"store_id": "s1"}`, "invalid_request"},
		{"bad store_id", `{"type": "dev:simulate", "store_id": "../etc"}`, "invalid_request"},
		{"unknown field", `{"type": "dev:simulate", "store_id": "s1", "priorty": "high"}`, "invalid_request"},
		{"payload not an object", `{"type": "dev:simulate", "store_id": "s1", "payload": [1]}`, "invalid_request"},
		{"payload fails validation", `{"type": "dev:simulate", "store_id": "s1", "payload": {"steps": -1}}`, "invalid_payload"},
		{"payload with unknown field", `{"type": "dev:simulate", "store_id": "s1", "payload": {"stepz": 1}}`, "invalid_payload"},
	}
	for _, tt := range tests {
		status, out := call(t, http.MethodPost, base+"/api/background-jobs", tt.body)
		errObj, _ := out["error"].(map[string]any)
		if status != http.StatusBadRequest || errObj == nil || errObj["code"] != tt.code || errObj["message"] == "" {
			t.Errorf("%s: got %d %v, want 400 with code %s and a message", tt.name, status, out, tt.code)
		}
	}
	status, _ := call(t, http.MethodPost, base+"/api/background-jobs", `{"type": "dev:simulate", "store_id": "s1"}`, "Idempotency-Key", "has spaces")
	if status != http.StatusBadRequest {
		t.Errorf("bad idempotency key: %d, want 400", status)
	}

	counts, err := a.Jobs.Counts(withTimeout(t, 10*time.Second), "")
	if err != nil {
		t.Fatal(err)
	}
	if counts.Total != 0 || counts.Pending != 0 {
		t.Errorf("rejected requests were counted: %+v", counts)
	}
	page, err := a.Jobs.ListByStore(withTimeout(t, 10*time.Second), "s1", 10, "")
	if err != nil || len(page.Jobs) != 0 {
		t.Errorf("rejected requests saved jobs: %v %v", page.Jobs, err)
	}
	depths, err := a.Queues.Depths(withTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for p, d := range depths {
		if d.Visible+d.InFlight+d.Delayed != 0 {
			t.Errorf("rejected requests enqueued messages on the %s queue: %+v", p, d)
		}
	}
	// The same request, made valid, is accepted: the rejections were about the input.
	createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "s1", "payload": map[string]any{"steps": 1}})
}

func TestListStoreJobsNewestFirstWithCursor(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	handlers := jobtype.NewRegistry()
	jobtype.Register[simulate.Args](handlers, simulate.Handler{})
	a := env.App(t, app.Overrides{JobTypes: handlers})
	base := testenv.Serve(t, a)

	// One active job per (store, type): finish each before the next.
	var ids []string
	for range 5 {
		id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "lister", "payload": map[string]any{"steps": 0}})
		waitForStatus(t, base, id, "completed")
		ids = append(ids, id)
	}
	createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "someone-else", "payload": map[string]any{"steps": 0}})

	var listed []string
	cursor := ""
	for pages := 0; ; pages++ {
		url := base + "/api/background-jobs?store_id=lister&limit=2"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		status, out := call(t, http.MethodGet, url, nil)
		if status != http.StatusOK {
			t.Fatalf("list: %d %v", status, out)
		}
		for _, j := range out["jobs"].([]any) {
			listed = append(listed, j.(map[string]any)["id"].(string))
		}
		cursor, _ = out["next_cursor"].(string)
		if cursor == "" || pages > 5 {
			break
		}
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if fmt.Sprint(listed) != fmt.Sprint(want) {
		t.Errorf("listed %v, want newest first %v", listed, want)
	}
	status, out := call(t, http.MethodGet, base+"/api/background-jobs?store_id=lister&cursor=bogus", nil)
	if status != http.StatusBadRequest {
		t.Errorf("bogus cursor: %d %v", status, out)
	}
	status, _ = call(t, http.MethodGet, base+"/api/background-jobs/"+"no-such-job/status", nil)
	if status != http.StatusNotFound {
		t.Errorf("unknown job status: %d, want 404", status)
	}
}
