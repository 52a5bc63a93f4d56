package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/schema"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A handler reporting progress in a tight loop: each call only records in
// memory, and the keeper writes at most once per ProgressInterval.
func BenchmarkProgressCoalescing(b *testing.B) {
	w := New(nil, nil, jobtype.NewRegistry(), Config{Logger: quiet})
	rt := newRuntime(w, quiet, &job.Job{ID: "job"}, nil, func(error) {})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		rt.Progress(i%100, "Processing item")
	}
}

// benchStack is a table and queues of the benchmark's own on the emulators.
// It cannot use testenv, which builds the whole app and so imports this
// package; without the emulators the benchmark is skipped.
func benchStack(b *testing.B) (*jobtable.Table, *queue.Queues) {
	b.Helper()
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" || os.Getenv("AWS_ENDPOINT_URL_SQS") == "" {
		b.Skip("needs the local emulators: localstack/with-emulators.sh --fresh go test -bench . ./internal/worker")
	}
	ctx := context.Background()
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		b.Fatal(err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := "bench-worker-" + hex.EncodeToString(suffix)
	db := dynamodb.NewFromConfig(awsCfg)
	if err := schema.CreateTable(ctx, db, schema.Table, name); err != nil {
		b.Fatal(err)
	}
	client := sqs.NewFromConfig(awsCfg)
	urls, err := schema.CreateQueues(ctx, client, name)
	if err != nil {
		b.Fatal(err)
	}
	return jobtable.New(db, name, jobtable.Options{}), queue.New(client, queue.FromSchema(urls), clock.Real)
}

func pendingJob(b *testing.B, s *jobtable.Table, p job.Priority) *job.Job {
	b.Helper()
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	j := &job.Job{
		ID: hex.EncodeToString(id), StoreID: "store-" + hex.EncodeToString(id), Type: "bench:noop",
		Status: job.StatusPending, Priority: p, Payload: []byte("{}"), MaxAttempts: 4, CreatedAt: job.NewTime(time.Now()),
	}
	created, _, err := s.Create(context.Background(), jobtable.CreateRequest{Job: j})
	if err != nil {
		b.Fatal(err)
	}
	return created
}

// Picking the next message when the only one waits in the least urgent
// queue: the worker looks at every more urgent queue first.
func BenchmarkPriorityPick(b *testing.B) {
	s, q := benchStack(b)
	w := New(s, q, jobtype.NewRegistry(), Config{Logger: quiet})
	ctx := context.Background()
	j := pendingJob(b, s, job.PriorityLow)
	inv := &invocation{lastStarvationCheck: time.Now()}
	for b.Loop() {
		b.StopTimer()
		if err := q.Enqueue(ctx, j); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		msg, err := w.next(ctx, inv)
		if err != nil || msg == nil {
			b.Fatalf("picked %v, %v", msg, err)
		}
		b.StopTimer()
		if err := q.Delete(ctx, msg); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// Claiming a pending job as the worker does: a strongly consistent read,
// then the claim transaction fenced on the version read.
func BenchmarkClaim(b *testing.B) {
	s, _ := benchStack(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		j := pendingJob(b, s, job.PriorityNormal)
		b.StartTimer()
		read, err := s.Get(ctx, j.ID)
		if err != nil {
			b.Fatal(err)
		}
		lease := jobtable.Lease{Token: newToken(), ExpiresAt: time.Now().Add(time.Minute)}
		if _, err := s.Claim(ctx, read, lease, time.Minute, jobtable.LogEntry{}); err != nil {
			b.Fatal(err)
		}
	}
}
