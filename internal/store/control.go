package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// ErrFinished means the job already ended and cannot be cancelled.
var ErrFinished = errors.New("job already finished")

// ErrNotRetryable means only failed or cancelled jobs can be retried.
var ErrNotRetryable = errors.New("only failed or cancelled jobs can be retried")

// Cancel stops a job. A job that is not running ends cancelled at once (its
// message is dropped when a worker next sees it); a running job is asked to
// stop, and its worker ends it cancelled at its next progress write. It
// returns the job as it is after the call.
func (s *Store) Cancel(ctx context.Context, id, by string) (*job.Job, error) {
	for {
		j, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		switch {
		case j.Status.Terminal():
			return j, ErrFinished
		case j.Status == job.StatusRunning:
			err = s.requestCancel(ctx, j)
			if err == nil {
				err = s.AppendLogs(ctx, id, []LogEntry{Event(s.opts.Now(), "cancel_requested", j.Attempts, "%s asked to cancel the job; it stops at its next progress write", by)})
			}
		default:
			err = s.apply(ctx, j, fence{version: j.Version}, change{
				to:    job.StatusCancelled,
				set:   map[string]types.AttributeValue{"error": str("cancelled by request")},
				event: Event(s.opts.Now(), "cancelled", j.Attempts, "cancelled by %s while %s", by, j.Status),
			})
		}
		if errors.Is(err, ErrStale) {
			continue // it moved on meanwhile (claimed, finished): look again
		}
		if err != nil {
			return nil, err
		}
		return s.Get(ctx, id)
	}
}

func (s *Store) requestCancel(ctx context.Context, j *job.Job) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
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
func (s *Store) Retry(ctx context.Context, id string, fromStart bool, by string) (*job.Job, error) {
	j, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Status != job.StatusFailed && j.Status != job.StatusCancelled {
		return j, ErrNotRetryable
	}
	now := s.opts.Now()
	set := map[string]types.AttributeValue{
		"attempts": number(0),
		"due_pk":   str(dueShard(j.ID)),
		"due_at":   number(now.Add(s.opts.EnqueueGrace).UnixMilli()),
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
	if err := s.apply(ctx, j, fence{version: j.Version}, change{to: job.StatusPending, set: set, remove: remove, event: event}); err != nil {
		return nil, err
	}
	return s.Get(ctx, id)
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
func (s *Store) SetPaused(ctx context.Context, jobType string, paused bool) error {
	var err error
	if paused {
		item := pauseKey(jobType)
		item["paused_at"] = str(formatTime(s.opts.Now()))
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item})
	} else {
		_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: pauseKey(jobType)})
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
func (s *Store) Pauses(ctx context.Context) (Pauses, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
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
		} else if t, ok := strings.CutPrefix(sk, "PAUSE#TYPE#"); ok {
			p.Types[t] = true
		}
	}
	return p, nil
}
