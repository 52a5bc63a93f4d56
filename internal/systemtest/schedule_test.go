package systemtest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/testenv"
)

// sqsTimeTravel records the delays the worker asks SQS for (message
// visibility, wake delay) and shortens them to at most a second, so a test
// can move the injected clock rather than wait for minutes.
type sqsTimeTravel struct {
	mu          sync.Mutex
	visibility  []int32
	wakeDelays  []int32
	faults      *faultinject.Injector
	queueWakeID string
}

func newSQSTimeTravel(wakeURL string) *sqsTimeTravel {
	tt := &sqsTimeTravel{faults: faultinject.New(), queueWakeID: wakeURL}
	never := errors.New("never returned")
	tt.faults.FailWhen(faultinject.SQS, "ChangeMessageVisibility", func(input any) bool {
		in := input.(*sqs.ChangeMessageVisibilityInput)
		tt.mu.Lock()
		tt.visibility = append(tt.visibility, in.VisibilityTimeout)
		tt.mu.Unlock()
		in.VisibilityTimeout = min(in.VisibilityTimeout, 1)
		return false
	}, 0, never)
	tt.faults.FailWhen(faultinject.SQS, "SendMessage", func(input any) bool {
		in := input.(*sqs.SendMessageInput)
		if *in.QueueUrl == tt.queueWakeID && in.DelaySeconds > 0 {
			tt.mu.Lock()
			tt.wakeDelays = append(tt.wakeDelays, in.DelaySeconds)
			tt.mu.Unlock()
			in.DelaySeconds = 0
		}
		return false
	}, 0, never)
	return tt
}

type alwaysFailArgs struct{}

func (alwaysFailArgs) Kind() string { return "test:always-fail" }

// The guide's schedule, 5 s, 30 s, 5 min, with injected time: each retry is
// recorded in DynamoDB with its next_attempt_at, hides the message for the
// delay and sends a wake delayed by it; no attempt starts before its time;
// after the third retry the job is failed and its message deleted.
func TestRetryScheduleWithInjectedTime(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	clk := clock.NewFake(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	travel := newSQSTimeTravel(env.URLs.Wake)
	var attempts []time.Time
	handlers := jobtype.NewRegistry()
	jobtype.Register[alwaysFailArgs](handlers, jobtype.Func[alwaysFailArgs](func(ctx context.Context, rt jobtype.Runtime, _ alwaysFailArgs) (any, error) {
		attempts = append(attempts, clk.Now())
		return nil, errors.New("marketplace timed out")
	}))
	a := env.App(t, app.Overrides{
		JobTypes:   handlers,
		Clock:      clk,
		SQSOptions: []func(*sqs.Options){travel.faults.SQSOption()},
	})
	ctx := withTimeout(t, 2*time.Minute)
	created, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: "schedule", Type: "test:always-fail"})
	if err != nil {
		t.Fatal(err)
	}
	runWorker := func() {
		t.Helper()
		time.Sleep(1100 * time.Millisecond) // the shortened visibility

		runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := a.Worker.Run(runCtx); err != nil {
			t.Fatal(err)
		}
	}

	start := clk.Now()
	runWorker()
	for i, delay := range []time.Duration{5 * time.Second, 30 * time.Second, 5 * time.Minute} {
		j, err := a.Jobs.Get(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status != job.StatusRetrying || j.Attempts != i+1 || j.Error != "marketplace timed out" || j.NextAttemptAt == nil || !j.NextAttemptAt.Equal(clk.Now().Add(delay)) {
			t.Fatalf("after attempt %d: %s, attempts %d, error %q, next attempt %v; want retrying at now+%s", i+1, j.Status, j.Attempts, j.Error, j.NextAttemptAt, delay)
		}
		// Too early: the message is back (its visibility was shortened) but the job waits.
		clk.Advance(delay - time.Second)
		runWorker()
		if len(attempts) != i+1 {
			t.Fatalf("attempt %d started %s early", i+2, time.Second)
		}
		clk.Advance(time.Second)
		runWorker()
	}
	j, err := a.Jobs.Get(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != job.StatusFailed || j.Attempts != 4 || j.Error != "marketplace timed out" {
		t.Errorf("after the third retry: %s after %d attempts, error %q; want failed after 4 with the error kept", j.Status, j.Attempts, j.Error)
	}
	wantStarts := []time.Duration{0, 5 * time.Second, 35 * time.Second, 335 * time.Second}
	for i, want := range wantStarts {
		if i >= len(attempts) || attempts[i].Sub(start) != want {
			t.Errorf("attempt %d started at +%v, want +%s", i+1, attempts, want)
		}
	}
	travel.mu.Lock()
	defer travel.mu.Unlock()
	if !containsInOrder(travel.visibility, 5, 30, 300) || !containsInOrder(travel.wakeDelays, 5, 30, 300) {
		t.Errorf("SQS was asked for visibility %v and wake delays %v; want 5, 30, 300 in order", travel.visibility, travel.wakeDelays)
	}
	if err := queuesEmpty(a); err != nil {
		t.Errorf("the failed job's message is still queued: %v", err)
	}
}

// containsInOrder reports whether want appears in got as a subsequence.
func containsInOrder(got []int32, want ...int32) bool {
	i := 0
	for _, v := range got {
		if i < len(want) && v == want[i] {
			i++
		}
	}
	return i == len(want)
}

type selfCancelArgs struct{}

func (selfCancelArgs) Kind() string { return "test:self-cancel" }

func TestHandlerCancelledErrorEndsTheJobCancelled(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	handlers := jobtype.NewRegistry()
	jobtype.Register[selfCancelArgs](handlers, jobtype.Func[selfCancelArgs](func(ctx context.Context, rt jobtype.Runtime, _ selfCancelArgs) (any, error) {
		return nil, jobtype.Cancelled(errors.New("the store disconnected its Amazon account"))
	}))
	a := env.App(t, app.Overrides{JobTypes: handlers})
	base := testenv.Serve(t, a)
	id := createJob(t, base, map[string]any{"type": "test:self-cancel", "store_id": "s"})
	final := waitForStatus(t, base, id, "cancelled")
	if final["attempts"] != 1.0 || final["error"] != "cancelled: the store disconnected its Amazon account" {
		t.Errorf("final = %v", final)
	}
}

// A job keeps the retry schedule it was created with. Before, the worker
// read the configuration's, so a deployment with a longer schedule gave
// the jobs already in flight more attempts than they were shown (the test
// failed: "failed after 5 attempts (max 2 shown), want failed after 2").
func TestAJobKeepsTheRetryScheduleItWasCreatedWith(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{0} // two attempts, the second at once
	before := env.App(t, app.Overrides{})
	j := createDirect(t, before, "kept-schedule", map[string]any{"steps": 1, "fail_attempts": 10})
	env.Config.RetryDelays = []time.Duration{0, 0, 0, 0} // a later deployment: five
	after := env.App(t, app.Overrides{})
	ctx := withTimeout(t, time.Minute)
	var got *job.Job
	for range 10 {
		runWorker(t, after)
		var err error
		if got, err = after.Jobs.Get(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if got.Status.Terminal() {
			break
		}
	}
	if got.Status != job.StatusFailed || got.Attempts != 2 || got.MaxAttempts != 2 {
		t.Errorf("%s after %d attempts (max %d shown), want failed after 2", got.Status, got.Attempts, got.MaxAttempts)
	}
}
