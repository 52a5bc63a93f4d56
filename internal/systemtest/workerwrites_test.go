package systemtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/testenv"
	"github.com/dainostore/jobs/internal/worker"
)

// How a running job's writes behave when they race or fail, against the
// emulators: the worker's own tests check the same with stand-ins.

type raceArgs struct{}

func (raceArgs) Kind() string { return "test:race" }

// errNever is the error of a hook that never fails a call.
var errNever = errors.New("never returned")

// progressOf reads the percent of a progress write, and whether it carries
// a checkpoint; ok is false for any other UpdateItem.
func progressOf(input any) (percent string, checkpoint, ok bool) {
	in := input.(*dynamodb.UpdateItemInput)
	if in.ExpressionAttributeNames["#progress"] != "progress" {
		return "", false, false
	}
	p, _ := in.ExpressionAttributeValues[":progress"].(*types.AttributeValueMemberN)
	_, checkpoint = in.ExpressionAttributeValues[":checkpoint"]
	return p.Value, checkpoint, p != nil
}

// The keeper's periodic progress write and a checkpoint used to write at
// once: held up, the keeper's 40% landed after the checkpoint's 50%, and
// the job showed 40% (the test failed: "after the 50% checkpoint the job
// showed 40%"). One writer at a time, each with the latest progress.
func TestProgressNeverGoesBackwardsWhenWritesRace(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	keeperWriting, checkpointWritten := make(chan struct{}), make(chan struct{})
	var holdOnce sync.Once
	faults.FailWhen(faultinject.DynamoDB, "UpdateItem", func(input any) bool {
		percent, checkpoint, ok := progressOf(input)
		if ok && !checkpoint && percent == "40" {
			holdOnce.Do(func() {
				close(keeperWriting)
				// Held up: a checkpoint written meanwhile would overtake it.
				select {
				case <-checkpointWritten:
				case <-time.After(2 * time.Second):
				}
			})
		}
		return false
	}, 0, errNever)
	var a *app.App
	var lowest atomic.Int32
	lowest.Store(100)
	handlers := jobtype.NewRegistry()
	jobtype.Register[raceArgs](handlers, jobtype.Func[raceArgs](func(ctx context.Context, rt jobtype.Runtime, _ raceArgs) (any, error) {
		rt.Progress(40, "Exporting: 12/30")
		select {
		case <-keeperWriting: // the keeper's next tick writes 40%
		case <-time.After(30 * time.Second):
			return nil, errors.New("the keeper never wrote")
		}
		rt.Progress(50, "Exporting: 15/30")
		if err := rt.Checkpoint(map[string]int{"next": 15}); err != nil {
			return nil, err
		}
		close(checkpointWritten)
		// Whatever lands from now on must not show less than 50%.
		for range 20 {
			j, err := a.Jobs.Get(ctx, rt.JobID())
			if err != nil {
				return nil, err
			}
			lowest.Store(min(lowest.Load(), int32(j.Progress)))
			time.Sleep(50 * time.Millisecond)
		}
		return nil, nil
	}))
	a = env.App(t, app.Overrides{JobTypes: handlers, DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})
	ctx := withTimeout(t, time.Minute)
	created, _, err := a.Dispatcher.Create(ctx, dispatchRequest("race", "test:race"))
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, a)
	if got, _ := a.Jobs.Get(ctx, created.ID); got.Status != job.StatusCompleted {
		t.Fatalf("job %s", got.Status)
	}
	if lowest.Load() < 50 {
		t.Errorf("after the 50%% checkpoint the job showed %d%%", lowest.Load())
	}
}

type chattyArgs struct{}

func (chattyArgs) Kind() string { return "test:chatty" }

// A flush of 30 log lines whose second batch of 25 failed used to write
// the first batch again with the rest (the test failed: "line 0 is in the
// log 2 times"): only the lines not written are written again.
func TestLogLinesAreWrittenOnceWhenABatchFails(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	secondBatch := faults.FailNth(faultinject.DynamoDB, "BatchWriteItem", 2, faultinject.ServerError(faultinject.DynamoDB))
	var a *app.App
	handlers := jobtype.NewRegistry()
	jobtype.Register[chattyArgs](handlers, jobtype.Func[chattyArgs](func(ctx context.Context, rt jobtype.Runtime, _ chattyArgs) (any, error) {
		for i := range 30 {
			rt.Log(slog.LevelInfo, fmt.Sprintf("line %d", i))
		}
		// Let the keeper flush (the second batch fails) and flush again.
		for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(50 * time.Millisecond) {
			logs, err := a.Jobs.Logs(ctx, rt.JobID(), "info", 100, "")
			if err != nil {
				return nil, err
			}
			if secondBatch.Hits() == 1 && countLines(logs.Entries) >= 30 {
				break
			}
		}
		return nil, nil
	}))
	a = env.App(t, app.Overrides{JobTypes: handlers, DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})
	ctx := withTimeout(t, time.Minute)
	created, _, err := a.Dispatcher.Create(ctx, dispatchRequest("chatty", "test:chatty"))
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, a)
	if secondBatch.Hits() != 1 {
		t.Fatalf("the second batch was not made to fail (%d hits)", secondBatch.Hits())
	}
	logs, err := a.Jobs.Logs(ctx, created.ID, "info", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range logs.Entries {
		count[e.Message]++
	}
	for i := range 30 {
		if n := count[fmt.Sprintf("line %d", i)]; n != 1 {
			t.Errorf("line %d is in the log %d times, want once", i, n)
		}
	}
}

func countLines(entries []jobtable.LogEntry) int {
	n := 0
	for _, e := range entries {
		if e.Event == "" {
			n++
		}
	}
	return n
}

type stubbornArgs struct{}

func (stubbornArgs) Kind() string { return "test:stubborn" }

// A handler that finished while its keeper had given the lease up (its
// progress writes kept failing) used to be stopped as if another worker
// had the job, and run again later (the test failed: "job is running");
// nobody else had it, and it finishes under its lease.
func TestAJobThatSucceedsAfterItsKeeperGaveUpIsCompleted(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	failing := faults.FailWhen(faultinject.DynamoDB, "UpdateItem", func(input any) bool {
		_, _, ok := progressOf(input)
		return ok
	}, 0, faultinject.ServerError(faultinject.DynamoDB))
	var runs atomic.Int32
	handlers := jobtype.NewRegistry()
	jobtype.Register[stubbornArgs](handlers, jobtype.Func[stubbornArgs](func(ctx context.Context, rt jobtype.Runtime, _ stubbornArgs) (any, error) {
		runs.Add(1)
		rt.Progress(10, "Importing products: 50/500")
		<-ctx.Done() // the keeper gives up: its writes fail until the lease is nearly out
		return map[string]int{"imported": 500}, nil
	}))
	a := env.App(t, app.Overrides{
		JobTypes:        handlers,
		DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()},
		WorkerConfig:    worker.Config{Lease: 3 * time.Second, Heartbeat: time.Second, ProgressInterval: 100 * time.Millisecond},
	})
	ctx := withTimeout(t, time.Minute)
	created, _, err := a.Dispatcher.Create(ctx, dispatchRequest("stubborn", "test:stubborn"))
	if err != nil {
		t.Fatal(err)
	}
	runWorker(t, a)
	if failing.Hits() == 0 {
		t.Fatal("no progress write was made to fail")
	}
	got, err := a.Jobs.Get(ctx, created.ID)
	if err != nil || got.Status != job.StatusCompleted || got.Attempts != 1 || runs.Load() != 1 {
		t.Errorf("job is %s after %d attempts and %d runs (%v); want completed after one", got.Status, got.Attempts, runs.Load(), err)
	}
}
