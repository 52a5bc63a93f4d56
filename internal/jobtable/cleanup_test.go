package jobtable_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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

// The cleanup reads a lock naming an active job; the job ends (a user
// cancels it, which deletes the lock); the cleanup reads the job, ended; the
// user retries it, which puts the lock again; then the cleanup deletes the
// lock it read. The lock it deletes must be the one it read, and not the
// retried job's.
func TestCleanupKeepsTheLockOfAJobRetriedWhileItLooked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// untokened: the lock was put before locks carried a token.
		untokened bool
	}{{"lock with a token", false}, {"lock without a token", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t)
			user := env.App(t, app.Overrides{})
			ctx := withTimeout(t, time.Minute)
			j, _, err := user.Dispatcher.Create(ctx, dispatch.Request{StoreID: "race", Type: "dev:simulate"})
			if err != nil {
				t.Fatal(err)
			}
			lock := map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "LOCK#race#dev:simulate"}, "sk": &types.AttributeValueMemberS{Value: "LOCK"},
			}
			if tc.untokened {
				if _, err := env.DynamoDB().UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(env.Config.TableName), Key: lock, UpdateExpression: aws.String("REMOVE lock_token"),
				}); err != nil {
					t.Fatal(err)
				}
			}

			faults := faultinject.New()
			var ended, retried sync.Once
			endErr, retryErr := errors.New("the job was never ended"), errors.New("the job was never retried")
			faults.FailWhen(faultinject.DynamoDB, "GetItem", func(in any) bool {
				if partitionOf(in) == "JOB#"+j.ID {
					ended.Do(func() { _, endErr = user.Jobs.Cancel(ctx, j.ID, "a user") })
				}
				return false
			}, 0, faultinject.ServerError(faultinject.DynamoDB))
			faults.FailWhen(faultinject.DynamoDB, "DeleteItem", func(in any) bool {
				if partitionOf(in) == "LOCK#race#dev:simulate" {
					retried.Do(func() { _, retryErr = user.Jobs.Retry(ctx, j.ID, false, "a user") })
				}
				return false
			}, 0, faultinject.ServerError(faultinject.DynamoDB))
			cleaner := env.App(t, app.Overrides{DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})

			report, err := cleaner.Jobs.Cleanup(ctx, jobtable.CleanupOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if endErr != nil || retryErr != nil {
				t.Fatalf("the interleaving did not happen: ending the job: %v; retrying it: %v", endErr, retryErr)
			}
			if report.LocksReleased != 0 {
				t.Errorf("cleanup released %d locks, want none: the retried job holds its lock", report.LocksReleased)
			}
			// The retried job still holds its store and type: a second job
			// of them is refused, naming it.
			second, _, err := user.Dispatcher.Create(ctx, dispatch.Request{StoreID: "race", Type: "dev:simulate"})
			if err == nil {
				t.Fatalf("a second job %s of the retried job's store and type was created; want a duplicate of %s", second.ID, j.ID)
			}
			var duplicate *jobtable.DuplicateError
			if !errors.As(err, &duplicate) || duplicate.ExistingJobID != j.ID {
				t.Fatalf("creating a second job of the retried job's store and type: %v; want a duplicate of %s", err, j.ID)
			}
			// And it can still run to its end.
			retriedJob, err := user.Jobs.Get(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			claimed, err := user.Jobs.Claim(ctx, retriedJob, jobtable.Lease{Token: "worker", ExpiresAt: time.Now().Add(time.Minute)}, time.Minute, jobtable.LogEntry{})
			if err != nil {
				t.Fatal(err)
			}
			if err := user.Jobs.Finish(ctx, claimed, jobtable.Outcome{Status: job.StatusCompleted}); err != nil {
				t.Errorf("the retried job cannot complete: %v", err)
			}
		})
	}
}

// A job retried between the moment the cleanup found it expired and the
// moment it acts on it is not expired any more: it keeps its log.
func TestCleanupKeepsTheLogOfAJobRetriedWhileItLooked(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	c := clock.NewFake(time.Now())
	user := env.App(t, app.Overrides{Clock: c})
	ctx := withTimeout(t, time.Minute)
	j, _, err := user.Dispatcher.Create(ctx, dispatch.Request{StoreID: "history", Type: "dev:simulate"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := user.Jobs.AppendLogs(ctx, j.ID, []jobtable.LogEntry{{At: job.NewTime(c.Now()), Level: "info", Message: "imported 40 of 90 products"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := user.Jobs.Cancel(ctx, j.ID, "a user"); err != nil {
		t.Fatal(err)
	}
	before := logMessages(t, user.Jobs, j.ID)
	c.Advance(env.Config.FailedRetention + time.Hour)

	// The cleanup's first call on the job's partition, whatever it is,
	// comes after it found the job expired in its index.
	faults := faultinject.New()
	var retried sync.Once
	retryErr := errors.New("the job was never retried")
	faults.FailWhen(faultinject.DynamoDB, "", func(in any) bool {
		if partitionOf(in) == "JOB#"+j.ID {
			retried.Do(func() { _, retryErr = user.Jobs.Retry(ctx, j.ID, false, "a user") })
		}
		return false
	}, 0, faultinject.ServerError(faultinject.DynamoDB))
	cleaner := env.App(t, app.Overrides{Clock: c, DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})

	report, err := cleaner.Jobs.Cleanup(ctx, jobtable.CleanupOptions{LookBackDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if retryErr != nil {
		t.Fatalf("the job was not retried while the cleanup looked: %v", retryErr)
	}
	if report != (jobtable.CleanupReport{}) {
		t.Errorf("cleanup report = %+v, want nothing removed", report)
	}
	got, err := user.Jobs.Get(ctx, j.ID)
	if err != nil || got.Status != job.StatusPending {
		t.Fatalf("the retried job: %v %v, want it pending", got, err)
	}
	after := logMessages(t, user.Jobs, j.ID)
	for _, line := range before {
		if !slices.Contains(after, line) {
			t.Errorf("the retried job lost the log line %q; its log is now %q", line, after)
		}
	}
}

// The cleanup reads its index a bounded page at a time, stops when its
// context ends, and, given the state it reported last, goes on from there
// with its counts kept.
func TestCleanupGoesPageByPageAndResumesWhereItStopped(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	c := clock.NewFake(time.Now())
	user := env.App(t, app.Overrides{Clock: c})
	ctx := withTimeout(t, time.Minute)
	const jobs = 5
	var ids []string
	lines := 0
	for i := range jobs {
		j, _, err := user.Dispatcher.Create(ctx, dispatch.Request{StoreID: fmt.Sprintf("paged-%d", i), Type: "dev:simulate"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := user.Jobs.Cancel(ctx, j.ID, "a user"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
		lines += len(logMessages(t, user.Jobs, j.ID))
	}
	c.Advance(env.Config.FailedRetention + time.Hour)

	faults := faultinject.New()
	var mu sync.Mutex
	var pageLimits []int32
	faults.FailWhen(faultinject.DynamoDB, "Query", func(in any) bool {
		q := in.(*dynamodb.QueryInput)
		if aws.ToString(q.IndexName) == schema.CleanupIndex {
			mu.Lock()
			pageLimits = append(pageLimits, aws.ToInt32(q.Limit))
			mu.Unlock()
		}
		return false
	}, 0, faultinject.ServerError(faultinject.DynamoDB))
	cleaner := env.App(t, app.Overrides{Clock: c, DynamoDBOptions: []func(*dynamodb.Options){faults.DynamoDBOption()}})

	// Stopped after the first page that removed something.
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	var last jobtable.CleanupState
	partial, err := cleaner.Jobs.Cleanup(stopCtx, jobtable.CleanupOptions{LookBackDays: 1, PageSize: 2, AfterPage: func(s jobtable.CleanupState) error {
		last = s
		if s.Report.JobsDeleted > 0 {
			stop()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a cleanup whose context ended: %v, want it stopped", err)
	}
	if partial.JobsDeleted == 0 || partial.JobsDeleted >= jobs || partial != last.Report {
		t.Fatalf("stopped after its first page with %+v (last reported %+v), want some of the %d jobs removed", partial, last.Report, jobs)
	}

	report, err := cleaner.Jobs.Cleanup(ctx, jobtable.CleanupOptions{LookBackDays: 1, PageSize: 2, From: last})
	if err != nil {
		t.Fatal(err)
	}
	if want := (jobtable.CleanupReport{JobsDeleted: jobs, LogLinesDeleted: lines}); report != want {
		t.Errorf("resumed cleanup reports %+v, want %+v: what both runs removed", report, want)
	}
	for _, id := range ids {
		if _, err := user.Jobs.Get(ctx, id); !errors.Is(err, jobtable.ErrNotFound) {
			t.Errorf("expired job %s still stored: %v", id, err)
		}
	}
	for _, limit := range pageLimits {
		if limit < 1 || limit > 2 {
			t.Errorf("the cleanup index was read %v entries at a time, want pages of at most 2", pageLimits)
			break
		}
	}
}

// partitionOf is the partition a DynamoDB call reads or writes first.
func partitionOf(input any) string {
	var key map[string]types.AttributeValue
	switch in := input.(type) {
	case *dynamodb.GetItemInput:
		key = in.Key
	case *dynamodb.DeleteItemInput:
		key = in.Key
	case *dynamodb.UpdateItemInput:
		key = in.Key
	case *dynamodb.QueryInput:
		if in.IndexName == nil {
			key = map[string]types.AttributeValue{"pk": in.ExpressionAttributeValues[":pk"]}
		}
	case *dynamodb.BatchWriteItemInput:
		for _, requests := range in.RequestItems {
			if len(requests) > 0 && requests[0].DeleteRequest != nil {
				key = requests[0].DeleteRequest.Key
			}
		}
	}
	pk, _ := key["pk"].(*types.AttributeValueMemberS)
	if pk == nil {
		return ""
	}
	return pk.Value
}

// logMessages is a job's log as a user reads it.
func logMessages(t *testing.T, jobs *jobtable.Table, id string) []string {
	t.Helper()
	page, err := jobs.Logs(context.Background(), id, "", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var messages []string
	for _, e := range page.Entries {
		messages = append(messages, e.Message)
	}
	return messages
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
