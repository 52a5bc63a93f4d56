// Package queue speaks to the SQS queues: one queue of job messages per
// priority, the wake queue that triggers workers, and the dead-letter queue.
// A job message carries only the job's id; DynamoDB holds the job itself.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// URLs locates every queue of a deployment.
type URLs struct {
	Priority   map[job.Priority]string
	Wake       string
	DeadLetter string
}

// FromSchema converts the URLs returned by schema.CreateQueues.
func FromSchema(u schema.QueueURLs) URLs {
	urls := URLs{Priority: map[job.Priority]string{}, Wake: u.Wake, DeadLetter: u.DeadLetter}
	for _, p := range job.Priorities {
		urls.Priority[p] = u.Priority[schema.PriorityQueueSuffix(p)]
	}
	return urls
}

// Lookup finds the queues of a deployment by their names.
func Lookup(ctx context.Context, client *sqs.Client, prefix string) (URLs, error) {
	urls := URLs{Priority: map[job.Priority]string{}}
	get := func(suffix string) (string, error) {
		out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(schema.QueueName(prefix, suffix))})
		if err != nil {
			return "", fmt.Errorf("find queue %s: %w", schema.QueueName(prefix, suffix), err)
		}
		return aws.ToString(out.QueueUrl), nil
	}
	var err error
	for _, p := range job.Priorities {
		if urls.Priority[p], err = get(schema.PriorityQueueSuffix(p)); err != nil {
			return urls, err
		}
	}
	if urls.Wake, err = get(schema.WakeQueueSuffix); err != nil {
		return urls, err
	}
	if urls.DeadLetter, err = get(schema.DeadLetterQueueSuffix); err != nil {
		return urls, err
	}
	return urls, nil
}

// Queues sends and receives job messages and wakes.
type Queues struct {
	client *sqs.Client
	urls   URLs
}

// New returns Queues on the given URLs.
func New(client *sqs.Client, urls URLs) *Queues { return &Queues{client: client, urls: urls} }

// URLs returns where the queues are.
func (q *Queues) URLs() URLs { return q.urls }

type body struct {
	JobID string `json:"job_id"`
}

// Enqueue puts a job's message on the queue of its priority.
func (q *Queues) Enqueue(ctx context.Context, j *job.Job) error {
	url, ok := q.urls.Priority[j.Priority]
	if !ok {
		return fmt.Errorf("enqueue job %s: no queue for priority %d", j.ID, j.Priority)
	}
	data, _ := json.Marshal(body{JobID: j.ID})
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(data))})
	if err != nil {
		return fmt.Errorf("enqueue job %s: %w", j.ID, err)
	}
	return nil
}

// maxDelay is the longest DelaySeconds SQS accepts.
const maxDelay = 15 * time.Minute

// Wake asks for a worker after the given delay (at most 15 minutes; later
// work is found by the sweep, which wakes workers while queues hold messages).
func (q *Queues) Wake(ctx context.Context, delay time.Duration) error {
	delay = min(max(delay, 0), maxDelay)
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     &q.urls.Wake,
		MessageBody:  aws.String(`{"wake":true}`),
		DelaySeconds: int32((delay + time.Second - 1) / time.Second),
	})
	if err != nil {
		return fmt.Errorf("wake workers: %w", err)
	}
	return nil
}

// Message is a received job message.
type Message struct {
	// JobID is empty when the body could not be parsed (a poison message).
	JobID         string
	Priority      job.Priority
	Body          string
	ReceiptHandle string
	ReceiveCount  int
	SentAt        time.Time
	queueURL      string
}

// Receive takes at most one job message from a priority's queue and hides it
// for the visibility timeout. wait > 0 long-polls, which asks every SQS
// server and so tells an empty queue from an unlucky short poll.
func (q *Queues) Receive(ctx context.Context, p job.Priority, visibility, wait time.Duration) (*Message, error) {
	url := q.urls.Priority[p]
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    &url,
		MaxNumberOfMessages:         1,
		VisibilityTimeout:           int32(visibility / time.Second),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp},
	})
	if err != nil {
		return nil, fmt.Errorf("receive from %s queue: %w", p, err)
	}
	if len(out.Messages) == 0 {
		return nil, nil
	}
	m := out.Messages[0]
	msg := &Message{Priority: p, Body: aws.ToString(m.Body), ReceiptHandle: aws.ToString(m.ReceiptHandle), queueURL: url}
	msg.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		msg.SentAt = time.UnixMilli(ms).UTC()
	}
	msg.JobID, _ = ParseJobMessage(msg.Body)
	return msg, nil
}

// maxJobIDLength bounds a job id read from a message; ids are UUIDs.
const maxJobIDLength = 64

// ParseJobMessage reads the job id from a job message's body. Anything but
// exactly {"job_id": "<id>"} with a plausible id is an error: such a message
// is poison and goes to the dead-letter queue.
func ParseJobMessage(raw string) (string, error) {
	if !json.Valid([]byte(raw)) {
		return "", errors.New("job message is not JSON")
	}
	// A map, not the struct: encoding/json would match JOB_ID to job_id.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil {
		return "", fmt.Errorf("job message is not a JSON object: %w", err)
	}
	var id string
	if len(fields) != 1 || json.Unmarshal(fields["job_id"], &id) != nil {
		return "", errors.New(`job message is not {"job_id": "<id>"}`)
	}
	if id == "" || len(id) > maxJobIDLength || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return "", errors.New("job message has no valid job id")
	}
	return id, nil
}

// Delete removes a handled message.
func (q *Queues) Delete(ctx context.Context, m *Message) error {
	_, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &m.queueURL, ReceiptHandle: &m.ReceiptHandle})
	if err != nil && !isReceiptGone(err) {
		return fmt.Errorf("delete message of job %s: %w", m.JobID, err)
	}
	return nil
}

// SetVisibility hides a message for d from now (0 makes it visible at once).
// SQS caps a message's total invisibility at 12 hours.
func (q *Queues) SetVisibility(ctx context.Context, m *Message, d time.Duration) error {
	seconds := min(int32((d+time.Second-1)/time.Second), 12*3600-1)
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: &m.queueURL, ReceiptHandle: &m.ReceiptHandle, VisibilityTimeout: seconds,
	})
	if err != nil {
		return fmt.Errorf("change visibility of job %s message: %w", m.JobID, err)
	}
	return nil
}

// DeadLetter moves a message that can never be processed to the dead-letter
// queue, with the reason, and removes it from its queue.
func (q *Queues) DeadLetter(ctx context.Context, m *Message, reason string) error {
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    &q.urls.DeadLetter,
		MessageBody: aws.String(m.Body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"reason":       {DataType: aws.String("String"), StringValue: aws.String(reason)},
			"source_queue": {DataType: aws.String("String"), StringValue: aws.String(m.Priority.String())},
		},
	})
	if err != nil {
		return fmt.Errorf("dead-letter message: %w", err)
	}
	return q.Delete(ctx, m)
}

// Depth is how many messages a queue holds.
type Depth struct {
	Visible  int `json:"waiting"`   // waiting to be received
	InFlight int `json:"in_flight"` // received and not yet deleted (running, or waiting for a retry)
	Delayed  int `json:"delayed"`
}

// Depths reads the approximate depth of every priority queue.
func (q *Queues) Depths(ctx context.Context) (map[job.Priority]Depth, error) {
	depths := map[job.Priority]Depth{}
	for _, p := range job.Priorities {
		d, err := q.depth(ctx, q.urls.Priority[p])
		if err != nil {
			return nil, err
		}
		depths[p] = d
	}
	return depths, nil
}

// DeadLetterDepth reads how many messages wait in the dead-letter queue.
func (q *Queues) DeadLetterDepth(ctx context.Context) (Depth, error) {
	return q.depth(ctx, q.urls.DeadLetter)
}

func (q *Queues) depth(ctx context.Context, url string) (Depth, error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &url,
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return Depth{}, fmt.Errorf("read queue depth: %w", err)
	}
	n := func(name types.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(name)])
		return v
	}
	return Depth{
		Visible:  n(types.QueueAttributeNameApproximateNumberOfMessages),
		InFlight: n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:  n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}, nil
}

// isReceiptGone reports an error meaning the message was already deleted or
// its receipt handle expired; deleting it again is not a failure.
func isReceiptGone(err error) bool {
	var invalid *types.ReceiptHandleIsInvalid
	return errors.As(err, &invalid)
}

// DeadLetter is a message in the dead-letter queue.
type DeadLetter struct {
	JobID  string    `json:"job_id,omitempty"`
	Reason string    `json:"reason"`
	Body   string    `json:"body"`
	SentAt time.Time `json:"sent_at"`
}

// PeekDeadLetters reads up to max dead-letter messages without taking them
// (hidden for one second only), and the queue's approximate depth. One
// second rather than zero: the local SQS emulator does not honour a zero
// visibility timeout on receive.
func (q *Queues) PeekDeadLetters(ctx context.Context, max int) ([]DeadLetter, int, error) {
	depth, err := q.depth(ctx, q.urls.DeadLetter)
	if err != nil {
		return nil, 0, err
	}
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    &q.urls.DeadLetter,
		MaxNumberOfMessages:         int32(min(max, 10)),
		VisibilityTimeout:           1,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp},
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read dead-letter queue: %w", err)
	}
	letters := make([]DeadLetter, 0, len(out.Messages))
	for _, m := range out.Messages {
		letter := DeadLetter{Body: aws.ToString(m.Body), Reason: "exceeded the queue's maximum receive count"}
		if v, ok := m.MessageAttributes["reason"]; ok {
			letter.Reason = aws.ToString(v.StringValue)
		}
		letter.JobID, _ = ParseJobMessage(letter.Body)
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			letter.SentAt = time.UnixMilli(ms).UTC()
		}
		letters = append(letters, letter)
	}
	return letters, depth.Visible + depth.InFlight, nil
}
