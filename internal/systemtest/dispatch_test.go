package systemtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/testenv"
)

// isJobQueue reports whether a SendMessage goes to the normal priority's queue.
func isJobQueue(env *testenv.Env, input any) bool {
	return *input.(*sqs.SendMessageInput).QueueUrl == env.URLs.Priority[job.PriorityNormal]
}

// A client that goes away right after its job was saved used to cancel the
// enqueue that follows the commit: the job waited for the sweep, a minute
// or two (the test failed: "right after the create the normal queue holds
// 0 messages"). Work after the commit no longer depends on the caller.
func TestAClientThatDisconnectsAfterCreatingDoesNotDelayTheJob(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	var disconnect atomic.Pointer[context.CancelFunc]
	faults.FailWhen(faultinject.SQS, "SendMessage", func(input any) bool {
		if c := disconnect.Load(); c != nil && isJobQueue(env, input) {
			(*c)() // the job is saved; now the client hangs up
		}
		return false
	}, 0, errNever)
	a := env.App(t, app.Overrides{SQSOptions: []func(*sqs.Options){faults.SQSOption()}})
	// The server sees the client go away as its request's context ending.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		disconnect.Store(&cancel)
		a.HTTP.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(api.Close)

	createJob(t, api.URL, map[string]any{"type": "dev:simulate", "store_id": "hung-up", "payload": map[string]any{"steps": 1}})
	depths, err := a.Queues.Depths(withTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n := depths[job.PriorityNormal].Visible; n != 1 {
		t.Errorf("right after the create the normal queue holds %d messages, want the job's", n)
	}
}

// The sweep used to count a job it failed to enqueue as enqueued (the test
// failed: "the sweep reported 1 jobs enqueued and error <nil>"): a failure is
// reported, and the job stays due for the next sweep.
func TestTheSweepReportsAFailedEnqueue(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	sends := faults.FailWhen(faultinject.SQS, "SendMessage", func(input any) bool { return isJobQueue(env, input) }, 0, faultinject.ServerError(faultinject.SQS))
	clk := &clock.Offset{}
	a := env.App(t, app.Overrides{SQSOptions: []func(*sqs.Options){faults.SQSOption()}, Clock: clk})
	ctx := withTimeout(t, time.Minute)
	j := createDirect(t, a, "unsent", map[string]any{"steps": 1})
	clk.Advance(2 * time.Minute) // past the grace a new job has to be enqueued
	report, err := a.Sweeper.Sweep(ctx)
	if sends.Hits() < 2 {
		t.Fatalf("the enqueues were not made to fail (%d)", sends.Hits())
	}
	if report.Enqueued != 0 || err == nil {
		t.Errorf("the sweep reported %d jobs enqueued and error %v; want none and the failure", report.Enqueued, err)
	}
	sends.Remove()
	if report, err := a.Sweeper.Sweep(ctx); err != nil || report.Enqueued != 1 {
		t.Errorf("the next sweep: %+v, %v; want the job enqueued", report, err)
	}
	runWorker(t, a)
	if got, _ := a.Jobs.Get(ctx, j.ID); got.Status != job.StatusCompleted {
		t.Errorf("job %s, want completed", got.Status)
	}
}
