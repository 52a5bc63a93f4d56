package jobtable

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// AheadReadLimit is how many other active jobs JobsAhead reads at most,
// in one BatchGetItem, whatever the number of stored or active jobs.
const AheadReadLimit = 50

// aheadLockReadLimit bounds the keys-only lock entries JobsAhead reads to
// find them (a few kilobytes each hundred): the locks of paused types,
// which it skips, cannot make it read on without end.
const aheadLockReadLimit = 1000

// Ahead counts the jobs that a worker takes before a waiting job.
type Ahead struct {
	// ByPriority counts them per priority; priorities with none are absent.
	ByPriority map[job.Priority]int
	// AtLeast means more jobs were active than JobsAhead reads: there may be
	// more ahead than counted.
	AtLeast bool
}

// Total is how many jobs are counted ahead.
func (a Ahead) Total() int {
	n := 0
	for _, count := range a.ByPriority {
		n += count
	}
	return n
}

// JobsAhead counts the jobs, of every store, that wait to run and that a
// worker takes before j: those of a more urgent priority, then those of
// j's priority that have been ready to run for longer. A job of a paused
// type is not counted (it waits for its pause, not for a worker), nor is
// one that runs or waits for the time of its next attempt.
//
// Every active job holds its (store, type) lock, and the locks are listed
// in the cleanup index's LOCKS partition, oldest first: so the jobs read
// are active ones only, never the stored ones, and at most AheadReadLimit
// of them, the longest active first. With more active jobs than that the
// count is a lower bound (Ahead.AtLeast).
func (t *Table) JobsAhead(ctx context.Context, j *job.Job, pauses Pauses) (Ahead, error) {
	ahead := Ahead{ByPriority: map[job.Priority]int{}}
	keys, more, err := t.activeJobKeys(ctx, j.ID, pauses)
	if err != nil || len(keys) == 0 {
		return ahead, err
	}
	ahead.AtLeast = more
	others, err := t.waitingFacts(ctx, keys)
	if err != nil {
		return ahead, err
	}
	now := t.opts.Clock.Now()
	mine := readyToRunSince(j)
	for _, other := range others {
		if !waitsForAWorker(other, now) || pauses.Paused(other.Type) {
			continue
		}
		since := readyToRunSince(other)
		if other.Priority < j.Priority ||
			other.Priority == j.Priority && (since.Before(mine) || since.Equal(mine) && other.ID < j.ID) {
			ahead.ByPriority[other.Priority]++
		}
	}
	return ahead, nil
}

// activeJobKeys lists the keys of up to AheadReadLimit active jobs other
// than the one named, longest active first, leaving out those of paused
// types, and tells whether there are more.
func (t *Table) activeJobKeys(ctx context.Context, except string, pauses Pauses) (keys []map[string]types.AttributeValue, more bool, err error) {
	in := &dynamodb.QueryInput{
		TableName:                 &t.name,
		IndexName:                 aws.String(schema.CleanupIndex),
		KeyConditionExpression:    aws.String("#pk = :locks"),
		ExpressionAttributeNames:  map[string]string{"#pk": schema.CleanupIndexPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":locks": str("LOCKS")},
		Limit:                     aws.Int32(100),
	}
	read := 0
	for {
		out, err := t.db.Query(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("read active-job locks: %w", err)
		}
		read += len(out.Items)
		for _, lock := range out.Items {
			// The lock's sort key in the index is "<locked at>#<job id>".
			_, id, _ := strings.Cut(stringAttr(lock, schema.CleanupIndexSK), "#")
			if id == "" || id == except || pauses.Paused(lockedType(stringAttr(lock, schema.PartitionKey))) {
				continue
			}
			if len(keys) == AheadReadLimit {
				return keys, true, nil
			}
			keys = append(keys, jobKey(id))
		}
		switch {
		case len(out.LastEvaluatedKey) == 0:
			return keys, false, nil
		case read >= aheadLockReadLimit:
			return keys, true, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// lockedType is the job type of a lock's key, LOCK#<store>#<type>. Store
// ids and job types cannot hold a '#'.
func lockedType(pk string) string {
	rest, _ := strings.CutPrefix(pk, "LOCK#")
	_, jobType, _ := strings.Cut(rest, "#")
	return jobType
}

// waitsForAWorker reports whether a worker would run the job as soon as it
// took its message: pending (and past its start time, if delayed) and not
// set aside by a pause, due for its next attempt, or handed on by an invocation that ran out of time.
func waitsForAWorker(j *job.Job, now time.Time) bool {
	if j.PausedAt != nil {
		return false
	}
	switch j.Status {
	case job.StatusPending:
		return j.RunAt == nil || !j.RunAt.After(now)
	case job.StatusRetrying:
		return j.NextAttemptAt == nil || !j.NextAttemptAt.After(now)
	case job.StatusRunning:
		return j.LeaseToken == ""
	}
	return false
}

// readyToRunSince is when a job last became ready to run, as the
// starvation guard reads it: within a priority, the job ready longest runs
// first.
func readyToRunSince(j *job.Job) time.Time {
	if j.ReadyAt != nil {
		return j.ReadyAt.Time
	}
	return j.CreatedAt.Time
}

// waitingProjection is what JobsAhead reads of each active job.
var waitingProjection = []string{"id", "store_id", "type", "status", "priority", "created_at", "ready_at", "paused_at", "next_attempt_at", "lease_token", "run_at"}

// waitingFacts reads the named jobs (at most 100), eventually consistent:
// a count of the jobs ahead is out of date as soon as it is read anyway.
// A job deleted meanwhile is left out.
func (t *Table) waitingFacts(ctx context.Context, keys []map[string]types.AttributeValue) ([]*job.Job, error) {
	names := map[string]string{}
	placeholders := make([]string, len(waitingProjection))
	for i, attr := range waitingProjection {
		placeholders[i] = "#" + attr
		names["#"+attr] = attr
	}
	request := map[string]types.KeysAndAttributes{t.name: {
		Keys: keys, ProjectionExpression: aws.String(strings.Join(placeholders, ", ")), ExpressionAttributeNames: names,
	}}
	var jobs []*job.Job
	for len(request) > 0 {
		out, err := t.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: request})
		if err != nil {
			return nil, fmt.Errorf("read active jobs: %w", err)
		}
		for _, item := range out.Responses[t.name] {
			j, err := jobFromAttributes(item)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, j)
		}
		request = out.UnprocessedKeys
	}
	return jobs, nil
}
