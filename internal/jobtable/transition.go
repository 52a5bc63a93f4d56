package jobtable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/schema"
)

// A fence is what entitles a writer to change a job. A worker holds the
// job's lease token; anyone else must have read the job's current version.
// Every write is conditional on its fence, so a stale writer (a paused
// worker, a duplicate message, a second API call) can never overwrite a
// newer state.
type fence struct {
	leaseToken string
	version    int64
}

func (f fence) condition(names map[string]string, values map[string]types.AttributeValue) string {
	if f.leaseToken != "" {
		values[":fence_token"] = str(f.leaseToken)
		return "lease_token = :fence_token"
	}
	values[":fence_version"] = number(f.version)
	return "version = :fence_version"
}

// change is one status transition with the attributes it sets and removes.
type change struct {
	to     job.Status
	set    map[string]types.AttributeValue
	remove []string
	// event is the log line the transition writes, in the same transaction.
	event LogEntry
	// at is when the transition happens (the times it sets); now if zero.
	at time.Time
	// failure, for a failed attempt, is counted in its day's failure groups.
	failure *Failure
}

// apply writes a transition in one transaction: the job (conditional on its
// status and fence), the counters, and the (store, type) lock when the job
// ends or comes back.
func (t *Table) apply(ctx context.Context, j *job.Job, f fence, c change) error {
	if !job.CanTransition(j.Status, c.to) {
		return fmt.Errorf("job %s cannot go from %s to %s", j.ID, j.Status, c.to)
	}
	now := c.at
	if now.IsZero() {
		now = t.opts.Clock.Now()
	}
	// Metrics count in the milliseconds the job's times are written in.
	now = now.Truncate(time.Millisecond)
	if c.set == nil {
		c.set = map[string]types.AttributeValue{}
	}
	c.set["status"] = str(string(c.to))
	if c.to.Terminal() {
		retention := t.opts.Retention
		if c.to != job.StatusCompleted {
			retention = t.opts.FailedRetention
		}
		c.set[schema.TTLAttribute] = number(now.Add(retention).Unix())
		for k, v := range expiryEntry(now.Add(retention)) {
			c.set[k] = v
		}
		// Set here, for every way a job ends, so the finished index always
		// agrees with finished_at.
		c.set["finished_at"] = str(formatTime(now))
		c.set[schema.FinishedIndexSK] = str(finishedSortKey(now, j.ID))
		c.remove = append(c.remove, "lease_token", "lease_expires_at", "due_pk", "due_at", "continuation", "cancel_requested", "next_attempt_at", "paused_at")
	} else {
		c.remove = append(c.remove, schema.TTLAttribute, schema.CleanupIndexPK, schema.CleanupIndexSK, schema.FinishedIndexSK)
	}

	names := map[string]string{"#status": "status"}
	values := map[string]types.AttributeValue{":from": str(string(j.Status)), ":one": number(1)}
	condition := "#status = :from AND " + f.condition(names, values)

	var sets []string
	for _, attr := range sortedKeys(c.set) {
		name, value := "#"+attr, ":"+attr
		names[name] = attr
		values[value] = c.set[attr]
		sets = append(sets, name+" = "+value)
	}
	sets = append(sets, "version = version + :one")
	expression := "SET " + strings.Join(sets, ", ")
	if len(c.remove) > 0 {
		var removes []string
		for _, attr := range c.remove {
			if _, alsoSet := c.set[attr]; alsoSet {
				continue
			}
			names["#"+attr] = attr
			removes = append(removes, "#"+attr)
		}
		if len(removes) > 0 {
			expression += " REMOVE " + strings.Join(removes, ", ")
		}
	}
	writes := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                 &t.name,
		Key:                       jobKey(j.ID),
		UpdateExpression:          aws.String(expression),
		ConditionExpression:       aws.String(condition),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}}}
	lockIndex := -1
	switch {
	case c.to.Terminal() && !j.Status.Terminal():
		writes = append(writes, types.TransactWriteItem{Delete: &types.Delete{
			TableName: &t.name, Key: lockKey(j.StoreID, j.Type),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR job_id = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(j.ID)},
		}})
	case j.Status.Terminal() && !c.to.Terminal():
		lock := lockItem(j, now)
		lockIndex = len(writes)
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{
			TableName: &t.name, Item: lock, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}})
	}
	writes = append(writes, t.counterWrites(j.StoreID, j.Status, c.to)...)
	writes = append(writes, t.metricWrites(j, transitionMetrics(j, c.to, now))...)
	if c.failure != nil {
		writes = append(writes, t.failureWrite(j.Type, *c.failure, now))
	}
	writes, err := t.withLogLine(writes, j.ID, c.event)
	if err != nil {
		return err
	}

	reasons, err := t.transact(ctx, writes)
	switch {
	case err == nil:
		return nil
	case failed(reasons, 0):
		return ErrStale
	case lockIndex >= 0 && failed(reasons, lockIndex):
		existing, readErr := t.activeJobID(ctx, j.StoreID, j.Type)
		if readErr != nil {
			return readErr
		}
		return &DuplicateError{ExistingJobID: existing}
	default:
		return fmt.Errorf("move job %s from %s to %s: %w", j.ID, j.Status, c.to, err)
	}
}

// transitionMetrics is what a transition counts in its day's metrics.
func transitionMetrics(j *job.Job, to job.Status, now time.Time) metricDelta {
	d := metricDelta{at: now}
	switch to {
	case job.StatusRunning:
		if j.StartedAt == nil {
			d.hasWait, d.wait = true, now.Sub(j.CreatedAt.Time)
		}
	case job.StatusCompleted:
		d.counter = "completed"
		if j.StartedAt != nil {
			d.hasRun, d.run = true, now.Sub(j.StartedAt.Time)
		}
	case job.StatusFailed, job.StatusCancelled:
		d.counter = string(to)
	case job.StatusRetrying:
		d.counter = "retried"
	}
	return d
}

func sortedKeys(m map[string]types.AttributeValue) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Lease is a worker's exclusive right to run a job until it expires.
type Lease struct {
	Token     string
	ExpiresAt time.Time
}

// Claim gives the job to a worker: it becomes running under the worker's
// lease. A continuation keeps its attempt number; anything else starts a new
// attempt. The claim is fenced on the version read, so of two workers that
// read the same job only one wins; the other gets ErrStale.
func (t *Table) Claim(ctx context.Context, j *job.Job, lease Lease, sweepGrace time.Duration, event LogEntry) (*job.Job, error) {
	now := t.opts.Clock.Now()
	claimed := *j
	claimed.Status = job.StatusRunning
	claimed.LeaseToken = lease.Token
	claimed.LeaseExpiresAt = lease.ExpiresAt
	claimed.NextAttemptAt = nil
	claimed.PausedAt = nil
	claimed.Continuation = false
	if !j.Continuation {
		claimed.Attempts++
	}
	if claimed.StartedAt == nil {
		claimed.StartedAt = job.TimePtr(now)
	}
	set := map[string]types.AttributeValue{
		"lease_token":         str(lease.Token),
		"lease_expires_at":    number(lease.ExpiresAt.UnixMilli()),
		"attempts":            number(claimed.Attempts),
		"started_at":          str(claimed.StartedAt.String()),
		"progress_changed_at": str(formatTime(now)),
		"due_pk":              str(dueShard(j.ID)),
		"due_at":              number(lease.ExpiresAt.Add(sweepGrace).UnixMilli()),
	}
	err := t.apply(ctx, j, fence{version: j.Version}, change{to: job.StatusRunning, set: set, remove: []string{"continuation", "next_attempt_at", "paused_at"}, event: event, at: now})
	if err != nil {
		return nil, err
	}
	claimed.Version++
	return &claimed, nil
}

// Progress is what a running job reports about itself.
type Progress struct {
	Percent int
	Message string
	// Changed says the percent or message moved since the last write.
	Changed bool
	// Checkpoint, when not nil, replaces the saved resume state.
	Checkpoint json.RawMessage
}

// SaveProgress writes a running job's progress (and checkpoint) under its
// lease, and extends the lease to lease.ExpiresAt (moving the job's due
// entry with it) unless that is zero. It reports whether a user asked to
// cancel the job; ErrStale means the lease was lost and the caller must stop.
func (t *Table) SaveProgress(ctx context.Context, id string, lease Lease, p Progress, sweepGrace time.Duration) (cancelRequested bool, err error) {
	set := map[string]types.AttributeValue{
		"progress":         number(p.Percent),
		"progress_message": str(p.Message),
	}
	if !lease.ExpiresAt.IsZero() {
		set["lease_expires_at"] = number(lease.ExpiresAt.UnixMilli())
		set["due_at"] = number(lease.ExpiresAt.Add(sweepGrace).UnixMilli())
	}
	if p.Checkpoint != nil {
		set["checkpoint"] = str(string(p.Checkpoint))
	}
	if p.Changed {
		set["progress_changed_at"] = str(formatTime(t.opts.Clock.Now()))
	}
	return t.updateRunning(ctx, id, lease.Token, set)
}

func (t *Table) updateRunning(ctx context.Context, id, leaseToken string, set map[string]types.AttributeValue) (bool, error) {
	names := map[string]string{"#status": "status"}
	values := map[string]types.AttributeValue{":token": str(leaseToken), ":running": str(string(job.StatusRunning))}
	var sets []string
	for _, attr := range sortedKeys(set) {
		names["#"+attr] = attr
		values[":"+attr] = set[attr]
		sets = append(sets, "#"+attr+" = :"+attr)
	}
	out, err := t.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &t.name,
		Key:                       jobKey(id),
		UpdateExpression:          aws.String("SET " + strings.Join(sets, ", ")),
		ConditionExpression:       aws.String("#status = :running AND lease_token = :token"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, ErrStale
	}
	if err != nil {
		return false, fmt.Errorf("update running job %s: %w", id, err)
	}
	cancel, _ := out.Attributes["cancel_requested"].(*types.AttributeValueMemberBOOL)
	return cancel != nil && cancel.Value, nil
}

// Outcome is how a worker ends its run of a job.
type Outcome struct {
	Status job.Status // completed, failed, cancelled or retrying
	// Progress is the last progress, written with the outcome.
	Progress Progress
	Result   json.RawMessage
	Error    string
	// NextAttemptAt is when a retrying job runs again.
	NextAttemptAt time.Time
	SweepGrace    time.Duration
	// Event is the log line that tells of the outcome.
	Event LogEntry
	// Failure is what went wrong, for a failed or retried attempt.
	Failure *Failure
}

// Finish records how a run of a job ended, under the lease of the worker
// that ran it; a job that no worker holds (one whose type cannot run here)
// is ended fenced on the version read.
func (t *Table) Finish(ctx context.Context, j *job.Job, o Outcome) error {
	now := t.opts.Clock.Now()
	set := map[string]types.AttributeValue{
		"progress":         number(o.Progress.Percent),
		"progress_message": str(o.Progress.Message),
	}
	if o.Progress.Checkpoint != nil {
		set["checkpoint"] = str(string(o.Progress.Checkpoint))
	}
	var remove []string
	if o.Error != "" {
		set["error"] = str(o.Error)
	} else {
		remove = append(remove, "error")
	}
	if o.Result != nil {
		set["result"] = str(string(o.Result))
	}
	if o.Status == job.StatusRetrying {
		set["next_attempt_at"] = str(formatTime(o.NextAttemptAt))
		set["ready_at"] = str(formatTime(o.NextAttemptAt))
		set["due_pk"] = str(dueShard(j.ID))
		set["due_at"] = number(o.NextAttemptAt.Add(o.SweepGrace).UnixMilli())
		remove = append(remove, "lease_token", "lease_expires_at")
	}
	return t.apply(ctx, j, fence{leaseToken: j.LeaseToken, version: j.Version}, change{to: o.Status, set: set, remove: remove, event: o.Event, at: now, failure: o.Failure})
}

// Release hands a running job on without ending its attempt: the lease is
// dropped and the next claim continues the same attempt from its checkpoint.
// It is how a job outlives one invocation's deadline.
func (t *Table) Release(ctx context.Context, j *job.Job, p Progress, sweepGrace time.Duration, event LogEntry) error {
	now := t.opts.Clock.Now()
	set := map[string]types.AttributeValue{
		"progress":         number(p.Percent),
		"progress_message": str(p.Message),
		"continuation":     &types.AttributeValueMemberBOOL{Value: true},
		"ready_at":         str(formatTime(now)),
		"due_pk":           str(dueShard(j.ID)),
		"due_at":           number(now.Add(sweepGrace).UnixMilli()),
	}
	if p.Checkpoint != nil {
		set["checkpoint"] = str(string(p.Checkpoint))
	}
	return t.apply(ctx, j, fence{leaseToken: j.LeaseToken}, change{to: job.StatusRunning, set: set, remove: []string{"lease_token", "lease_expires_at"}, event: event, at: now})
}
