package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/testenv"
)

// attemptLog wraps dev:simulate and records when each run of the handler
// started, and how many runs there were.
type attemptLog struct {
	mu     sync.Mutex
	starts map[int][]time.Time // by attempt
	runs   atomic.Int32
}

func (l *attemptLog) registry() *jobtype.Registry {
	l.starts = map[int][]time.Time{}
	r := jobtype.NewRegistry()
	jobtype.Register[simulate.Args](r, jobtype.Func[simulate.Args](func(ctx context.Context, rt jobtype.Runtime, args simulate.Args) (any, error) {
		l.mu.Lock()
		l.starts[rt.Attempt()] = append(l.starts[rt.Attempt()], time.Now())
		l.mu.Unlock()
		l.runs.Add(1)
		return simulate.Handler{}.Run(ctx, rt, args)
	}))
	return r
}

func (l *attemptLog) firstStart(attempt int) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.starts[attempt]) == 0 {
		return time.Time{}
	}
	return l.starts[attempt][0]
}

// result decodes a finished dev:simulate job's result.
func simulateResult(t *testing.T, a *app.App, id string) (*job.Job, simulate.Result) {
	t.Helper()
	j, err := a.Jobs.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var r simulate.Result
	if len(j.Result) > 0 {
		if err := json.Unmarshal(j.Result, &r); err != nil {
			t.Fatal(err)
		}
	}
	return j, r
}

func TestTransientFailuresRetryOnScheduleThenComplete(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	delays := []time.Duration{1 * time.Second, 2 * time.Second, 3 * time.Second}
	env.Config.RetryDelays = delays
	log := &attemptLog{}
	a := env.App(t, app.Overrides{JobTypes: log.registry()})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "flaky", "payload": map[string]any{"steps": 6, "step_ms": 10, "fail_attempts": 2, "fail_with": "transient"}})
	sawRetrying := false
	eventually(t, 90*time.Second, func() error {
		s := jobStatus(t, base, id)
		if s["status"] == "retrying" {
			sawRetrying = true
			if s["error"] != "simulated failure" || s["next_attempt_at"] == nil {
				t.Errorf("retrying job shows %v, want its error and next_attempt_at", s)
			}
		}
		if s["status"] != "completed" {
			return fmt.Errorf("job is %v", s["status"])
		}
		return nil
	})
	if !sawRetrying {
		t.Error("never saw the job retrying")
	}
	j, result := simulateResult(t, a, id)
	if j.Attempts != 3 || result.Attempts != 3 {
		t.Errorf("completed on attempt %d (result says %d), want 3", j.Attempts, result.Attempts)
	}
	if result.StepRuns != 6 {
		t.Errorf("steps ran %d times for 6 steps: a checkpointed step ran again", result.StepRuns)
	}
	for attempt := 2; attempt <= 3; attempt++ {
		waited := log.firstStart(attempt).Sub(log.firstStart(attempt - 1))
		if waited < delays[attempt-2] {
			t.Errorf("attempt %d started %s after attempt %d, before the %s retry delay", attempt, waited, attempt-1, delays[attempt-2])
		}
	}
	counts, _ := a.Jobs.Counts(context.Background(), "")
	if counts.Completed != 1 || counts.Retrying != 0 || counts.Running != 0 || counts.Failed != 0 {
		t.Errorf("counts = %+v", counts)
	}
}

func TestRetriesRunOutThenFailed(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Second}
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "doomed", "payload": map[string]any{"steps": 2, "fail_attempts": 5}})
	final := waitForStatus(t, base, id, "failed")
	if final["attempts"] != 2.0 || final["error"] != "simulated failure" {
		t.Errorf("final = %v, want failed after 2 attempts with the error kept", final)
	}
	eventually(t, 30*time.Second, func() error { return queuesEmpty(a) })
}

func TestPermanentErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "perm", "payload": map[string]any{"steps": 4, "fail_attempts": 1, "fail_with": "permanent"}})
	final := waitForStatus(t, base, id, "failed")
	if final["attempts"] != 1.0 || final["error"] != "simulated permanent failure: validation failed" {
		t.Errorf("final = %v, want failed on attempt 1 with the message", final)
	}
	_, queue := call(t, http.MethodGet, base+"/api/background-jobs/status", nil)
	if stats := queue["statistics"].(map[string]any); stats["failed"] != 1.0 || stats["success_rate"] != "0.00%" {
		t.Errorf("statistics = %v", stats)
	}
}

func TestRateLimitWaitsForRetryAfter(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Hour} // the schedule would wait an hour
	log := &attemptLog{}
	a := env.App(t, app.Overrides{JobTypes: log.registry()})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "limited", "payload": map[string]any{"steps": 2, "fail_attempts": 1, "fail_with": "rate_limit", "retry_after_ms": 1500}})
	var retrying map[string]any
	eventually(t, 60*time.Second, func() error {
		retrying = jobStatus(t, base, id)
		if retrying["status"] != "retrying" {
			return fmt.Errorf("job is %v", retrying["status"])
		}
		return nil
	})
	next, err := time.Parse(time.RFC3339Nano, retrying["next_attempt_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if limit := time.Now().Add(1500 * time.Millisecond); next.After(limit) {
		t.Errorf("next attempt at %s, later than Retry-After allows (%s): the schedule's delay was used", next, limit)
	}
	waitForStatus(t, base, id, "completed")
	if waited := log.firstStart(2).Sub(log.firstStart(1)); waited < 1500*time.Millisecond {
		t.Errorf("second attempt started %s after the first, before Retry-After", waited)
	}
}

func TestPanicIsAFailedAttemptNotADeadWorker(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Second}
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "panicky", "payload": map[string]any{"steps": 2, "fail_attempts": 1, "fail_with": "panic"}})
	waitForStatus(t, base, id, "completed")
	j, result := simulateResult(t, a, id)
	if j.Attempts != 2 || result.StepRuns != 2 {
		t.Errorf("after a panic: attempts %d, step runs %d; want 2 and 2", j.Attempts, result.StepRuns)
	}
	// The same workers go on running jobs.
	other := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "after-panic", "payload": map[string]any{"steps": 1}})
	waitForStatus(t, base, other, "completed")
}

func TestLongJobCompletesThroughContinuations(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.WorkerTimeout = 4 * time.Second
	env.Config.DeadlineMargin = time.Second
	log := &attemptLog{}
	a := env.App(t, app.Overrides{JobTypes: log.registry()})
	base := testenv.Serve(t, a)

	// About 8 s of work: longer than two invocations.
	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "long", "payload": map[string]any{"steps": 40, "step_ms": 200}})
	waitForStatus(t, base, id, "completed")
	j, result := simulateResult(t, a, id)
	if j.Attempts != 1 {
		t.Errorf("attempts = %d: a continuation was counted as a retry", j.Attempts)
	}
	if runs := log.runs.Load(); runs < 3 {
		t.Errorf("the handler ran %d times; a job of 8 s in 4 s invocations needs at least 3", runs)
	}
	if result.StepRuns != 40 {
		t.Errorf("step runs = %d, want 40: a checkpointed step ran again", result.StepRuns)
	}
}

// countArgs is a job that counts its executions and waits a little, so that
// two workers would overlap if both ran it.
type countArgs struct{}

func (countArgs) Kind() string { return "test:count" }

type counter struct{ runs atomic.Int32 }

func (c *counter) Run(ctx context.Context, rt jobtype.Runtime, _ countArgs) (any, error) {
	c.runs.Add(1)
	time.Sleep(300 * time.Millisecond)
	return nil, nil
}

func TestDuplicateMessagesDeliveredConcurrentlyRunTheJobOnce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.Lease = 5 * time.Second // hidden duplicates come back sooner
	c := &counter{}
	handlers := jobtype.NewRegistry()
	jobtype.Register[countArgs](handlers, c)
	a := env.App(t, app.Overrides{JobTypes: handlers})
	ctx := withTimeout(t, time.Minute)

	j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: "dup-msg", Type: "test:count"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // three more copies of its message
		if err := a.Queues.Enqueue(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := a.Worker.Run(runCtx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := a.Jobs.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != job.StatusCompleted || c.runs.Load() != 1 {
		t.Errorf("job %s after %d runs, want completed after exactly 1", got.Status, c.runs.Load())
	}
	// The copies that were hidden come back and are dropped, not run.
	eventually(t, 90*time.Second, func() error {
		runCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := a.Worker.Run(runCtx); err != nil {
			return err
		}
		return queuesEmpty(a)
	})
	if c.runs.Load() != 1 {
		t.Errorf("a duplicate ran the job again: %d runs", c.runs.Load())
	}
}

func TestEnqueueFailureAfterSaveIsSweptAndCompletes(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.SweepInterval = 300 * time.Millisecond
	faults := faultinject.New()
	rule := faults.FailNth(faultinject.SQS, "SendMessage", 1, faultinject.ServerError(faultinject.SQS))
	a := env.App(t, app.Overrides{
		SQSOptions:   []func(*sqs.Options){faults.SQSOption()},
		TableOptions: jobtable.Options{EnqueueGrace: time.Second},
	})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "lost-send", "payload": map[string]any{"steps": 2}})
	if rule.Hits() != 1 {
		t.Fatalf("the enqueue was not made to fail (hits %d)", rule.Hits())
	}
	done := waitForStatus(t, base, id, "completed")
	if done["attempts"] != 1.0 {
		t.Errorf("attempts = %v", done["attempts"])
	}
	counts, _ := a.Jobs.Counts(context.Background(), "")
	if counts.Total != 1 || counts.Completed != 1 {
		t.Errorf("counts = %+v", counts)
	}
}

func TestStoreFaultsOnProgressAndCheckpointWrites(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Second, time.Second, time.Second}
	faults := faultinject.New()
	// Every third attempt of a progress or checkpoint write fails with a
	// server error, and the first outcome transactions are throttled: the
	// SDK's retryer tries them again, and nothing else has to.
	var writes atomic.Int32
	faults.FailWhen(faultinject.DynamoDB, "UpdateItem", func(input any) bool {
		in := input.(*dynamodb.UpdateItemInput)
		return in.ExpressionAttributeNames["#progress"] == "progress" && writes.Add(1)%3 == 0
	}, 0, faultinject.ServerError(faultinject.DynamoDB)).PerAttempt()
	throttled := faults.FailWhen(faultinject.DynamoDB, "TransactWriteItems", nil, 2, faultinject.Throttling(faultinject.DynamoDB)).PerAttempt()
	a := env.App(t, app.Overrides{DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "ddb-faults", "payload": map[string]any{"steps": 12, "step_ms": 20}})
	waitForStatus(t, base, id, "completed")
	j, result := simulateResult(t, a, id)
	if result.StepRuns != 12 || j.Progress != 100 {
		t.Errorf("step runs %d (want 12: no checkpointed step again), progress %d", result.StepRuns, j.Progress)
	}
	if writes.Load() < 3 || throttled.Hits() != 2 {
		t.Errorf("%d progress writes seen, %d throttles: the faults were not exercised", writes.Load(), throttled.Hits())
	}
	counts, _ := a.Jobs.Counts(context.Background(), "")
	if counts.Completed != 1 || counts.Total != 1 || counts.Running != 0 || counts.Retrying != 0 {
		t.Errorf("counts = %+v", counts)
	}
}

func TestPoisonMessagesGoToTheDeadLetterQueue(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)
	ctx := withTimeout(t, time.Minute)

	for _, body := range []string{`not json at all`, `{"job_id": "no-such-job"}`} {
		if _, err := env.SQS().SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(env.URLs.Priority[job.PriorityNormal]), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Queues.Wake(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// The listing is a sample of what SQS returns to one receive: look until
	// both have shown up.
	reasons := map[string]bool{}
	eventually(t, 60*time.Second, func() error {
		status, out := call(t, http.MethodGet, base+"/api/background-jobs/dead-letters", nil)
		if status != http.StatusOK || out["count"] != 2.0 {
			return fmt.Errorf("dead letters: %d %v", status, out)
		}
		for _, m := range out["messages"].([]any) {
			reasons[m.(map[string]any)["reason"].(string)] = true
		}
		if !reasons["unparseable message"] || !reasons["unknown job"] {
			return fmt.Errorf("dead-letter reasons so far: %v", reasons)
		}
		return nil
	})
	if err := queuesEmpty(a); err != nil {
		t.Error(err)
	}
}

// queuesEmpty reports whether every priority queue is empty.
func queuesEmpty(a *app.App) error {
	depths, err := a.Queues.Depths(context.Background())
	if err != nil {
		return err
	}
	for p, d := range depths {
		if d.Visible+d.InFlight+d.Delayed > 0 {
			return fmt.Errorf("the %s queue still holds %+v", p, d)
		}
	}
	return nil
}

func TestExpiredLeaseWithLostMessageIsRequeuedBySweep(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.SweepInterval = 300 * time.Millisecond
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, 2*time.Minute)

	// A worker claimed the job, then vanished together with the message.
	j := createDirect(t, a, "lost-message", map[string]any{"steps": 2})
	msg, err := a.Queues.Receive(ctx, job.PriorityNormal, time.Minute, 0)
	if err != nil || msg == nil || msg.JobID != j.ID {
		t.Fatalf("receive the job's message: %v %v", msg, err)
	}
	if err := a.Queues.Delete(ctx, msg); err != nil {
		t.Fatal(err)
	}
	read, err := a.Jobs.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Jobs.Claim(ctx, read, jobtable.Lease{Token: "vanished", ExpiresAt: time.Now().Add(time.Second)}, 0, jobtable.LogEntry{}); err != nil {
		t.Fatal(err)
	}

	base := testenv.Serve(t, a)
	waitForStatus(t, base, j.ID, "completed")
	done, _ := simulateResult(t, a, j.ID)
	if done.Attempts != 2 {
		t.Errorf("attempts = %d, want 2: the vanished worker's attempt counts", done.Attempts)
	}
}

// A worker took a job's message and vanished before it claimed the job: no
// lease, no due entry, only a message that comes back when its visibility
// times out. The sweep wakes a worker for it.
func TestMessageOfAVanishedWorkerIsPickedUpAgain(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.SweepInterval = 500 * time.Millisecond
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, time.Minute)
	j := createDirect(t, a, "vanished-early", map[string]any{"steps": 1})
	// Drain the wake too: nothing will wake a worker for this job but the sweep.
	if _, err := env.SQS().PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(env.URLs.Wake)}); err != nil {
		t.Fatal(err)
	}
	if msg, err := a.Queues.Receive(ctx, job.PriorityNormal, time.Second, 0); err != nil || msg == nil || msg.JobID != j.ID {
		t.Fatalf("receive the job's message: %v %v", msg, err)
	}
	base := testenv.Serve(t, a)
	waitForStatus(t, base, j.ID, "completed")
}
