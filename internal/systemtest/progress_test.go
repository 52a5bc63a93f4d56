package systemtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/testenv"
)

// busyArgs is a job that reports progress for every one of many items.
type busyArgs struct{}

func (busyArgs) Kind() string { return "test:busy" }

func TestProgressWritesAreCoalesced(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	var progressWrites atomic.Int32
	faults.FailWhen(faultinject.DynamoDB, "UpdateItem", func(input any) bool {
		if input.(*dynamodb.UpdateItemInput).ExpressionAttributeNames["#progress"] == "progress" {
			progressWrites.Add(1)
		}
		return false // observe only
	}, 0, faultinject.ServerError(faultinject.DynamoDB))
	var elapsed atomic.Int64
	const items = 4000
	handlers := jobtype.NewRegistry()
	jobtype.Register[busyArgs](handlers, jobtype.Func[busyArgs](func(ctx context.Context, rt jobtype.Runtime, _ busyArgs) (any, error) {
		start := time.Now()
		for i := 1; i <= items; i++ {
			rt.Progress(i*100/items, fmt.Sprintf("Exporting product %d/%d", i, items))
			time.Sleep(500 * time.Microsecond)
		}
		elapsed.Store(int64(time.Since(start)))
		return nil, nil
	}))
	a := env.App(t, app.Overrides{JobTypes: handlers, DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})
	base := testenv.Serve(t, a)

	id := createJob(t, base, map[string]any{"type": "test:busy", "store_id": "busy"})
	final := waitForStatus(t, base, id, "completed")
	if final["progress_message"] != fmt.Sprintf("Exporting product %d/%d", items, items) {
		t.Errorf("last progress message = %v", final["progress_message"])
	}
	// One write per second of work, plus the first and the last tick.
	worked := time.Duration(elapsed.Load())
	if limit := int32(worked/time.Second) + 2; progressWrites.Load() > limit || progressWrites.Load() == 0 {
		t.Errorf("%d progress calls over %s cost %d writes, want between 1 and %d", items, worked, progressWrites.Load(), limit)
	}
}
