package jobtable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/dynamo"
	"github.com/dainostore/jobs/internal/schema"
)

// CleanupReport says what a cleanup removed.
type CleanupReport struct {
	JobsDeleted            int `json:"jobs_deleted"`
	LogLinesDeleted        int `json:"log_lines_deleted"`
	IdempotencyKeysDeleted int `json:"idempotency_keys_deleted"`
	LocksReleased          int `json:"locks_released"`
}

// CleanupState is how far a cleanup has got: what it removed so far, and
// where in the cleanup index it goes on. Given back to Cleanup, it resumes a
// cleanup that was stopped (a deadline, a crash) with its counts kept.
type CleanupState struct {
	Report CleanupReport `json:"report"`
	// Partition is the cleanup-index partition to read next, from Cursor;
	// empty, the cleanup starts at the first.
	Partition string `json:"partition,omitempty"`
	Cursor    string `json:"cursor,omitempty"`
	// Percent is how far through its partitions the cleanup is.
	Percent int `json:"percent"`
}

// CleanupOptions say how far back a cleanup looks, where it starts and how
// it reports on its way.
type CleanupOptions struct {
	// LookBackDays is how many days of expired items before today are read.
	LookBackDays int
	// PageSize bounds the index entries read and handled at a time;
	// defaultCleanupPageSize if not positive.
	PageSize int
	// From is the state a stopped cleanup reported last.
	From CleanupState
	// AfterPage, when set, gets the state after each page but the last,
	// whose report Cleanup returns (a cleanup stopped before it returned
	// does that page again, and removes nothing twice). An error from it
	// stops the cleanup.
	AfterPage func(CleanupState) error
}

const defaultCleanupPageSize = 100

// locksPartition lists every (store, type) lock in the cleanup index.
const locksPartition = "LOCKS"

// Cleanup removes finished jobs (with their logs) and idempotency keys past
// their expiry that DynamoDB's TTL has not deleted yet (it may take up to
// two days), looking back LookBackDays, and releases locks whose job is
// gone or finished. It reads only the sparse cleanup index, a page at a
// time. Every removal is conditional on what makes it right, so a page done
// twice (resumed after a crash) removes and counts nothing twice.
func (t *Table) Cleanup(ctx context.Context, o CleanupOptions) (CleanupReport, error) {
	now := t.opts.Clock.Now()
	pageSize := o.PageSize
	if pageSize <= 0 {
		pageSize = defaultCleanupPageSize
	}
	// In the order they are cleaned, which is also their sort order: the
	// oldest day first ("EXPIRES#2026-05-01"), the locks last.
	var partitions []string
	for d := o.LookBackDays; d >= 0; d-- {
		partitions = append(partitions, "EXPIRES#"+day(now.AddDate(0, 0, -d)))
	}
	partitions = append(partitions, locksPartition)

	state := o.From
	for i, partition := range partitions {
		if partition < state.Partition {
			continue // done before the cleanup was stopped
		}
		if partition != state.Partition {
			state.Partition, state.Cursor = partition, ""
		}
		for {
			if err := ctx.Err(); err != nil {
				return state.Report, fmt.Errorf("cleanup stopped in %s: %w", partition, err)
			}
			next, err := t.cleanupPage(ctx, partition, state.Cursor, pageSize, now, &state.Report)
			if err != nil {
				return state.Report, err
			}
			if next == "" && i == len(partitions)-1 {
				return state.Report, nil
			}
			state.Cursor = next
			if next == "" {
				state.Partition = partitions[i+1]
			}
			state.Percent = 100 * slices.Index(partitions, state.Partition) / len(partitions)
			if o.AfterPage != nil {
				if err := o.AfterPage(state); err != nil {
					return state.Report, err
				}
			}
			if next == "" {
				break
			}
		}
	}
	return state.Report, nil
}

// cleanupPage handles one page of a partition of the cleanup index, from a
// cursor, and returns the cursor of the next page, empty after the last.
func (t *Table) cleanupPage(ctx context.Context, partition, cursor string, size int, now time.Time, report *CleanupReport) (string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		IndexName:                 aws.String(schema.CleanupIndex),
		KeyConditionExpression:    aws.String("cleanup_pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition)},
		Limit:                     aws.Int32(int32(size)),
	}
	if partition != locksPartition {
		// An expiry partition sorts by expiry time: only what has expired.
		in.KeyConditionExpression = aws.String("cleanup_pk = :pk AND cleanup_sk <= :now")
		in.ExpressionAttributeValues[":now"] = str(formatTime(now))
	}
	if cursor != "" {
		start, err := decodeKeys(cursor, schema.CleanupIndexPK, schema.CleanupIndexSK, schema.PartitionKey, schema.SortKey)
		if err != nil || stringAttr(start, schema.CleanupIndexPK) != partition {
			return "", fmt.Errorf("resume cleanup of %s at %q: %w", partition, cursor, ErrBadCursor)
		}
		in.ExclusiveStartKey = start
	}
	out, err := t.db.Query(ctx, in)
	if err != nil {
		return "", fmt.Errorf("read cleanup index %s: %w", partition, err)
	}
	for _, entry := range out.Items {
		key := map[string]types.AttributeValue{schema.PartitionKey: entry[schema.PartitionKey], schema.SortKey: entry[schema.SortKey]}
		pk := stringAttr(key, schema.PartitionKey)
		switch {
		case strings.HasPrefix(pk, "JOB#"):
			deleted, lines, err := t.deleteJob(ctx, strings.TrimPrefix(pk, "JOB#"), now)
			if deleted {
				report.JobsDeleted++
			}
			report.LogLinesDeleted += lines
			if err != nil {
				return "", err
			}
		case strings.HasPrefix(pk, "IDEMPOTENCY#"):
			deleted, err := t.deleteExpired(ctx, key, now)
			if err != nil {
				return "", err
			}
			if deleted {
				report.IdempotencyKeysDeleted++
			}
		case strings.HasPrefix(pk, "LOCK#"):
			released, err := t.releaseOrphanedLock(ctx, key)
			if err != nil {
				return "", err
			}
			if released {
				report.LocksReleased++
			}
		}
	}
	if len(out.LastEvaluatedKey) == 0 {
		return "", nil
	}
	return encodeCursor(out.LastEvaluatedKey), nil
}

// deleteJob deletes an expired job, then its log lines. The job goes first,
// on the condition that it is still expired: a job retried meanwhile is not,
// and keeps its history. Lines left behind by a crash between the two
// expire by their own TTL.
func (t *Table) deleteJob(ctx context.Context, id string, now time.Time) (deleted bool, lines int, err error) {
	deleted, err = t.deleteExpired(ctx, jobKey(id), now)
	if err != nil || !deleted {
		return deleted, 0, err
	}
	lines, err = t.deleteLog(ctx, id)
	return true, lines, err
}

// deleteLog deletes the log lines of a deleted job.
func (t *Table) deleteLog(ctx context.Context, id string) (int, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :log)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("JOB#" + id), ":log": str("LOG#")},
		ProjectionExpression:      aws.String("pk, sk"),
		ConsistentRead:            aws.Bool(true),
	}
	lines := 0
	for {
		out, err := t.db.Query(ctx, in)
		if err != nil {
			return lines, fmt.Errorf("read log of deleted job %s: %w", id, err)
		}
		for batch := range slices.Chunk(out.Items, maxBatchWrite) {
			requests := make([]types.WriteRequest, len(batch))
			for i, key := range batch {
				requests[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: key}}
			}
			if err := dynamo.BatchWrite(ctx, t.db, t.name, requests); err != nil {
				return lines, fmt.Errorf("delete log of deleted job %s: %w", id, err)
			}
			lines += len(batch)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return lines, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// deleteExpired deletes an item if its expiry has passed, and says whether
// it did.
func (t *Table) deleteExpired(ctx context.Context, key map[string]types.AttributeValue, now time.Time) (bool, error) {
	_, err := t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &t.name,
		Key:                       key,
		ConditionExpression:       aws.String("expires_at <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": number(now.Unix())},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil // gone already, or given a new life (a retried job, a reused key)
	}
	if err != nil {
		return false, fmt.Errorf("delete expired %s: %w", stringAttr(key, schema.PartitionKey), err)
	}
	return true, nil
}

// releaseOrphanedLock deletes a lock whose job is missing or finished:
// every transition keeps locks right, so one only appears if something
// outside the system changed the table.
func (t *Table) releaseOrphanedLock(ctx context.Context, key map[string]types.AttributeValue) (bool, error) {
	out, err := t.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &t.name, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fmt.Errorf("read lock %s: %w", stringAttr(key, schema.PartitionKey), err)
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
		return false, fmt.Errorf("read job %s of lock %s: %w", jobID, stringAttr(key, schema.PartitionKey), err)
	}
	// The job may have ended and been retried since the lock was read,
	// putting it again under the same job id: only the lock as read goes.
	condition := "lock_token = :token"
	values := map[string]types.AttributeValue{":token": str(stringAttr(out.Item, "lock_token"))}
	if stringAttr(out.Item, "lock_token") == "" {
		// Put before locks had tokens; every put since has one.
		condition = "attribute_not_exists(lock_token) AND job_id = :id"
		values = map[string]types.AttributeValue{":id": str(jobID)}
	}
	_, err = t.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &t.name, Key: key,
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeValues: values,
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
