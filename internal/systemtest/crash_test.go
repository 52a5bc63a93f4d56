package systemtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

// A write that reached DynamoDB but whose answer was lost looks, to the
// writer, like a crash right after it: every third transaction here (creates,
// claims, outcomes) is applied and then reported as failed. The counters
// still equal a recount of the jobs, and every job still finishes.
func TestCountersEqualARecountAfterLostWrites(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.Lease = 5 * time.Second
	env.Config.SweepInterval = 500 * time.Millisecond
	env.Config.RetryDelays = []time.Duration{time.Second, time.Second, time.Second}
	faults := faultinject.New()
	var transactions atomic.Int32
	lost := faults.FailWhen(faultinject.DynamoDB, "TransactWriteItems", func(any) bool {
		return transactions.Add(1)%3 == 0
	}, 0, faultinject.ServerError(faultinject.DynamoDB)).AfterSend()
	a := env.App(t, app.Overrides{
		DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()},
		TableOptions:    jobtable.Options{EnqueueGrace: time.Second},
	})
	testenv.Serve(t, a)
	ctx := withTimeout(t, 3*time.Minute)

	var ids []string
	for i := range 20 {
		payload := fmt.Sprintf(`{"steps": 3, "step_ms": 10, "fail_attempts": %d}`, i%3)
		j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: fmt.Sprintf("lossy-%d", i), Type: "dev:simulate", Payload: []byte(payload)})
		if err != nil {
			// The create's answer was lost: it may or may not have happened.
			continue
		}
		ids = append(ids, j.ID)
	}
	// Every job the table holds finishes, including those whose create
	// answer was lost (the sweep enqueues them).
	var all []*job.Job
	eventually(t, 2*time.Minute, func() error {
		all = all[:0]
		for i := range 20 {
			page, err := a.Jobs.ListByStore(ctx, fmt.Sprintf("lossy-%d", i), 10, "")
			if err != nil {
				return err
			}
			for _, j := range page.Jobs {
				if !j.Status.Terminal() {
					return fmt.Errorf("job %s is %s", j.ID, j.Status)
				}
				all = append(all, j)
			}
		}
		return nil
	})
	if len(all) < len(ids) {
		t.Fatalf("%d jobs stored, fewer than the %d created", len(all), len(ids))
	}
	if lost.Hits() < 5 {
		t.Fatalf("only %d lost writes were injected", lost.Hits())
	}
	faults.Reset()
	counts, err := a.Jobs.Counts(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := recount(all); counts != want {
		t.Errorf("counters %+v differ from a recount %+v after %d lost writes", counts, want, lost.Hits())
	}
}
