package jobtable

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/dynamo"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// ErrFinished means the job already ended and cannot be cancelled.
var ErrFinished = errors.New("job already finished")

// ErrNotRetryable means only failed or cancelled jobs can be retried.
var ErrNotRetryable = errors.New("only failed or cancelled jobs can be retried")

// cancelTries bounds how often Cancel reads a job again that changed under
// it (claimed, finished, set aside by a pause); then it answers ErrStale.
const cancelTries = 5

// Cancel stops a job. A job that no worker runs ends cancelled at once (its
// message, if any, is dropped when a worker next sees it); a running job is
// asked to stop, and its worker ends it cancelled at its next progress
// write. It returns the job as it is after the call.
func (t *Table) Cancel(ctx context.Context, id, by string) (*job.Job, error) {
	var j *job.Job
	err := dynamo.Again(ctx, cancelTries, func() (bool, error) {
		var err error
		j, err = t.Get(ctx, id)
		switch {
		case err != nil:
			return true, err
		case j.Status.Terminal():
			return true, ErrFinished
		case j.Status == job.StatusRunning && j.PausedAt == nil:
			err = t.requestCancel(ctx, j)
			if err == nil {
				_, err = t.AppendLogs(ctx, id, []LogEntry{Event(t.opts.Clock.Now(), "cancel_requested", j.Attempts, "%s asked to cancel the job; it stops at its next progress write", by)})
			}
		default:
			// Set aside by a pause, a running job has no worker either.
			err = t.apply(ctx, j, fence{version: j.Version}, change{
				to:    job.StatusCancelled,
				set:   map[string]types.AttributeValue{"error": str("cancelled by request")},
				event: Event(t.opts.Clock.Now(), "cancelled", j.Attempts, "cancelled by %s while %s", by, j.Status),
			})
		}
		// A job that moved on meanwhile is read again.
		return !errors.Is(err, ErrStale), err
	})
	if err != nil {
		return j, err
	}
	return t.Get(ctx, id)
}

func (t *Table) requestCancel(ctx context.Context, j *job.Job) error {
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &t.name,
		Key:                       jobKey(j.ID),
		UpdateExpression:          aws.String("SET cancel_requested = :true"),
		ConditionExpression:       aws.String("version = :version"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}, ":version": number(j.Version)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrStale
	}
	if err != nil {
		return fmt.Errorf("request cancel of job %s: %w", j.ID, err)
	}
	return nil
}

// Retry puts a failed or cancelled job back to pending with a fresh set of
// attempts. It resumes from its checkpoint unless fromStart, which also
// resets its progress. The caller enqueues it (dispatch.Dispatch).
func (t *Table) Retry(ctx context.Context, id string, fromStart bool, by string) (*job.Job, error) {
	j, err := t.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Status != job.StatusFailed && j.Status != job.StatusCancelled {
		return j, ErrNotRetryable
	}
	now := t.opts.Clock.Now()
	set := map[string]types.AttributeValue{
		"attempts": number(0),
		"ready_at": str(formatTime(now)),
		"due_pk":   str(dueShard(j.ID)),
		"due_at":   number(now.Add(t.opts.EnqueueGrace).UnixMilli()),
	}
	remove := []string{"error", "finished_at", "result", "next_attempt_at", "continuation", "cancel_requested"}
	if fromStart {
		set["progress"] = number(0)
		set["progress_message"] = str("")
		remove = append(remove, "checkpoint", "started_at")
	}
	how := "from its checkpoint"
	if fromStart {
		how = "from the start"
	}
	event := Event(now, "retried", 0, "%s retried the %s job %s, with fresh attempts", by, j.Status, how)
	if err := t.apply(ctx, j, fence{version: j.Version}, change{to: job.StatusPending, set: set, remove: remove, event: event, at: now}); err != nil {
		return nil, err
	}
	return t.Get(ctx, id)
}

// Pause is a paused scope: the whole queue (Type empty) or one job type.
type Pause struct {
	Type string `json:"type,omitempty"`
}

func pauseKey(jobType string) map[string]types.AttributeValue {
	sk := "PAUSE#*"
	if jobType != "" {
		sk = "PAUSE#TYPE#" + jobType
	}
	return map[string]types.AttributeValue{schema.PartitionKey: str("CONTROL"), schema.SortKey: str(sk)}
}

// SetPaused pauses or resumes the whole queue (jobType empty) or one type.
func (t *Table) SetPaused(ctx context.Context, jobType string, paused bool) error {
	var err error
	if paused {
		item := pauseKey(jobType)
		item["paused_at"] = str(formatTime(t.opts.Clock.Now()))
		_, err = t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.name, Item: item})
	} else {
		_, err = t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &t.name, Key: pauseKey(jobType)})
	}
	if err != nil {
		return fmt.Errorf("set paused %q: %w", jobType, err)
	}
	return nil
}

// Pauses lists what is paused: one item per scope, so a single query.
type Pauses struct {
	All   bool
	Types map[string]bool
}

// Paused reports whether a job of the given type must wait.
func (p Pauses) Paused(jobType string) bool { return p.All || p.Types[jobType] }

// Pauses reads the pause switches.
func (t *Table) Pauses(ctx context.Context) (Pauses, error) {
	out, err := t.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &t.name,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :pause)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("CONTROL"), ":pause": str("PAUSE#")},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return Pauses{}, fmt.Errorf("read pauses: %w", err)
	}
	p := Pauses{Types: map[string]bool{}}
	for _, item := range out.Items {
		sk := stringAttr(item, schema.SortKey)
		if sk == "PAUSE#*" {
			p.All = true
		} else if jobType, ok := strings.CutPrefix(sk, "PAUSE#TYPE#"); ok {
			p.Types[jobType] = true
		}
	}
	return p, nil
}
