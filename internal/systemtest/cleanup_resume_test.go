package systemtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/schema"
	"github.com/dainostore/jobs/internal/testenv"
)

// A cleanup job interrupted after its first page (DynamoDB fails it) goes
// on from its checkpoint in its next attempt, and its result counts what
// both attempts removed.
func TestCleanupJobResumesWithItsCountsAfterAnInterruption(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Second}
	c := &clock.Offset{}

	faults := faultinject.New()
	var jobDeletes atomic.Int32
	faults.FailWhen(faultinject.DynamoDB, "DeleteItem", func(in any) bool {
		if pk, _ := in.(*dynamodb.DeleteItemInput).Key[schema.PartitionKey].(*types.AttributeValueMemberS); pk != nil && strings.HasPrefix(pk.Value, "JOB#") {
			jobDeletes.Add(1)
		}
		return false
	}, 0, faultinject.ServerError(faultinject.DynamoDB))
	isIndexRead := func(in any) bool {
		return aws.ToString(in.(*dynamodb.QueryInput).IndexName) == schema.CleanupIndex
	}
	var mu sync.Mutex
	var pageLimits []int32
	faults.FailWhen(faultinject.DynamoDB, "Query", func(in any) bool {
		if isIndexRead(in) {
			mu.Lock()
			pageLimits = append(pageLimits, aws.ToInt32(in.(*dynamodb.QueryInput).Limit))
			mu.Unlock()
		}
		return false
	}, 0, faultinject.ServerError(faultinject.DynamoDB))
	// The first read of the cleanup index after a job was removed fails.
	interruption := faults.FailWhen(faultinject.DynamoDB, "Query", func(in any) bool {
		return isIndexRead(in) && jobDeletes.Load() > 0
	}, 1, faultinject.ServerError(faultinject.DynamoDB))
	a := env.App(t, app.Overrides{Clock: c, DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})
	ctx := withTimeout(t, 2*time.Minute)

	const expired = 5
	var ids []string
	lines := 0
	for i := range expired {
		j := createDirect(t, a, fmt.Sprintf("old-%d", i), map[string]any{"steps": 1})
		if _, err := a.Jobs.Cancel(ctx, j.ID, "a user"); err != nil {
			t.Fatal(err)
		}
		log, err := a.Jobs.Logs(ctx, j.ID, "", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
		lines += len(log.Entries)
	}
	c.Advance(env.Config.FailedRetention + time.Hour)

	cleanup, _, err := a.Dispatcher.Create(ctx, dispatch.Request{
		StoreID: job.PlatformStore, Type: "system:cleanup", Priority: job.PriorityLow, Payload: []byte(`{"page_size": 2}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.Serve(t, a)
	var j *job.Job
	eventually(t, time.Minute, func() error {
		j, err = a.Jobs.Get(ctx, cleanup.ID)
		if err == nil && j.Status.Terminal() {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("the cleanup job is %s", j.Status)
		}
		return err
	})
	if j.Status != job.StatusCompleted || interruption.Hits() != 1 || j.Attempts != 2 {
		t.Fatalf("the cleanup job is %s after %d attempts (error %q) with %d interruptions, want it completed in a second attempt after one",
			j.Status, j.Attempts, j.Error, interruption.Hits())
	}

	var report jobtable.CleanupReport
	if err := json.Unmarshal(j.Result, &report); err != nil {
		t.Fatal(err)
	}
	if want := (jobtable.CleanupReport{JobsDeleted: expired, LogLinesDeleted: lines}); report != want {
		t.Errorf("cleanup result = %+v, want %+v: what both attempts removed", report, want)
	}
	for _, id := range ids {
		if _, err := a.Jobs.Get(ctx, id); !errors.Is(err, jobtable.ErrNotFound) {
			t.Errorf("expired job %s still stored: %v", id, err)
		}
	}
	log, err := a.Jobs.Logs(ctx, cleanup.ID, "info", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	resumed := false
	for _, e := range log.Entries {
		resumed = resumed || (e.Message == "resuming the cleanup" && e.Attempt == 2)
	}
	if !resumed {
		t.Error("the cleanup job's log does not tell that its second attempt resumed the first")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, limit := range pageLimits {
		if limit < 1 || limit > 2 {
			t.Errorf("the cleanup index was read %v entries at a time, want pages of at most 2", pageLimits)
			break
		}
	}
}
