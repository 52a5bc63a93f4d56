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

// DueJobIDs lists jobs whose due time has passed: saved but never enqueued,
// held by a worker whose lease ran out, or waiting on a retry whose message
// may be lost. It queries the sparse due index, shard by shard, never the table.
func (t *Table) DueJobIDs(ctx context.Context, limit int) ([]string, error) {
	now := t.opts.Clock.Now().UnixMilli()
	var ids []string
	for shard := 0; shard < schema.DueShards && len(ids) < limit; shard++ {
		var start map[string]types.AttributeValue
		for len(ids) < limit {
			out, err := t.db.Query(ctx, &dynamodb.QueryInput{
				TableName:                 &t.name,
				IndexName:                 aws.String(schema.DueIndex),
				KeyConditionExpression:    aws.String("due_pk = :shard AND due_at <= :now"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":shard": str(fmt.Sprintf("DUE#%d", shard)), ":now": number(now)},
				Limit:                     aws.Int32(int32(limit - len(ids))),
				ExclusiveStartKey:         start,
			})
			if err != nil {
				return nil, fmt.Errorf("query due jobs: %w", err)
			}
			for _, item := range out.Items {
				ids = append(ids, strings.TrimPrefix(stringAttr(item, schema.PartitionKey), "JOB#"))
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			start = out.LastEvaluatedKey
		}
	}
	return ids, nil
}

// PostponeDue moves a job's due time to until, if the job has not changed
// since it was read at version; it returns ErrStale otherwise.
func (t *Table) PostponeDue(ctx context.Context, id string, version int64, until time.Time) error {
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &t.name,
		Key:                       jobKey(id),
		UpdateExpression:          aws.String("SET due_pk = :shard, due_at = :until"),
		ConditionExpression:       aws.String("version = :version"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":shard": str(dueShard(id)), ":until": number(until.UnixMilli()), ":version": number(version)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrStale
	}
	if err != nil {
		return fmt.Errorf("postpone due time of job %s: %w", id, err)
	}
	return nil
}

// ClearDue removes a job's due entry if the job has not changed since read.
func (t *Table) ClearDue(ctx context.Context, id string, version int64) error {
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &t.name,
		Key:                       jobKey(id),
		UpdateExpression:          aws.String("REMOVE due_pk, due_at"),
		ConditionExpression:       aws.String("version = :version"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":version": number(version)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrStale
	}
	if err != nil {
		return fmt.Errorf("clear due time of job %s: %w", id, err)
	}
	return nil
}
