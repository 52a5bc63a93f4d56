package systemtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/testenv"
)

// heldArgs is a test job that reports the progress it is given, then runs
// until the test lets it go.
type heldArgs struct {
	Name     string `json:"name"`
	Progress int    `json:"progress,omitempty"`
}

func (heldArgs) Kind() string { return "test:held" }

// holder runs test:held jobs, each until the test releases it by name.
type holder struct {
	mu       sync.Mutex
	gates    map[string]chan struct{}
	released map[string]bool
	running  map[string]bool
}

func newHolder() *holder {
	return &holder{gates: map[string]chan struct{}{}, released: map[string]bool{}, running: map[string]bool{}}
}

func (h *holder) gate(name string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gates[name] == nil {
		h.gates[name] = make(chan struct{})
	}
	return h.gates[name]
}

func (h *holder) Run(ctx context.Context, rt jobtype.Runtime, args heldArgs) (any, error) {
	if args.Progress > 0 {
		rt.Progress(args.Progress, "held")
		if err := rt.Checkpoint(struct{}{}); err != nil {
			return nil, err
		}
	}
	gate := h.gate(args.Name)
	h.setRunning(args.Name, true)
	defer h.setRunning(args.Name, false)
	select {
	case <-gate:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (h *holder) setRunning(name string, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running[name] = running
}

// release lets a job go on and end.
func (h *holder) release(name string) {
	gate := h.gate(name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.released[name] {
		h.released[name] = true
		close(gate)
	}
}

// releaseAll lets every job go, so that the system can stop.
func (h *holder) releaseAll() {
	h.mu.Lock()
	names := make([]string, 0, len(h.gates))
	for name := range h.gates {
		names = append(names, name)
	}
	h.mu.Unlock()
	for _, name := range names {
		h.release(name)
	}
}

// runningCount is how many of the named jobs their handler runs now.
func (h *holder) runningCount(names ...string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, name := range names {
		if h.running[name] {
			n++
		}
	}
	return n
}

// idleArgs is a test job that ends at once.
type idleArgs struct{}

func (idleArgs) Kind() string { return "test:idle" }

// explainedStatus reads a job's status and checks it against the OpenAPI
// document's schema: its waiting and estimate fields are part of the contract.
func explainedStatus(t *testing.T, validate func(string, int, []byte) error, base, id string) map[string]any {
	t.Helper()
	status := jobStatus(t, base, id)
	body, err := json.Marshal(map[string]any{"job": status})
	if err != nil {
		t.Fatal(err)
	}
	if err := validate("GET /api/background-jobs/{id}/status", http.StatusOK, body); err != nil {
		t.Errorf("the status of %s does not match the OpenAPI schema: %v\n%s", id, err, body)
	}
	return status
}

// checkField checks one field of a status against its JSON, as a client reads it.
func checkField(t *testing.T, what string, status map[string]any, field, want string) {
	t.Helper()
	var wanted any
	if err := json.Unmarshal([]byte(want), &wanted); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	if got := status[field]; !reflect.DeepEqual(got, wanted) {
		data, _ := json.Marshal(got)
		t.Errorf("%s: %s = %s\nwant %s", what, field, data, want)
	}
}

// A pending job says what it waits for, as the workers take the jobs
// ahead of it: jobs of a more urgent priority and older ones of its own,
// every worker busy, a pause. All five workers run jobs that hold until the
// test lets them go, so nothing moves unless the test moves it.
func TestAWaitingJobSaysWhatItWaitsFor(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	h := newHolder()
	handlers := jobtype.NewRegistry()
	jobtype.Register[heldArgs](handlers, h)
	jobtype.Register[idleArgs](handlers, jobtype.Func[idleArgs](func(context.Context, jobtype.Runtime, idleArgs) (any, error) { return nil, nil }))
	base := testenv.Serve(t, env.App(t, app.Overrides{JobTypes: handlers}))
	t.Cleanup(h.releaseAll) // before the system stops
	validate := compileResponseSchemas(t, loadOpenAPI(t))
	workers := env.Config.MaxConcurrency
	create := func(name, priority string) string {
		return createJob(t, base, map[string]any{"type": "test:held", "store_id": name, "priority": priority, "payload": map[string]any{"name": name}})
	}

	var blockers, blockerIDs []string
	for i := range workers {
		blockers = append(blockers, fmt.Sprintf("blocker-%d", i))
		blockerIDs = append(blockerIDs, create(blockers[i], "normal"))
	}
	eventually(t, 90*time.Second, func() error {
		if n := h.runningCount(blockers...); n < workers {
			return fmt.Errorf("%d of %d workers busy", n, workers)
		}
		return nil
	})
	create("normal-1", "normal")
	create("urgent-1", "urgent")
	create("normal-2", "normal")
	target := create("target", "normal")
	create("normal-3", "normal")
	low := create("low-1", "low")

	status := explainedStatus(t, validate, base, target)
	checkField(t, "behind an urgent and two older normal jobs", status, "waiting",
		`{"reason": "queued", "message": "3 jobs ahead of it (1 urgent, 2 normal), and all 5 workers are busy", "jobs_ahead": 3, "jobs_ahead_by_priority": {"urgent": 1, "normal": 2}}`)
	if _, ok := status["estimate"]; ok {
		t.Errorf("a pending job has an estimate: %v", status)
	}
	checkField(t, "a low job behind every other", explainedStatus(t, validate, base, low), "waiting",
		`{"reason": "queued", "message": "5 jobs ahead of it (1 urgent, 4 normal), and all 5 workers are busy", "jobs_ahead": 5, "jobs_ahead_by_priority": {"urgent": 1, "normal": 4}}`)
	// A running job that reports no progress cannot be estimated yet.
	running := explainedStatus(t, validate, base, blockerIDs[0])
	checkField(t, "a running job", running, "estimate", `{"message": "too early to estimate: 0% done"}`)
	if _, ok := running["waiting"]; ok {
		t.Errorf("a running job says it waits: %v", running)
	}

	// Pauses come first. A job of a paused type waits for its type (no
	// worker is free to set it aside); while the whole queue is paused,
	// every job waits for it.
	if status, out := call(t, http.MethodPost, base+"/api/background-jobs/pause", map[string]any{"type": "test:idle"}); status != http.StatusOK {
		t.Fatalf("pause test:idle: %d %v", status, out)
	}
	idle := createJob(t, base, map[string]any{"type": "test:idle", "store_id": "idle"})
	checkField(t, "a job of a paused type", explainedStatus(t, validate, base, idle), "waiting",
		`{"reason": "type_paused", "message": "test:idle jobs are paused and start when they resume"}`)
	if status, out := call(t, http.MethodPost, base+"/api/background-jobs/pause", map[string]any{}); status != http.StatusOK {
		t.Fatalf("pause the queue: %d %v", status, out)
	}
	for _, id := range []string{target, idle} {
		checkField(t, "while the queue is paused", explainedStatus(t, validate, base, id), "waiting",
			`{"reason": "queue_paused", "message": "the queue is paused; the job starts when it resumes"}`)
	}
	if status, out := call(t, http.MethodPost, base+"/api/background-jobs/resume", map[string]any{}); status != http.StatusOK {
		t.Fatalf("resume the queue: %d %v", status, out)
	}

	// As the workers' jobs end, they take the jobs ahead, most urgent
	// first; the count goes down until every worker is busy with one of
	// them, and the next free worker takes the job.
	ahead := []string{"urgent-1", "normal-1", "normal-2"}
	then := []string{
		`{"reason": "queued", "message": "2 jobs ahead of it (2 normal), and all 5 workers are busy", "jobs_ahead": 2, "jobs_ahead_by_priority": {"normal": 2}}`,
		`{"reason": "queued", "message": "1 job ahead of it (1 normal), and all 5 workers are busy", "jobs_ahead": 1, "jobs_ahead_by_priority": {"normal": 1}}`,
		`{"reason": "workers_busy", "message": "all 5 workers are busy; it starts when one is free", "jobs_ahead": 0}`,
	}
	for i, want := range then {
		h.release(blockers[i])
		eventually(t, 90*time.Second, func() error {
			if n := h.runningCount(ahead...); n != i+1 {
				return fmt.Errorf("%d of the jobs ahead run, want %d", n, i+1)
			}
			return nil
		})
		status := explainedStatus(t, validate, base, target)
		if status["status"] != "pending" {
			t.Fatalf("the job runs before the jobs ahead of it: %v", status)
		}
		checkField(t, fmt.Sprintf("once %d of the jobs ahead run", i+1), status, "waiting", want)
	}
	h.release(blockers[len(then)])
	eventually(t, 90*time.Second, func() error {
		if h.runningCount("target") != 1 {
			return errors.New("the job does not run")
		}
		return nil
	})
	status = explainedStatus(t, validate, base, target)
	if _, ok := status["waiting"]; ok || status["estimate"] == nil {
		t.Errorf("the running job: %v, want an estimate and no wait", status)
	}
}

type limitedArgs struct{}

func (limitedArgs) Kind() string { return "test:limited" }

type flakyArgs struct{}

func (flakyArgs) Kind() string { return "test:flaky" }

// A retrying job says when it goes on, and whose rate limit it waits out;
// a running job, when it should end. Every time is the injected clock's,
// so the test moves time instead of waiting for it. The worker runs when
// the test runs it.
func TestARetryingJobSaysWhenItGoesOnAndARunningOneWhenItEnds(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Hour, time.Hour, time.Hour}
	clk := clock.NewFake(time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC))
	h := newHolder()
	t.Cleanup(h.releaseAll)
	handlers := jobtype.NewRegistry()
	jobtype.Register[limitedArgs](handlers, jobtype.Func[limitedArgs](func(context.Context, jobtype.Runtime, limitedArgs) (any, error) {
		return nil, jobtype.RateLimited(90*time.Minute, errors.New("amazon: 429 QuotaExceeded"))
	}), jobtype.UsesConnection(marketplace.Amazon))
	jobtype.Register[flakyArgs](handlers, jobtype.Func[flakyArgs](func(context.Context, jobtype.Runtime, flakyArgs) (any, error) {
		return nil, errors.New("connection reset by peer")
	}))
	jobtype.Register[heldArgs](handlers, h)
	a := env.App(t, app.Overrides{Clock: clk, JobTypes: handlers})
	server := httptest.NewServer(a.API)
	t.Cleanup(server.Close)
	base := server.URL
	validate := compileResponseSchemas(t, loadOpenAPI(t))
	create := func(storeID, jobType string, payload string) string {
		t.Helper()
		j, _, err := a.Dispatcher.Create(withTimeout(t, 10*time.Second), dispatch.Request{StoreID: storeID, Type: jobType, Payload: json.RawMessage(payload)})
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}

	limited := create("limited", "test:limited", "{}")
	clk.Advance(time.Second)
	flaky := create("flaky", "test:flaky", "{}")
	checkField(t, "the first job, no worker busy", explainedStatus(t, validate, base, limited), "waiting",
		`{"reason": "starting", "message": "next in line; a worker takes it in a moment", "jobs_ahead": 0}`)
	checkField(t, "the job behind it", explainedStatus(t, validate, base, flaky), "waiting",
		`{"reason": "queued", "message": "1 job ahead of it (1 normal)", "jobs_ahead": 1, "jobs_ahead_by_priority": {"normal": 1}}`)

	// Both fail their first attempt at 09:00:01: Amazon asks to wait an
	// hour and a half; the other is retried on the schedule, in an hour.
	runWorker(t, a)
	status := explainedStatus(t, validate, base, limited)
	if status["status"] != "retrying" {
		t.Fatalf("the rate-limited job: %v", status)
	}
	checkField(t, "a rate-limited job", status, "waiting",
		`{"reason": "rate_limited", "message": "Amazon rate-limited the store's requests; attempt 2 of 4 starts when the limit resets", "until": "2031-03-01T10:30:01.000Z", "marketplace": "amazon"}`)
	checkField(t, "a failed attempt", explainedStatus(t, validate, base, flaky), "waiting",
		`{"reason": "retry_scheduled", "message": "attempt 1 failed; attempt 2 of 4 is scheduled", "until": "2031-03-01T10:00:01.000Z"}`)

	// An hour later the retry is due and in line; the rate limit still holds.
	clk.Advance(time.Hour)
	checkField(t, "a retry that is due", explainedStatus(t, validate, base, flaky), "waiting",
		`{"reason": "starting", "message": "next in line; a worker takes it in a moment", "jobs_ahead": 0}`)
	checkField(t, "a rate limit not yet reset", explainedStatus(t, validate, base, limited), "waiting",
		`{"reason": "rate_limited", "message": "Amazon rate-limited the store's requests; attempt 2 of 4 starts when the limit resets", "until": "2031-03-01T10:30:01.000Z", "marketplace": "amazon"}`)

	// A job a quarter done: too early to tell at first; 30 s later it goes
	// at a quarter per 30 s, so 90 s are left.
	held := create("estimated", "test:held", `{"name": "estimated", "progress": 25}`)
	ran := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		ran <- a.Worker.Run(ctx)
	}()
	eventually(t, 30*time.Second, func() error {
		if h.runningCount("estimated") != 1 {
			return errors.New("the job does not run")
		}
		return nil
	})
	status = explainedStatus(t, validate, base, held)
	checkField(t, "a running job just started", status, "estimate", `{"message": "too early to estimate: running for 0 s"}`)
	if _, ok := status["waiting"]; ok {
		t.Errorf("a running job says it waits: %v", status)
	}
	clk.Advance(30 * time.Second)
	checkField(t, "a running job a quarter done in 30 s", explainedStatus(t, validate, base, held), "estimate",
		`{"seconds_left": 90, "finish_at": "2031-03-01T10:02:01.000Z", "message": "about 2 min left"}`)
	h.release("estimated")
	if err := <-ran; err != nil {
		t.Fatalf("worker invocation: %v", err)
	}
	status = explainedStatus(t, validate, base, held)
	if status["status"] != "completed" || status["waiting"] != nil || status["estimate"] != nil {
		t.Errorf("a completed job: %v, want neither a wait nor an estimate", status)
	}
}

// Counting the jobs ahead reads the active jobs, never the stored ones,
// and at most jobtable.AheadReadLimit of them: with more, the count is
// "50+". The status of a waiting job costs the same with 100 and with 5,000
// stored jobs.
func TestExplainingAWaitCostsTheSameWithManyStoredJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 5,000 items")
	}
	t.Parallel()
	env := testenv.New(t)
	m := meter.New()
	a := env.App(t, app.Overrides{DynamoDBOptions: []func(*dynamodb.Options){m.DynamoDBOption()}})
	ctx := withTimeout(t, 2*time.Minute)
	// No worker runs: the jobs stay pending.
	for i := range jobtable.AheadReadLimit + 10 {
		if _, _, err := a.Dispatcher.Create(ctx, dispatchRequest(fmt.Sprintf("busy-%d", i), "dev:simulate")); err != nil {
			t.Fatal(err)
		}
	}
	target, _, err := a.Dispatcher.Create(ctx, dispatchRequest("last", "dev:simulate"))
	if err != nil {
		t.Fatal(err)
	}
	token := testenv.OperatorToken(t)
	measure := func() (meter.Usage, map[string]any) {
		m.Reset()
		req := httptest.NewRequest(http.MethodGet, "/api/background-jobs/"+target.ID+"/status", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		a.HTTP.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("job status: %d %s", rec.Code, rec.Body)
		}
		return meter.Total(m.Snapshot()), out["job"].(map[string]any)
	}

	seedJobs(t, env, "bulk", 0, 100)
	small, status := measure()
	checkField(t, "behind more active jobs than are read", status, "waiting",
		`{"reason": "queued", "message": "50+ jobs ahead of it", "jobs_ahead": 50, "jobs_ahead_by_priority": {"normal": 50}, "jobs_ahead_at_least": true}`)
	seedJobs(t, env, "bulk", 100, 5000)
	large, _ := measure()
	if small != large {
		t.Errorf("a waiting job's status cost %+v with 100 stored jobs and %+v with 5,000", small, large)
	}
	if small.Requests == 0 || small.ReadCapacity == 0 {
		t.Errorf("nothing was measured (%+v)", small)
	}
	t.Logf("cost of a waiting job's status: %+v", large)
}
