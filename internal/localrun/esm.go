// Package localrun runs the Lambda functions' handlers on one machine the
// way AWS would: an SQS event source mapping that polls the wake queue and
// invokes the worker handler with Lambda's batch and failure semantics and a
// deadline, and timers in place of EventBridge rules.
package localrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dainostore/jobs/internal/clock"
)

// SQSHandler is a Lambda handler for SQS events with partial batch responses.
type SQSHandler func(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error)

// EventSourceMapping polls a queue and invokes a handler, like Lambda's SQS
// event source mapping with ReportBatchItemFailures: at most MaxConcurrency
// invocations at once, each with up to BatchSize messages and a deadline of
// FunctionTimeout; messages of a successful invocation are deleted except
// those it reports as failed; a failed or crashed invocation leaves its
// whole batch to come back after the visibility timeout.
type EventSourceMapping struct {
	Client          *sqs.Client
	QueueURL        string
	QueueARN        string
	BatchSize       int
	MaxConcurrency  int
	FunctionTimeout time.Duration
	Handler         SQSHandler
	Logger          *slog.Logger
}

// Run polls until ctx ends, then waits for running invocations to finish.
func (m *EventSourceMapping) Run(ctx context.Context) error {
	if m.BatchSize <= 0 || m.MaxConcurrency <= 0 || m.FunctionTimeout <= 0 {
		return errors.New("event source mapping needs a batch size, a maximum concurrency and a function timeout")
	}
	var wg sync.WaitGroup
	for poller := 0; poller < m.MaxConcurrency; poller++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := m.pollOnce(ctx); err != nil && ctx.Err() == nil {
					m.Logger.Warn("event source mapping poll failed", "error", err)
					sleep(ctx, time.Second)
				}
			}
		}()
	}
	wg.Wait()
	return nil
}

// pollOnce receives one batch and, if there is one, invokes the handler.
// Each poller invokes at most one batch at a time, so the number of pollers
// is the maximum concurrency.
func (m *EventSourceMapping) pollOnce(ctx context.Context) error {
	out, err := m.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    &m.QueueURL,
		MaxNumberOfMessages:         int32(m.BatchSize),
		WaitTimeSeconds:             1,
		VisibilityTimeout:           int32(m.FunctionTimeout / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return fmt.Errorf("receive from event source: %w", err)
	}
	if len(out.Messages) == 0 {
		return nil
	}
	event := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(out.Messages))}
	for _, msg := range out.Messages {
		event.Records = append(event.Records, events.SQSMessage{
			MessageId:      aws.ToString(msg.MessageId),
			ReceiptHandle:  aws.ToString(msg.ReceiptHandle),
			Body:           aws.ToString(msg.Body),
			Md5OfBody:      aws.ToString(msg.MD5OfBody),
			Attributes:     msg.Attributes,
			EventSource:    "aws:sqs",
			EventSourceARN: m.QueueARN,
			AWSRegion:      "us-east-1",
		})
	}
	// Shutting down ends the invocation early; the worker then hands its job
	// on to the next process, as it does at a deadline.
	invokeCtx, cancel := context.WithTimeout(ctx, m.FunctionTimeout)
	defer cancel()
	response, err := invoke(invokeCtx, m.Handler, event)
	if err != nil {
		m.Logger.Error("invocation failed; its batch returns after the visibility timeout", "error", err, "batch", len(event.Records))
		return nil
	}
	failed := map[string]bool{}
	for _, f := range response.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, record := range event.Records {
		if failed[record.MessageId] {
			continue
		}
		if _, err := m.Client.DeleteMessage(context.WithoutCancel(ctx), &sqs.DeleteMessageInput{QueueUrl: &m.QueueURL, ReceiptHandle: aws.String(record.ReceiptHandle)}); err != nil {
			m.Logger.Warn("delete processed event", "error", err)
		}
	}
	return nil
}

// invoke calls the handler as the Lambda runtime would: a panic is a failed
// invocation, not a dead process.
func invoke(ctx context.Context, h SQSHandler, event events.SQSEvent) (response events.SQSEventResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, event)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// Every runs fn at each interval of the clock (and first at once if
// runAtStart) until ctx ends, like an EventBridge schedule rule.
func Every(ctx context.Context, clk clock.Clock, interval time.Duration, runAtStart bool, name string, log *slog.Logger, fn func(context.Context) error) {
	ticker := clk.NewTicker(interval)
	defer ticker.Stop()
	for run := runAtStart; ; run = true {
		if run {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				log.Error("scheduled task failed", "task", name, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
	}
}
