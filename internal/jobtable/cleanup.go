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

	"github.com/dainostore/jobs/internal/schema"
)

// CleanupReport says what a cleanup removed.
type CleanupReport struct {
	JobsDeleted            int `json:"jobs_deleted"`
	LogLinesDeleted        int `json:"log_lines_deleted"`
	IdempotencyKeysDeleted int `json:"idempotency_keys_deleted"`
	LocksReleased          int `json:"locks_released"`
}

// Cleanup removes finished jobs (with their logs) and idempotency keys past
// their expiry that DynamoDB's TTL has not deleted yet (it may take up to
// two days), looking back lookBackDays, and releases locks whose job is
// gone or finished. It reads only the sparse cleanup index.
func (t *Table) Cleanup(ctx context.Context, lookBackDays int) (CleanupReport, error) {
	var report CleanupReport
	now := t.opts.Clock.Now()
	for d := lookBackDays; d >= 0; d-- {
		keys, err := t.cleanupEntries(ctx, "EXPIRES#"+day(now.AddDate(0, 0, -d)), aws.String(formatTime(now)))
		if err != nil {
			return report, err
		}
		for _, key := range keys {
			pk := stringAttr(key, schema.PartitionKey)
			switch {
			case strings.HasPrefix(pk, "JOB#"):
				lines, err := t.deleteJob(ctx, strings.TrimPrefix(pk, "JOB#"), now)
				if err != nil {
					return report, err
				}
				report.JobsDeleted++
				report.LogLinesDeleted += lines
			case strings.HasPrefix(pk, "IDEMPOTENCY#"):
				if err := t.deleteExpired(ctx, key, now); err != nil {
					return report, err
				}
				report.IdempotencyKeysDeleted++
			}
		}
	}
	locks, err := t.cleanupEntries(ctx, "LOCKS", nil)
	if err != nil {
		return report, err
	}
	for _, key := range locks {
		released, err := t.releaseOrphanedLock(ctx, key)
		if err != nil {
			return report, err
		}
		if released {
			report.LocksReleased++
		}
	}
	return report, nil
}

// cleanupEntries lists the keys of one partition of the cleanup index, up
// to a sort key when given.
func (t *Table) cleanupEntries(ctx context.Context, partition string, upTo *string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		IndexName:                 aws.String(schema.CleanupIndex),
		KeyConditionExpression:    aws.String("cleanup_pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition)},
	}
	if upTo != nil {
		in.KeyConditionExpression = aws.String("cleanup_pk = :pk AND cleanup_sk <= :upto")
		in.ExpressionAttributeValues[":upto"] = str(*upTo)
	}
	var keys []map[string]types.AttributeValue
	err := t.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
		keys = append(keys, map[string]types.AttributeValue{
			schema.PartitionKey: item[schema.PartitionKey], schema.SortKey: item[schema.SortKey],
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cleanup index %s: %w", partition, err)
	}
	return keys, nil
}

// deleteJob deletes an expired job's log lines, then the job itself (only if
// it is still expired: a retried job is not).
func (t *Table) deleteJob(ctx context.Context, id string, now time.Time) (int, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :log)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("JOB#" + id), ":log": str("LOG#")},
		ProjectionExpression:      aws.String("pk, sk"),
	}
	lines := 0
	for {
		out, err := t.db.Query(ctx, in)
		if err != nil {
			return lines, fmt.Errorf("read log of expired job %s: %w", id, err)
		}
		for start := 0; start < len(out.Items); start += 25 {
			batch := out.Items[start:min(start+25, len(out.Items))]
			requests := make([]types.WriteRequest, len(batch))
			for i, key := range batch {
				requests[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key}}
			}
			if err := t.batchWrite(ctx, requests); err != nil {
				return lines, err
			}
			lines += len(batch)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return lines, t.deleteExpired(ctx, jobKey(id), now)
}

// deleteExpired deletes an item if its expiry has passed.
func (t *Table) deleteExpired(ctx context.Context, key map[string]types.AttributeValue, now time.Time) error {
	_, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &t.name,
		Key:                       key,
		ConditionExpression:       aws.String("expires_at <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(now.Unix())},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return fmt.Errorf("delete expired %s: %w", stringAttr(key, schema.PartitionKey), err)
	}
	return nil
}

// releaseOrphanedLock deletes a lock whose job is missing or finished:
// every transition keeps locks right, so one only appears if something
// outside the system changed the table.
func (t *Table) releaseOrphanedLock(ctx context.Context, key map[string]types.AttributeValue) (bool, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("read lock: %w", err)
	}
	if out.Item == nil {
		return false, nil
	}
	jobID := stringAttr(out.Item, "job_id")
	j, err := t.Get(ctx, jobID)
	if err == nil && !j.Status.Terminal() {
		return false, nil
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	_, err = t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &t.name, Key: key,
		ConditionExpression:       aws.String("job_id = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(jobID)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("release lock of job %s: %w", jobID, err)
	}
	return true, nil
}
