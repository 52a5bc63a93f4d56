package systemtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/testenv"
)

// delayedSetup is the API (without workers: the test runs them) on a clock
// the test moves, with every AWS request metered.
func delayedSetup(t *testing.T) (*app.App, string, *clock.Offset, *meter.Meter) {
	t.Helper()
	env := testenv.New(t)
	clk := &clock.Offset{}
	usage := meter.New()
	a := env.App(t, app.Overrides{Clock: clk,
		DynamoDBOptions: []func(*dynamodb.Options){usage.DynamoDBOption()},
		SQSOptions:      []func(*sqs.Options){usage.SQSOption()}})
	api := httptest.NewServer(a.HTTP)
	t.Cleanup(api.Close)
	return a, api.URL, clk, usage
}

func createDelayed(t *testing.T, base, storeID string, body map[string]any) map[string]any {
	t.Helper()
	status, answer := call(t, http.MethodPost, base+"/api/background-jobs", body, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusCreated {
		t.Fatalf("create %v: %d %v", body, status, answer)
	}
	return answer["job"].(map[string]any)
}

func jobWaiting(t *testing.T, base, storeID, id string) map[string]any {
	t.Helper()
	status, answer := call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/status", nil, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusOK {
		t.Fatalf("status of %s: %d %v", id, status, answer)
	}
	waiting, _ := answer["job"].(map[string]any)["waiting"].(map[string]any)
	return waiting
}

// A job delayed by two days waits in the job table: until its time comes
// near, each sweep costs what it costs with no job at all, no message is
// sent, and its status says when it starts. It is the store's active job of
// its type from the start. Near its time the sweep sends its message,
// delayed to the second, and it starts at its time, not before.
func TestADelayedJobStartsAtItsTimeAndNotBefore(t *testing.T) {
	t.Parallel()
	a, base, clk, usage := delayedSetup(t)
	ctx := withTimeout(t, 2*time.Minute)

	usage.Reset()
	if _, err := a.Sweeper.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	idleSweep := usage.Snapshot()

	created := createDelayed(t, base, "store-night", map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 2}, "run_in": "48h"})
	id := created["id"].(string)
	runAt, err := time.Parse(time.RFC3339, created["run_at"].(string))
	if err != nil || created["status"] != "pending" {
		t.Fatalf("created %v (%v), want pending with its run_at", created, err)
	}
	if wantAt := clk.Now().Add(48 * time.Hour); runAt.Sub(wantAt).Abs() > 5*time.Second {
		t.Errorf("run_at %s, want 48 h from now (%s)", runAt, wantAt)
	}
	waiting := jobWaiting(t, base, "store-night", id)
	if waiting["reason"] != "scheduled" || waiting["until"] != created["run_at"] || !strings.Contains(waiting["message"].(string), "(in 48 h)") {
		t.Errorf("waiting %v, want scheduled until its run_at, in 48 h", waiting)
	}
	status, answer := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate"}, bearer(testenv.StoreToken(t, "store-night"))...)
	if status != http.StatusConflict || !strings.Contains(errorMessage(answer), "scheduled to start at "+runAt.Format(time.RFC3339)) {
		t.Errorf("a second job of the type: %d %v, want 409 saying when the first starts", status, answer)
	}

	// Sweeps over the two days: the waiting job costs nothing.
	for _, before := range []time.Duration{47 * time.Hour, 24 * time.Hour, time.Hour, 15 * time.Minute} {
		clk.Advance(runAt.Add(-before).Sub(clk.Now()))
		usage.Reset()
		report, err := a.Sweeper.Sweep(ctx)
		if err != nil || report.Enqueued != 0 {
			t.Fatalf("sweep %s before the job's time: %+v, %v; want nothing enqueued", before, report, err)
		}
		if got := usage.Snapshot(); !sameRequests(got, idleSweep) {
			t.Errorf("a sweep %s before the job's time made %v; one with no job at all makes %v", before, got, idleSweep)
		}
		if n := messages(t, a); n != 0 {
			t.Fatalf("%d messages queued %s before the job's time", n, before)
		}
	}

	// Three seconds before: the sweep sends its message, delayed to its
	// time, and a worker starts it then.
	clk.Advance(runAt.Add(-3 * time.Second).Sub(clk.Now()))
	if report, err := a.Sweeper.Sweep(ctx); err != nil || report.Enqueued != 1 {
		t.Fatalf("sweep at the job's time: %+v, %v; want it enqueued", report, err)
	}
	done := runUntilFinished(t, a, id)
	if done.Status != job.StatusCompleted || done.StartedAt == nil || done.StartedAt.Before(runAt) {
		t.Fatalf("delayed job %s, started at %v; want completed, started at its time %s or after", done.Status, done.StartedAt, runAt)
	}
}

// A delayed job can be cancelled while it waits; it frees its type for the
// store at once, and no sweep ever sends it.
func TestADelayedJobIsCancelledWhileItWaits(t *testing.T) {
	t.Parallel()
	a, base, clk, _ := delayedSetup(t)
	ctx := withTimeout(t, time.Minute)
	at := clk.Now().Add(6 * time.Hour).UTC().Truncate(time.Second)
	created := createDelayed(t, base, "store-later", map[string]any{"type": "dev:simulate", "run_at": at.In(time.FixedZone("CET", 3600)).Format(time.RFC3339)})
	if created["run_at"] != at.Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("run_at %v, want %s in UTC", created["run_at"], at)
	}
	id := created["id"].(string)
	status, answer := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil, bearer(testenv.StoreToken(t, "store-later"))...)
	if status != http.StatusOK || answer["job"].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("cancel of a delayed job: %d %v", status, answer)
	}
	createDelayed(t, base, "store-later", map[string]any{"type": "dev:simulate", "run_in": "12h"})
	clk.Advance(7 * time.Hour)
	if report, err := a.Sweeper.Sweep(ctx); err != nil || report.Enqueued != 0 {
		t.Errorf("sweep after the cancelled job's time: %+v, %v; want nothing enqueued", report, err)
	}
	if n := messages(t, a); n != 0 {
		t.Errorf("%d messages queued for a cancelled job", n)
	}
}

// A job delayed by less than SQS's 15 minutes is enqueued at once with its
// message delayed; it starts at its time without a sweep. Bad delays are
// refused and nothing is written.
func TestAShortDelayNeedsNoSweep(t *testing.T) {
	t.Parallel()
	a, base, _, _ := delayedSetup(t)
	created := createDelayed(t, base, "store-soon", map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 1}, "run_in": "3s"})
	runAt, _ := time.Parse(time.RFC3339, created["run_at"].(string))
	done := runUntilFinished(t, a, created["id"].(string))
	if done.Status != job.StatusCompleted || done.StartedAt.Before(runAt) {
		t.Fatalf("job delayed by 3 s: %s, started %v; want completed, started at %s or after", done.Status, done.StartedAt, runAt)
	}

	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"type": "dev:simulate", "run_in": "tomorrow"}, "run_in"},
		{map[string]any{"type": "dev:simulate", "run_in": "-5m"}, "run_in"},
		{map[string]any{"type": "dev:simulate", "run_at": "02:00"}, "run_at"},
		{map[string]any{"type": "dev:simulate", "run_in": "5m", "run_at": "2030-01-01T02:00:00Z"}, "run_in"},
		{map[string]any{"type": "dev:simulate", "run_in": "9000h"}, "run_in"},
	} {
		status, answer := call(t, http.MethodPost, base+"/api/background-jobs", bad.body, bearer(testenv.StoreToken(t, "store-bad-delay"))...)
		fields, _ := answer["error"].(map[string]any)["fields"].([]any)
		if status != http.StatusBadRequest || len(fields) != 1 || fields[0].(map[string]any)["field"] != bad.field {
			t.Errorf("create with %v: %d %v; want 400 naming %s", bad.body, status, answer, bad.field)
		}
	}
	status, answer := call(t, http.MethodGet, base+"/api/background-jobs?store_id=store-bad-delay", nil, bearer(testenv.OperatorToken(t))...)
	if status != http.StatusOK || len(answer["jobs"].([]any)) != 0 {
		t.Errorf("refused creates left jobs: %d %v", status, answer)
	}
}

// runUntilFinished runs worker invocations until the job has finished.
func runUntilFinished(t *testing.T, a *app.App, id string) *job.Job {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		runWorker(t, a)
		j, err := a.Jobs.Get(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status.Terminal() || time.Now().After(deadline) {
			return j
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// messages counts the messages in the job queues, delayed ones included.
func messages(t *testing.T, a *app.App) int {
	t.Helper()
	depths, err := a.Queues.Depths(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range depths {
		n += d.Visible + d.InFlight + d.Delayed
	}
	return n
}

// sameRequests says whether two snapshots made the same requests.
func sameRequests(a, b map[string]meter.Usage) bool {
	if len(a) != len(b) {
		return false
	}
	for op, u := range a {
		if b[op].Requests != u.Requests {
			return false
		}
	}
	return true
}
