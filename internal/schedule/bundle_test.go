package schedule_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/uuid"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/schedule"
	"github.com/dainostore/jobs/internal/testenv"
)

// testBundle is a jobs table on the emulators with schedules in it, and a
// runner whose jobs are created in the same table by fakeCreator, which
// stands for the dispatcher without its queues.
type testBundle struct {
	ctx     context.Context
	clock   *clock.Fake
	db      *dynamodb.Client
	table   string
	jobs    *jobtable.Table
	store   *schedule.Store
	creator *fakeCreator
	runner  *schedule.Runner
}

func setup(t *testing.T, start time.Time) *testBundle {
	t.Helper()
	env := testenv.New(t)
	db := env.DynamoDB()
	c := clock.NewFake(start)
	jobs := jobtable.New(db, env.Config.TableName, jobtable.Options{Clock: c})
	store := schedule.NewStore(db, env.Config.TableName, c)
	creator := &fakeCreator{jobs: jobs}
	return &testBundle{
		ctx: context.Background(), clock: c, db: db, table: env.Config.TableName,
		jobs: jobs, store: store, creator: creator,
		runner: schedule.NewRunner(store, creator, jobs, 0, testenv.Logger(t)),
	}
}

// fakeCreator creates jobs in the table as the dispatcher does, without
// enqueueing them, and records every request. fail, when set, is the
// answer to the next request.
type fakeCreator struct {
	jobs *jobtable.Table

	mu       sync.Mutex
	requests []dispatch.Request
	fail     error
}

func (f *fakeCreator) Create(ctx context.Context, req dispatch.Request) (*job.Job, bool, error) {
	f.mu.Lock()
	f.requests = append(f.requests, req)
	fail := f.fail
	f.fail = nil
	f.mu.Unlock()
	if fail != nil {
		return nil, false, fail
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, false, err
	}
	now := f.jobs.Now()
	j := &job.Job{
		ID: id.String(), StoreID: req.StoreID, Type: req.Type, Status: job.StatusPending,
		Priority: req.Priority, PriorityLevel: int(req.Priority), Payload: req.Payload,
		MaxAttempts: 1, CreatedAt: job.NewTime(now),
	}
	return f.jobs.Create(ctx, jobtable.CreateRequest{
		Job: j, IdempotencyKey: req.IdempotencyKey, RequestHash: req.RequestHash,
		Event: jobtable.Event(now, "created", 0, "created by %s", req.CreatedBy),
	})
}

func (f *fakeCreator) failNext(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func (f *fakeCreator) requestsSoFar() []dispatch.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dispatch.Request(nil), f.requests...)
}

// dueOf reads the due time out of a run's idempotency key.
func dueOf(t *testing.T, req dispatch.Request) time.Time {
	t.Helper()
	i := strings.LastIndex(req.IdempotencyKey, ":")
	seconds, err := strconv.ParseInt(req.IdempotencyKey[i+1:], 10, 64)
	if err != nil {
		t.Fatalf("idempotency key %q has no due time", req.IdempotencyKey)
	}
	return time.Unix(seconds, 0).UTC()
}

// finish ends a job as a worker would.
func (b *testBundle) finish(t *testing.T, id string, status job.Status, message string) {
	t.Helper()
	j, err := b.jobs.Get(b.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := b.jobs.Claim(b.ctx, j, jobtable.Lease{Token: "worker", ExpiresAt: b.clock.Now().Add(time.Minute)}, time.Minute, jobtable.LogEntry{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.jobs.Finish(b.ctx, claimed, jobtable.Outcome{Status: status, Error: message}); err != nil {
		t.Fatal(err)
	}
}

func (b *testBundle) create(t *testing.T, d schedule.Definition) *schedule.Schedule {
	t.Helper()
	if d.StoreID == "" {
		d.StoreID = "store-1"
	}
	if d.Type == "" {
		d.Type = "dev:simulate"
	}
	s, err := b.store.Create(b.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (b *testBundle) get(t *testing.T, s *schedule.Schedule) *schedule.Schedule {
	t.Helper()
	got, err := b.store.Get(b.ctx, s.StoreID, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (b *testBundle) runDue(t *testing.T) schedule.Report {
	t.Helper()
	report, err := b.runner.RunDue(b.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func (b *testBundle) dueKeys(t *testing.T) []schedule.Key {
	t.Helper()
	keys, err := b.store.Due(b.ctx, b.clock.Now().Add(365*24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func utc(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
}

func describeRuns(runs []schedule.Run) string {
	var lines []string
	for _, r := range runs {
		lines = append(lines, fmt.Sprintf("%s %s %s %q", r.DueAt, r.Outcome, r.JobID, r.Message))
	}
	return strings.Join(lines, "\n")
}
