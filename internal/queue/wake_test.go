package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/testenv"
)

func setupWakes(t *testing.T) (*queue.Queues, *sqs.Client, string) {
	t.Helper()
	env := testenv.New(t)
	client := env.SQS()
	return queue.New(client, env.URLs, clock.Real), client, env.URLs.Wake
}

// receiveAll takes every wake that is visible now and reports how many.
func receiveAll(t *testing.T, client *sqs.Client, url string) int {
	t.Helper()
	n := 0
	for {
		out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 60,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return n
		}
		n += len(out.Messages)
	}
}

// Wakes that were due before a worker's last look found every queue empty
// announce messages already taken: they are deleted.
func TestWakesDueBeforeTheQueuesWereFoundEmptyAreDropped(t *testing.T) {
	t.Parallel()
	q, client, url := setupWakes(t)
	ctx := context.Background()
	for range 12 { // more than one receive's worth
		if err := q.Wake(ctx, 0); err != nil {
			t.Fatal(err)
		}
	}
	// As if the last look began two seconds after they were sent.
	dropped, err := q.DropStaleWakes(ctx, time.Now().Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 12 {
		t.Errorf("dropped %d wakes, want 12", dropped)
	}
	if left := receiveAll(t, client, url); left != 0 {
		t.Errorf("%d wakes left, want none", left)
	}
}

// A wake that became due after the queues were found empty may announce a
// message the last look could not see: it is kept and stays visible, and
// so is a wake that says nothing of when it was due.
func TestWakesThatMayAnnounceANewerMessageAreKept(t *testing.T) {
	t.Parallel()
	q, client, url := setupWakes(t)
	ctx := context.Background()
	lastLook := time.Now()
	if err := q.Wake(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"wake":true}`)}); err != nil {
		t.Fatal(err)
	}
	dropped, err := q.DropStaleWakes(ctx, lastLook)
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 0 {
		t.Errorf("dropped %d wakes, want none", dropped)
	}
	if visible := receiveAll(t, client, url); visible != 2 {
		t.Errorf("%d wakes visible after the look, want both", visible)
	}
}

// A delayed wake (a retry's) is not visible before it is due, so no worker
// can drop it early.
func TestADelayedWakeIsNotDroppedBeforeItIsDue(t *testing.T) {
	t.Parallel()
	q, client, url := setupWakes(t)
	ctx := context.Background()
	if err := q.Wake(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if dropped, err := q.DropStaleWakes(ctx, time.Now().Add(time.Minute)); err != nil || dropped != 0 {
		t.Fatalf("dropped %d wakes (%v), want none", dropped, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for receiveAll(t, client, url) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the delayed wake never became visible")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
