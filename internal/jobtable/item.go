package jobtable

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// jobItem is a job as stored in the single table.
type jobItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`

	ID                string `dynamodbav:"id"`
	StoreID           string `dynamodbav:"store_id"`
	Type              string `dynamodbav:"type"`
	Status            string `dynamodbav:"status"`
	Priority          int    `dynamodbav:"priority"`
	Payload           string `dynamodbav:"payload"`
	Progress          int    `dynamodbav:"progress"`
	ProgressMessage   string `dynamodbav:"progress_message"`
	Attempts          int    `dynamodbav:"attempts"`
	MaxAttempts       int    `dynamodbav:"max_attempts"`
	CreatedAt         string `dynamodbav:"created_at"`
	StartedAt         string `dynamodbav:"started_at,omitempty"`
	FinishedAt        string `dynamodbav:"finished_at,omitempty"`
	NextAttemptAt     string `dynamodbav:"next_attempt_at,omitempty"`
	ProgressChangedAt string `dynamodbav:"progress_changed_at,omitempty"`
	PausedAt          string `dynamodbav:"paused_at,omitempty"`
	ReadyAt           string `dynamodbav:"ready_at,omitempty"`
	RunAt             string `dynamodbav:"run_at,omitempty"`
	// RetryDelaysMS is the job's retry schedule, in milliseconds.
	RetryDelaysMS   []int64 `dynamodbav:"retry_delays_ms,omitempty"`
	Error           string  `dynamodbav:"error,omitempty"`
	Result          string  `dynamodbav:"result,omitempty"`
	Checkpoint      string  `dynamodbav:"checkpoint,omitempty"`
	CancelRequested bool    `dynamodbav:"cancel_requested,omitempty"`
	LeaseToken      string  `dynamodbav:"lease_token,omitempty"`
	LeaseExpiresAt  int64   `dynamodbav:"lease_expires_at,omitempty"` // unix milliseconds
	Continuation    bool    `dynamodbav:"continuation,omitempty"`
	Version         int64   `dynamodbav:"version"`

	StorePK string `dynamodbav:"store_pk"`
	StoreSK string `dynamodbav:"store_sk"`
	// AllPK and AllSK list the job in the all-jobs index. Like the store
	// index keys they never change after Create, so no transition has to
	// write them.
	AllPK string `dynamodbav:"all_pk"`
	AllSK string `dynamodbav:"all_sk"`
	DuePK string `dynamodbav:"due_pk,omitempty"`
	DueAt int64  `dynamodbav:"due_at,omitempty"` // unix milliseconds
	// FinishedSK lists a finished job in the finished index; only jobs in
	// a terminal status carry it.
	FinishedSK string `dynamodbav:"finished_sk,omitempty"`
	// ExpiresAt is set when the job ends: DynamoDB's TTL removes it later.
	ExpiresAt int64 `dynamodbav:"expires_at,omitempty"`
}

func jobKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: "JOB#" + id},
		schema.SortKey:      &types.AttributeValueMemberS{Value: "JOB"},
	}
}

// lockItem is the (store, type) lock held by an active job. It is listed in
// the cleanup index, so orphaned locks can be found without a scan. Its
// token is new with every put: the same job takes the lock again when it is
// retried, and whoever deletes a lock it read must not delete a newer one.
func lockItem(j *job.Job, now time.Time) map[string]types.AttributeValue {
	item := lockKey(j.StoreID, j.Type)
	item["job_id"] = str(j.ID)
	item["lock_token"] = str(randomHex(8))
	item[schema.CleanupIndexPK] = str("LOCKS")
	item[schema.CleanupIndexSK] = str(formatTime(now) + "#" + j.ID)
	return item
}

// expiryEntry lists an expiring item in the cleanup index under the day it
// expires.
func expiryEntry(expires time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.CleanupIndexPK: str("EXPIRES#" + day(expires)),
		schema.CleanupIndexSK: str(formatTime(expires)),
	}
}

func lockKey(storeID, jobType string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: "LOCK#" + storeID + "#" + jobType},
		schema.SortKey:      &types.AttributeValueMemberS{Value: "LOCK"},
	}
}

func idempotencyKey(storeID, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: "IDEMPOTENCY#" + storeID + "#" + key},
		schema.SortKey:      &types.AttributeValueMemberS{Value: "IDEMPOTENCY"},
	}
}

func storePartition(storeID string) string { return "STORE#" + storeID }

// dueShard spreads due entries over the index's partitions by job id.
func dueShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return "DUE#" + strconv.Itoa(int(h.Sum32()%schema.DueShards))
}

func formatTime(t time.Time) string { return job.NewTime(t).String() }

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func parseTime(s string) (*job.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, err
	}
	v := job.NewTime(t)
	return &v, nil
}

func itemFromJob(j *job.Job) jobItem {
	it := jobItem{
		PK: "JOB#" + j.ID, SK: "JOB",
		ID: j.ID, StoreID: j.StoreID, Type: j.Type, Status: string(j.Status),
		Priority: int(j.Priority), Payload: string(j.Payload),
		Progress: j.Progress, ProgressMessage: j.ProgressMessage,
		Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
		CreatedAt: j.CreatedAt.String(),
		Error:     j.Error, Result: string(j.Result), Checkpoint: string(j.Checkpoint),
		CancelRequested: j.CancelRequested, LeaseToken: j.LeaseToken, Continuation: j.Continuation,
		Version: j.Version,
		StorePK: storePartition(j.StoreID), StoreSK: jobSortKey(j),
		AllPK: allJobsShard(j.ID), AllSK: jobSortKey(j),
	}
	if j.StartedAt != nil {
		it.StartedAt = j.StartedAt.String()
	}
	if j.FinishedAt != nil {
		it.FinishedAt = j.FinishedAt.String()
		if j.Status.Terminal() {
			it.FinishedSK = finishedSortKey(j.FinishedAt.Time, j.ID)
		}
	}
	if j.NextAttemptAt != nil {
		it.NextAttemptAt = j.NextAttemptAt.String()
	}
	if j.ReadyAt != nil {
		it.ReadyAt = j.ReadyAt.String()
	}
	if j.RunAt != nil {
		it.RunAt = j.RunAt.String()
	}
	if j.PausedAt != nil {
		it.PausedAt = j.PausedAt.String()
	}
	for _, d := range j.RetryDelays {
		it.RetryDelaysMS = append(it.RetryDelaysMS, d.Milliseconds())
	}
	if !j.LeaseExpiresAt.IsZero() {
		it.LeaseExpiresAt = j.LeaseExpiresAt.UnixMilli()
	}
	return it
}

func jobFromAttributes(av map[string]types.AttributeValue) (*job.Job, error) {
	var it jobItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("decode job item: %w", err)
	}
	created, err := parseTime(it.CreatedAt)
	if err != nil || created == nil {
		return nil, fmt.Errorf("decode job %s: bad created_at %q", it.ID, it.CreatedAt)
	}
	j := &job.Job{
		ID: it.ID, StoreID: it.StoreID, Type: it.Type, Status: job.Status(it.Status),
		Priority: job.Priority(it.Priority), PriorityLevel: it.Priority,
		Payload:  json.RawMessage(it.Payload),
		Progress: it.Progress, ProgressMessage: it.ProgressMessage,
		Attempts: it.Attempts, MaxAttempts: it.MaxAttempts,
		CreatedAt: *created, Error: it.Error,
		CancelRequested: it.CancelRequested, LeaseToken: it.LeaseToken,
		Continuation: it.Continuation, Version: it.Version,
	}
	if it.Result != "" {
		j.Result = json.RawMessage(it.Result)
	}
	if it.Checkpoint != "" {
		j.Checkpoint = json.RawMessage(it.Checkpoint)
	}
	if it.LeaseExpiresAt != 0 {
		j.LeaseExpiresAt = time.UnixMilli(it.LeaseExpiresAt).UTC()
	}
	if it.ExpiresAt != 0 {
		j.ExpiresAt = time.Unix(it.ExpiresAt, 0).UTC()
	}
	for _, ms := range it.RetryDelaysMS {
		j.RetryDelays = append(j.RetryDelays, time.Duration(ms)*time.Millisecond)
	}
	for _, f := range []struct {
		src string
		dst **job.Time
	}{
		{it.StartedAt, &j.StartedAt}, {it.FinishedAt, &j.FinishedAt}, {it.NextAttemptAt, &j.NextAttemptAt},
		{it.ProgressChangedAt, &j.ProgressChangedAt}, {it.PausedAt, &j.PausedAt}, {it.ReadyAt, &j.ReadyAt},
		{it.RunAt, &j.RunAt},
	} {
		t, err := parseTime(f.src)
		if err != nil {
			return nil, fmt.Errorf("decode job %s: %w", it.ID, err)
		}
		*f.dst = t
	}
	return j, nil
}
