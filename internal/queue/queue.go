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
	"golang.org/x/sync/errgroup"

	"github.com/dainostore/jobs/internal/clock"
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
	// Every cold start looks the queues up: at once, so it costs one round
	// trip rather than six.
	targets := map[string]*string{
		schema.WakeQueueSuffix:       &urls.Wake,
		schema.DeadLetterQueueSuffix: &urls.DeadLetter,
	}
	priorityURLs := make([]string, len(job.Priorities))
	for i, p := range job.Priorities {
		targets[schema.PriorityQueueSuffix(p)] = &priorityURLs[i]
	}
	var group errgroup.Group
	for suffix, url := range targets {
		group.Go(func() error {
			name := schema.QueueName(prefix, suffix)
			out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("find queue %s: %w", name, err)
			}
			*url = aws.ToString(out.QueueUrl)
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		return urls, err
	}
	for i, p := range job.Priorities {
		urls.Priority[p] = priorityURLs[i]
	}
	return urls, nil
}

// Queues sends and receives job messages and wakes.
type Queues struct {
	client *sqs.Client
	urls   URLs
	// clock dates wakes, as the workers that drop stale ones read it.
	clock clock.Clock
}

// New returns Queues on the given URLs.
func New(client *sqs.Client, urls URLs, clk clock.Clock) *Queues {
	return &Queues{client: client, urls: urls, clock: clk}
}

// URLs returns where the queues are.
func (q *Queues) URLs() URLs { return q.urls }

type body struct {
	JobID string `json:"job_id"`
}

// untilStart is how long a delayed job has before it may start; zero for
// any other.
func (q *Queues) untilStart(j *job.Job) time.Duration {
	if j.RunAt == nil {
		return 0
	}
	return max(j.RunAt.Sub(q.clock.Now()), 0)
}

// delaySeconds is a delay as SQS takes it: whole seconds, rounded up, at
// most 15 minutes (a delayed job further off waits in the job table).
func delaySeconds(delay time.Duration) int32 {
	delay = min(max(delay, 0), maxDelay)
	return int32((delay + time.Second - 1) / time.Second)
}

// Enqueue puts a job's message on the queue of its priority; a delayed
// job's message becomes visible at its start time.
func (q *Queues) Enqueue(ctx context.Context, j *job.Job) error {
	url, ok := q.urls.Priority[j.Priority]
	if !ok {
		return fmt.Errorf("enqueue job %s: no queue for priority %d", j.ID, j.Priority)
	}
	data, _ := json.Marshal(body{JobID: j.ID})
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(data)), DelaySeconds: delaySeconds(q.untilStart(j))})
	if err != nil {
		return fmt.Errorf("enqueue job %s: %w", j.ID, err)
	}
	return nil
}

// maxDelay is the longest DelaySeconds SQS accepts.
const maxDelay = 15 * time.Minute

// wakeBody is a wake message. It carries when it becomes visible, so that a
// worker that found every job queue empty can tell which wakes it made
// redundant (DropStaleWakes).
type wakeBody struct {
	Wake bool `json:"wake"`
	// DueMS is when the wake becomes visible, in unix milliseconds: its
	// sending time plus its delay.
	DueMS int64 `json:"due_ms"`
}

// Wake asks for a worker after the given delay (at most 15 minutes; later
// work is found by the sweep, which wakes workers while queues hold messages).
func (q *Queues) Wake(ctx context.Context, delay time.Duration) error {
	seconds := delaySeconds(delay)
	data, _ := json.Marshal(wakeBody{Wake: true, DueMS: q.clock.Now().Add(time.Duration(seconds) * time.Second).UnixMilli()})
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     &q.urls.Wake,
		MessageBody:  aws.String(string(data)),
		DelaySeconds: seconds,
	})
	if err != nil {
		return fmt.Errorf("wake workers: %w", err)
	}
	return nil
}

// Bounds of DropStaleWakes: SQS returns at most 10 messages a receive, and
// one invocation drops at most this many rounds; the next one goes on.
const (
	wakesPerReceive = 10
	maxWakeRounds   = 10
)

// staleWakeMargin absorbs the clocks of different machines and the time a
// wake takes to be sent.
const staleWakeMargin = time.Second

// DropStaleWakes deletes the wakes that became due before emptySince, a
// moment from which a worker found every job queue empty, and returns how
// many it deleted. Every wake is sent after the message it announces became
// visible (a retry's message is hidden for the same delay as its wake, and
// hidden first), so such a wake's message had been received before the
// queues were found empty, and the invocation the wake would start can
// only find them empty too. Under a burst the wakes outnumber the
// invocations needed, and each would otherwise cost an invocation, its
// receives and the poller's delete. A wake that is not stale is put back
// at once and ends the dropping: it announces a newer message.
func (q *Queues) DropStaleWakes(ctx context.Context, emptySince time.Time) (int, error) {
	cutoff := emptySince.Add(-staleWakeMargin).UnixMilli()
	dropped := 0
	for range maxWakeRounds {
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            &q.urls.Wake,
			MaxNumberOfMessages: wakesPerReceive,
			// Long enough to delete them; the fresh ones are put back at once.
			VisibilityTimeout: 30,
		})
		if err != nil {
			return dropped, fmt.Errorf("receive wakes: %w", err)
		}
		var stale []types.DeleteMessageBatchRequestEntry
		var fresh []types.ChangeMessageVisibilityBatchRequestEntry
		for i, m := range out.Messages {
			id := aws.String(strconv.Itoa(i))
			var w wakeBody
			if json.Unmarshal([]byte(aws.ToString(m.Body)), &w) == nil && w.DueMS > 0 && w.DueMS < cutoff {
				stale = append(stale, types.DeleteMessageBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle})
			} else {
				fresh = append(fresh, types.ChangeMessageVisibilityBatchRequestEntry{Id: id, ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0})
			}
		}
		if len(stale) > 0 {
			deleted, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &q.urls.Wake, Entries: stale})
			if err != nil {
				return dropped, fmt.Errorf("delete stale wakes: %w", err)
			}
			dropped += len(deleted.Successful)
		}
		if len(fresh) > 0 {
			if _, err := q.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.urls.Wake, Entries: fresh}); err != nil {
				return dropped, fmt.Errorf("put back fresh wakes: %w", err)
			}
			return dropped, nil
		}
		if len(out.Messages) < wakesPerReceive {
			return dropped, nil
		}
	}
	return dropped, nil
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
	// Read at once: an operator's status call waits for all four.
	read := make([]Depth, len(job.Priorities))
	var group errgroup.Group
	for i, p := range job.Priorities {
		group.Go(func() (err error) {
			read[i], err = q.depth(ctx, q.urls.Priority[p])
			return err
		})
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	depths := make(map[job.Priority]Depth, len(read))
	for i, p := range job.Priorities {
		depths[p] = read[i]
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
