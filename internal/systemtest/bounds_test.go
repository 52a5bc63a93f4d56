package systemtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/faultinject"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

// Every loop that tries again gives up after a few tries, and every wait
// ends with its context.

// transitionTo reports whether a TransactWriteItems is a job's transition
// to the status.
func transitionTo(input any, status job.Status) bool {
	in := input.(*dynamodb.TransactWriteItemsInput)
	if len(in.TransactItems) == 0 || in.TransactItems[0].Update == nil {
		return false
	}
	s, _ := in.TransactItems[0].Update.ExpressionAttributeValues[":status"].(*types.AttributeValueMemberS)
	return s != nil && s.Value == string(status)
}

// A cancel used to read the job again for as long as it kept changing:
// the test failed with 681 tries in five seconds, until its context ended.
func TestCancelGivesUpOnAJobThatKeepsChanging(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	raw := env.DynamoDB()
	var tries atomic.Int32
	faults.FailWhen(faultinject.DynamoDB, "TransactWriteItems", func(input any) bool {
		if !transitionTo(input, job.StatusCancelled) {
			return false
		}
		tries.Add(1)
		// Someone else changes the job between the cancel's read and write.
		key := input.(*dynamodb.TransactWriteItemsInput).TransactItems[0].Update.Key
		_, err := raw.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
			TableName: aws.String(env.Config.TableName), Key: key, UpdateExpression: aws.String("SET version = version + :one"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
		})
		if err != nil {
			t.Error(err)
		}
		return false
	}, 0, errNever)
	a := env.App(t, app.Overrides{DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})
	j := createDirect(t, a, "restless", map[string]any{"steps": 1})

	_, err := a.Jobs.Cancel(withTimeout(t, 30*time.Second), j.ID, "test")
	if !errors.Is(err, jobtable.ErrStale) || tries.Load() > 10 {
		t.Fatalf("%v after %d tries; want the job's change reported after a few", err, tries.Load())
	}
	api := httptest.NewServer(a.HTTP)
	t.Cleanup(api.Close)
	status, out := call(t, http.MethodPost, api.URL+"/api/background-jobs/"+j.ID+"/cancel", nil)
	if errObj, _ := out["error"].(map[string]any); status != http.StatusConflict || errObj["code"] != "job_changed" {
		t.Errorf("cancel through the API: %d %v; want 409 job_changed", status, out)
	}
	if got, _ := a.Jobs.Get(context.Background(), j.ID); got.Status != job.StatusPending {
		t.Errorf("the job is %s; the refused cancels must change nothing", got.Status)
	}
}

// A batch write whose items came back unprocessed was sent again for as
// long as they did: the test failed with 15 batch writes in five seconds,
// until its context ended.
func TestImportGivesUpOnItemsLeftUnprocessed(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	var writes atomic.Int32
	busy := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("tableTooBusy", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if batch, ok := in.Parameters.(*dynamodb.BatchWriteItemInput); ok {
					writes.Add(1)
					return middleware.InitializeOutput{Result: &dynamodb.BatchWriteItemOutput{UnprocessedItems: batch.RequestItems}}, middleware.Metadata{}, nil
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		})
	}
	a := env.App(t, app.Overrides{DynamoDBOptions: []func(*dynamodb.Options){busy}})
	ctx := withTimeout(t, 30*time.Second)
	imported := &job.Job{ID: "imported-1", StoreID: "s", Type: "dev:simulate", Status: job.StatusCompleted, Priority: job.PriorityNormal, Payload: []byte("{}"), MaxAttempts: 4, CreatedAt: job.NewTime(time.Now())}
	err := a.Jobs.ImportJobs(ctx, []*job.Job{imported})
	if err == nil || ctx.Err() != nil || writes.Load() > 10 {
		t.Errorf("%v after %d batch writes; want an error after a few", err, writes.Load())
	}
}

// An outcome write was tried three times, each time with the SDK's own
// attempts, sleeping between (the test failed: "the outcome was written
// in 12 attempts; want the SDK's (at most 4)"): the SDK's retryer is the
// one place that tries a failed request again.
func TestAnOutcomeIsTriedOnlyByTheSDKsRetryer(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	faults := faultinject.New()
	outcome := faults.FailWhen(faultinject.DynamoDB, "TransactWriteItems", func(input any) bool {
		return transitionTo(input, job.StatusCompleted)
	}, 0, faultinject.ServerError(faultinject.DynamoDB)).PerAttempt()
	a := env.App(t, app.Overrides{DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})
	j := createDirect(t, a, "unlucky", map[string]any{"steps": 1})
	runWorker(t, a)
	sdkAttempts := a.DB.Options().Retryer.MaxAttempts()
	if hits := outcome.Hits(); hits == 0 || hits > sdkAttempts {
		t.Errorf("the outcome was written in %d attempts; want the SDK's (at most %d)", hits, sdkAttempts)
	}
	// Not written: the job stays running, and its lease brings it back.
	if got, _ := a.Jobs.Get(context.Background(), j.ID); got.Status != job.StatusRunning {
		t.Errorf("job %s", got.Status)
	}
}
