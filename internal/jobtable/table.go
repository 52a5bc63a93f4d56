// Package jobtable keeps jobs in DynamoDB's single table: job items, the
// (store, type) locks that prevent duplicate active jobs, idempotency keys,
// and sharded status counters. Every status change is one transaction that
// updates the job (conditionally on the status and fence it read), the
// counters and the lock together, so a crash between two writes cannot skew
// the statistics or leave a lock behind.
package jobtable

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dynamo"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("job not found")
	// ErrStale means the job changed since it was read (another worker took
	// it over, a user cancelled it): the caller's view is out of date.
	ErrStale = errors.New("job changed since it was read")
	// ErrIdempotencyMismatch means an idempotency key was reused for a different request.
	ErrIdempotencyMismatch = errors.New("idempotency key was used for a different request")
)

// DuplicateError says which job already holds the (store, type) slot.
type DuplicateError struct{ ExistingJobID string }

func (e *DuplicateError) Error() string {
	return "an active job of this type already exists for this store: " + e.ExistingJobID
}

// Options tune a Table.
type Options struct {
	// Clock is the time every write records; clock.Real if nil.
	Clock clock.Clock
	// Retention is how long a completed job is kept; FailedRetention how
	// long a failed or cancelled one is (and every job's log lines).
	Retention       time.Duration
	FailedRetention time.Duration
	// EnqueueGrace is how long after its creation an un-enqueued job waits
	// before the sweep enqueues it again.
	EnqueueGrace time.Duration
	// IdempotencyWindow is how long an idempotency key is remembered.
	IdempotencyWindow time.Duration
	// CreateRateLimit is how many jobs a store may create per minute; 0 is
	// no limit. The count is part of the create transaction: it costs no
	// extra request and is exact across every API instance.
	CreateRateLimit int
	// ListScanBudget is how many index items a listing reads per partition
	// at most before it answers with what it found and a cursor; 1000 if 0.
	ListScanBudget int
}

// RateLimitedError means the store created too many jobs this minute.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many jobs created for this store; try again in %s", e.RetryAfter.Round(time.Second))
}

// Table reads and writes jobs.
type Table struct {
	db   *dynamodb.Client
	name string
	opts Options
}

// New returns the job table of the given name.
func New(db *dynamodb.Client, name string, opts Options) *Table {
	if opts.Clock == nil {
		opts.Clock = clock.Real
	}
	if opts.Retention == 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.FailedRetention == 0 {
		opts.FailedRetention = 90 * 24 * time.Hour
	}
	if opts.EnqueueGrace == 0 {
		opts.EnqueueGrace = time.Minute
	}
	if opts.ListScanBudget == 0 {
		opts.ListScanBudget = defaultListScanBudget
	}
	if opts.IdempotencyWindow == 0 {
		opts.IdempotencyWindow = 24 * time.Hour
	}
	return &Table{db: db, name: name, opts: opts}
}

// Now is the table's clock's time.
func (t *Table) Now() time.Time { return t.opts.Clock.Now() }

// ScheduleLead is how long before its start a delayed job's message is
// sent, delayed until then: under SQS's 15-minute limit on a message's
// delay by the minute between two sweeps.
const ScheduleLead = 14 * time.Minute

// CreateRequest is a validated request to create a job.
type CreateRequest struct {
	Job *job.Job
	// IdempotencyKey, when set, makes the create safe to repeat: the same key
	// and RequestHash return the job created first.
	IdempotencyKey string
	RequestHash    string
	// Event is the job's first log line.
	Event LogEntry
}

// Create saves a new pending job, takes its (store, type) slot and counts it,
// in one transaction. It returns the job and whether it was an idempotent
// replay of an earlier create (then nothing was written).
func (t *Table) Create(ctx context.Context, req CreateRequest) (*job.Job, bool, error) {
	j := req.Job
	now := t.opts.Clock.Now()
	item := itemFromJob(j)
	item.DuePK = dueShard(j.ID)
	item.DueAt = now.Add(t.opts.EnqueueGrace).UnixMilli()
	if j.RunAt != nil {
		// A delayed job's message waits in its queue for at most
		// ScheduleLead: one starting later waits in the due index until
		// then, at no cost, and the sweep enqueues it.
		item.DueAt = max(item.DueAt, j.RunAt.Add(-ScheduleLead).UnixMilli())
	}
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return nil, false, fmt.Errorf("encode job: %w", err)
	}
	lock := lockItem(j, now)
	writes := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &t.name, Item: av, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: &types.Put{TableName: &t.name, Item: lock, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}
	idempotencyIndex := -1
	if req.IdempotencyKey != "" {
		idem := idempotencyKey(j.StoreID, req.IdempotencyKey)
		idem["job_id"] = &types.AttributeValueMemberS{Value: j.ID}
		idem["request_hash"] = &types.AttributeValueMemberS{Value: req.RequestHash}
		idem[schema.TTLAttribute] = number(now.Add(t.opts.IdempotencyWindow).Unix())
		for k, v := range expiryEntry(now.Add(t.opts.IdempotencyWindow)) {
			idem[k] = v
		}
		idempotencyIndex = len(writes)
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{
			TableName: &t.name, Item: idem,
			// A key past its window counts as free even before TTL removes it.
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR expires_at < :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(now.Unix())},
		}})
	}
	rateIndex := -1
	var windowEnd time.Time
	if t.opts.CreateRateLimit > 0 {
		var write types.TransactWriteItem
		write, windowEnd = t.rateLimitWrite(j.StoreID, now)
		rateIndex = len(writes)
		writes = append(writes, write)
	}
	writes = append(writes, t.counterWrites(j.StoreID, "", j.Status)...)
	writes = append(writes, t.metricWrites(j, metricDelta{at: now, counter: "created"})...)
	writes, err = t.withLogLine(writes, j.ID, req.Event)
	if err != nil {
		return nil, false, err
	}

	reasons, err := t.transact(ctx, writes)
	if err == nil {
		return j, false, nil
	}
	if reasons == nil {
		return nil, false, fmt.Errorf("create job: %w", err)
	}
	if idempotencyIndex >= 0 && failed(reasons, idempotencyIndex) {
		return t.replayIdempotent(ctx, j.StoreID, req)
	}
	if rateIndex >= 0 && failed(reasons, rateIndex) {
		return nil, false, &RateLimitedError{RetryAfter: windowEnd.Sub(now)}
	}
	if failed(reasons, 1) {
		existing, err := t.activeJobID(ctx, j.StoreID, j.Type)
		if err != nil {
			return nil, false, err
		}
		return nil, false, &DuplicateError{ExistingJobID: existing}
	}
	return nil, false, fmt.Errorf("create job %s: %w", j.ID, err)
}

// rateLimitWrite counts one creation in the store's current one-minute
// window, on condition that the window is not full yet.
func (t *Table) rateLimitWrite(storeID string, now time.Time) (types.TransactWriteItem, time.Time) {
	window := now.Truncate(time.Minute)
	end := window.Add(time.Minute)
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &t.name,
		Key: map[string]types.AttributeValue{
			schema.PartitionKey: str("RATE#" + storeID),
			schema.SortKey:      str(window.UTC().Format(time.RFC3339)),
		},
		UpdateExpression:          aws.String("ADD created :one SET expires_at = :expires"),
		ConditionExpression:       aws.String("attribute_not_exists(created) OR created < :limit"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": number(1), ":limit": number(t.opts.CreateRateLimit), ":expires": number(end.Add(time.Hour).Unix())},
	}}, end
}

func (t *Table) replayIdempotent(ctx context.Context, storeID string, req CreateRequest) (*job.Job, bool, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &t.name, Key: idempotencyKey(storeID, req.IdempotencyKey), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, false, fmt.Errorf("read idempotency key: %w", err)
	}
	if stringAttr(out.Item, "request_hash") != req.RequestHash {
		return nil, false, ErrIdempotencyMismatch
	}
	existing, err := t.Get(ctx, stringAttr(out.Item, "job_id"))
	if err != nil {
		return nil, false, err
	}
	return existing, true, nil
}

func (t *Table) activeJobID(ctx context.Context, storeID, jobType string) (string, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &t.name, Key: lockKey(storeID, jobType), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("read active job lock: %w", err)
	}
	return stringAttr(out.Item, "job_id"), nil
}

// MarkEnqueued records that the job's message reached its queue, so the sweep
// need not enqueue it again. It only clears the entry Create wrote: if a
// worker has already claimed the job, its lease entry stays.
func (t *Table) MarkEnqueued(ctx context.Context, j *job.Job) error {
	_, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &t.name,
		Key:                       jobKey(j.ID),
		UpdateExpression:          aws.String("REMOVE due_pk, due_at"),
		ConditionExpression:       aws.String("#status = :pending AND version = :version"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": str(string(job.StatusPending)), ":version": number(j.Version)},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // already claimed or changed: its entry is someone else's now
	}
	if err != nil {
		return fmt.Errorf("mark job %s enqueued: %w", j.ID, err)
	}
	return nil
}

// Get reads a job with a strongly consistent read.
func (t *Table) Get(ctx context.Context, id string) (*job.Job, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: jobKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get job %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	return jobFromAttributes(out.Item)
}

// Page is one page of a listing; Cursor is empty on the last page.
type Page struct {
	Jobs   []*job.Job
	Cursor string
}

// ErrBadCursor means a listing cursor was not one this store issued.
var ErrBadCursor = errors.New("cursor is not valid")

// The cursor is the index position, opaque to clients: base64 of its string keys.
func encodeCursor(key map[string]types.AttributeValue) string {
	plain := map[string]string{}
	for k, v := range key {
		if value, ok := v.(*types.AttributeValueMemberS); ok {
			plain[k] = value.Value
		}
	}
	data, _ := json.Marshal(plain)
	return base64.RawURLEncoding.EncodeToString(data)
}

// decodeKeys reads a cursor that must hold exactly the named string keys.
func decodeKeys(cursor string, names ...string) (map[string]types.AttributeValue, error) {
	data, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, err
	}
	var plain map[string]string
	if err := json.Unmarshal(data, &plain); err != nil {
		return nil, err
	}
	if len(plain) != len(names) {
		return nil, ErrBadCursor
	}
	key := map[string]types.AttributeValue{}
	for _, name := range names {
		v, ok := plain[name]
		if !ok {
			return nil, ErrBadCursor
		}
		key[name] = str(v)
	}
	return key, nil
}

// queryEach runs a query page by page and calls fn for each item.
func (t *Table) queryEach(ctx context.Context, in *dynamodb.QueryInput, fn func(item map[string]types.AttributeValue) error) error {
	for {
		out, err := t.db.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// transact runs a transaction, retrying transaction conflicts (two
// transactions on the same counter shard at once), which heal by trying
// again. When the transaction was cancelled by a condition it returns the
// cancellation reasons, one per write.
func (t *Table) transact(ctx context.Context, writes []types.TransactWriteItem) ([]types.CancellationReason, error) {
	const conflictTries = 8
	var reasons []types.CancellationReason
	err := dynamo.Again(ctx, conflictTries, func() (bool, error) {
		reasons = nil
		_, err := t.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes})
		var cancelled *types.TransactionCanceledException
		if errors.As(err, &cancelled) {
			reasons = cancelled.CancellationReasons
			return !hasCode(reasons, "TransactionConflict"), err
		}
		return true, err
	})
	return reasons, err
}

func hasCode(reasons []types.CancellationReason, code string) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

func failed(reasons []types.CancellationReason, index int) bool {
	return index < len(reasons) && aws.ToString(reasons[index].Code) == "ConditionalCheckFailed"
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func number[T int | int64](v T) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(v)}
}

func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
