package jobtable

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// Alert is a condition the sweep found: open while it lasts, then resolved.
type Alert struct {
	Key        string    `json:"key" dynamodbav:"key"`
	Kind       string    `json:"kind" dynamodbav:"kind"` // failure_rate, stuck_job, dead_letters, high_load
	Subject    string    `json:"subject" dynamodbav:"subject"`
	Message    string    `json:"message" dynamodbav:"message"`
	Value      float64   `json:"value" dynamodbav:"value"`
	Status     string    `json:"status" dynamodbav:"status"` // open or resolved
	OpenedAt   time.Time `json:"opened_at" dynamodbav:"opened_at"`
	LastSeenAt time.Time `json:"last_seen_at" dynamodbav:"last_seen_at"`
	ResolvedAt time.Time `json:"resolved_at,omitzero" dynamodbav:"resolved_at,omitempty"`
}

// alertHistory is how long resolved alerts are kept.
const alertHistory = 90 * 24 * time.Hour

func alertKey(sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{schema.PartitionKey: str("ALERT"), schema.SortKey: str(sk)}
}

// OpenAlert records an alert as open. It reports whether it was newly
// opened; an alert already open only has its message and value refreshed.
func (t *Table) OpenAlert(ctx context.Context, a Alert) (bool, error) {
	now := t.opts.Clock.Now().UTC()
	a.Status, a.OpenedAt, a.LastSeenAt = "open", now, now
	item, err := attributevalue.MarshalMap(a)
	if err != nil {
		return false, err
	}
	for k, v := range alertKey("OPEN#" + a.Key) {
		item[k] = v
	}
	_, err = t.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &t.name, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var exists *types.ConditionalCheckFailedException
	if errors.As(err, &exists) {
		_, err = t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &t.name, Key: alertKey("OPEN#" + a.Key),
			UpdateExpression:          aws.String("SET message = :m, #value = :v, last_seen_at = :now"),
			ExpressionAttributeNames:  map[string]string{"#value": "value"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":m": str(a.Message), ":v": &types.AttributeValueMemberN{Value: fmt.Sprint(a.Value)}, ":now": str(now.Format(time.RFC3339Nano))},
		})
		if err != nil {
			return false, fmt.Errorf("refresh alert %s: %w", a.Key, err)
		}
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open alert %s: %w", a.Key, err)
	}
	return true, nil
}

// ResolveAlert moves an open alert to the history as resolved, in one
// transaction. It returns the resolved alert, or nil if it was not open.
func (t *Table) ResolveAlert(ctx context.Context, key string) (*Alert, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: alertKey("OPEN#" + key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read alert %s: %w", key, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var a Alert
	if err := attributevalue.UnmarshalMap(out.Item, &a); err != nil {
		return nil, err
	}
	now := t.opts.Clock.Now().UTC()
	a.Status, a.ResolvedAt = "resolved", now
	item, err := attributevalue.MarshalMap(a)
	if err != nil {
		return nil, err
	}
	for k, v := range alertKey(fmt.Sprintf("RESOLVED#%013d#%s", now.UnixMilli(), key)) {
		item[k] = v
	}
	item[schema.TTLAttribute] = number(now.Add(alertHistory).Unix())
	_, err = t.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &t.name, Key: alertKey("OPEN#" + key), ConditionExpression: aws.String("attribute_exists(pk)")}},
		{Put: &types.Put{TableName: &t.name, Item: item}},
	}})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		return nil, nil // resolved by another sweep meanwhile
	}
	if err != nil {
		return nil, fmt.Errorf("resolve alert %s: %w", key, err)
	}
	return &a, nil
}

// Alerts lists the open alerts and the most recently resolved ones.
func (t *Table) Alerts(ctx context.Context, resolvedLimit int) (open, resolved []Alert, err error) {
	read := func(prefix string, forward bool, limit int32) ([]Alert, error) {
		in := &dynamodb.QueryInput{
			TableName:                 &t.name,
			KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :prefix)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("ALERT"), ":prefix": str(prefix)},
			ScanIndexForward:          aws.Bool(forward),
			ConsistentRead:            aws.Bool(true),
		}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := t.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("read alerts: %w", err)
		}
		alerts := make([]Alert, 0, len(out.Items))
		for _, item := range out.Items {
			var a Alert
			if err := attributevalue.UnmarshalMap(item, &a); err != nil {
				return nil, err
			}
			alerts = append(alerts, a)
		}
		return alerts, nil
	}
	if open, err = read("OPEN#", true, 0); err != nil {
		return nil, nil, err
	}
	resolved, err = read("RESOLVED#", false, int32(resolvedLimit))
	return open, resolved, err
}

// Watch records since when a condition holds (the first call wins) and
// returns that time; Unwatch forgets it. The sweep uses them for conditions
// that must last a while before they alert.
func (t *Table) Watch(ctx context.Context, key string) (time.Time, error) {
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &t.name, Key: alertKey("WATCH#" + key),
		UpdateExpression:          aws.String("SET since = if_not_exists(since, :now)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(t.opts.Clock.Now().UTC().Format(time.RFC3339Nano))},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("watch %s: %w", key, err)
	}
	return time.Parse(time.RFC3339Nano, stringAttr(out.Attributes, "since"))
}

// Unwatch forgets a watched condition.
func (t *Table) Unwatch(ctx context.Context, key string) error {
	_, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &t.name, Key: alertKey("WATCH#" + key)})
	if err != nil {
		return fmt.Errorf("unwatch %s: %w", key, err)
	}
	return nil
}

// StuckJobs returns running jobs whose progress has not changed since
// before. It reads the due index, where every running job has an entry
// (its lease expiry), never the table.
func (t *Table) StuckJobs(ctx context.Context, before time.Time) ([]*job.Job, error) {
	now := t.opts.Clock.Now()
	var stuck []*job.Job
	for shard := 0; shard < schema.DueShards; shard++ {
		in := &dynamodb.QueryInput{
			TableName:              &t.name,
			IndexName:              aws.String(schema.DueIndex),
			KeyConditionExpression: aws.String("due_pk = :shard AND due_at <= :horizon"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":shard": str(fmt.Sprintf("DUE#%d", shard)), ":horizon": number(now.Add(24 * time.Hour).UnixMilli()),
			},
		}
		err := t.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
			j, err := t.Get(ctx, strings.TrimPrefix(stringAttr(item, schema.PartitionKey), "JOB#"))
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if j.Status == job.StatusRunning && j.ProgressChangedAt != nil && j.ProgressChangedAt.Before(before) {
				stuck = append(stuck, j)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("query running jobs: %w", err)
		}
	}
	return stuck, nil
}
