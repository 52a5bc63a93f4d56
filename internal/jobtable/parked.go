package jobtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// A job whose type is paused is parked: it keeps its status but not its
// message, and waits in the due index under a partition of its type,
// PAUSED#<type>, instead of cycling through SQS (where every look would
// count towards the dead-letter redrive; while the whole queue is paused
// workers take no message at all). A marker item,
// CONTROL/PARKED#<type>, tells the sweep which types have parked jobs, so
// releasing them once the pause ends reads only those partitions.

func parkedPartition(jobType string) string { return "PAUSED#" + jobType }

func parkedMarkerKey(jobType string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{schema.PartitionKey: str("CONTROL"), schema.SortKey: str("PARKED#" + jobType)}
}

// Park sets a job aside while its type is paused, fenced on the version
// read (ErrStale if it changed). Its message can then be deleted.
func (t *Table) Park(ctx context.Context, j *job.Job, event LogEntry) error {
	now := t.opts.Clock.Now()
	marker := parkedMarkerKey(j.Type)
	marker["parked_at"] = number(now.UnixMilli())
	writes := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &t.name,
			Key:                       jobKey(j.ID),
			UpdateExpression:          aws.String("SET paused_at = :now, due_pk = :parked, due_at = :due, version = version + :one"),
			ConditionExpression:       aws.String("version = :version"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(formatTime(now)), ":parked": str(parkedPartition(j.Type)), ":due": number(now.UnixMilli()), ":one": number(1), ":version": number(j.Version)},
		}},
		{Put: &types.Put{TableName: &t.name, Item: marker}},
	}
	writes, err := t.withLogLine(writes, j.ID, event)
	if err != nil {
		return err
	}
	reasons, err := t.transact(ctx, writes)
	switch {
	case err == nil:
		return nil
	case failed(reasons, 0):
		return ErrStale
	}
	return fmt.Errorf("park job %s: %w", j.ID, err)
}

// ParkedTypes lists the job types that have (or recently had) parked jobs,
// with when a job of each was last parked.
func (t *Table) ParkedTypes(ctx context.Context) (map[string]time.Time, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :parked)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("CONTROL"), ":parked": str("PARKED#")},
		ConsistentRead:            aws.Bool(true),
	}
	parked := map[string]time.Time{}
	err := t.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
		jobType := strings.TrimPrefix(stringAttr(item, schema.SortKey), "PARKED#")
		parked[jobType] = time.UnixMilli(numberAttr(item, "parked_at")).UTC()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read parked job types: %w", err)
	}
	return parked, nil
}

// ParkedJobIDs lists up to limit parked jobs of a type, longest parked
// first, and tells whether more are parked after them. One query: the index
// holds only keys, so a page of limit entries always fits.
func (t *Table) ParkedJobIDs(ctx context.Context, jobType string, limit int) (ids []string, more bool, err error) {
	out, err := t.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &t.name,
		IndexName:                 aws.String(schema.DueIndex),
		KeyConditionExpression:    aws.String("due_pk = :parked"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":parked": str(parkedPartition(jobType))},
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, false, fmt.Errorf("read parked jobs of %s: %w", jobType, err)
	}
	for _, item := range out.Items {
		ids = append(ids, strings.TrimPrefix(stringAttr(item, schema.PartitionKey), "JOB#"))
	}
	return ids, len(out.LastEvaluatedKey) > 0, nil
}

// Unpark takes a parked job back, fenced on the version read (ErrStale if it
// changed): it is ready again from now, and due for the sweep after grace
// should its new message be lost. It returns the job as written, for the
// caller to enqueue.
func (t *Table) Unpark(ctx context.Context, j *job.Job, grace time.Duration, event LogEntry) (*job.Job, error) {
	now := t.opts.Clock.Now()
	writes := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                 &t.name,
		Key:                       jobKey(j.ID),
		UpdateExpression:          aws.String("SET ready_at = :now, due_pk = :shard, due_at = :due, version = version + :one REMOVE paused_at"),
		ConditionExpression:       aws.String("version = :version AND attribute_exists(paused_at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(formatTime(now)), ":shard": str(dueShard(j.ID)), ":due": number(now.Add(grace).UnixMilli()), ":one": number(1), ":version": number(j.Version)},
	}}}
	writes, err := t.withLogLine(writes, j.ID, event)
	if err != nil {
		return nil, err
	}
	reasons, err := t.transact(ctx, writes)
	switch {
	case failed(reasons, 0):
		return nil, ErrStale
	case err != nil:
		return nil, fmt.Errorf("unpark job %s: %w", j.ID, err)
	}
	unparked := *j
	unparked.PausedAt = nil
	unparked.ReadyAt = job.TimePtr(now)
	unparked.Version++
	return &unparked, nil
}

// ForgetParked removes a type's marker once its parked jobs were all
// released, unless a job was parked after parkedAt (as ParkedTypes read
// it) or too recently to be sure the index shows it yet.
func (t *Table) ForgetParked(ctx context.Context, jobType string, parkedAt time.Time, indexLag time.Duration) error {
	if t.opts.Clock.Now().Sub(parkedAt) < indexLag {
		return nil
	}
	_, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &t.name,
		Key:                       parkedMarkerKey(jobType),
		ConditionExpression:       aws.String("parked_at = :read"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":read": number(parkedAt.UnixMilli())},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("forget parked jobs of %s: %w", jobType, err)
	}
	return nil
}
