package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dynamo"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/schema"
)

// Errors callers branch on.
var (
	ErrNotFound = errors.New("schedule not found")
	// ErrStale means the schedule changed since it was read: another sweep
	// handled it, or someone edited it.
	ErrStale = errors.New("schedule changed since it was read")
)

// Outcome is what became of a due time.
type Outcome string

const (
	// OutcomeStarted: a job was created for the due time.
	OutcomeStarted Outcome = "started"
	// OutcomeSkipped: the store's job of the type was still active, so
	// none was created.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeCaughtUp: several due times had passed (an outage); one job
	// was created, for the latest.
	OutcomeCaughtUp Outcome = "caught_up"
	// OutcomeRunNow: someone ran the schedule by hand ("run now"); its
	// due time is when they did.
	OutcomeRunNow Outcome = "run_now"
)

// Run is one handled due time.
type Run struct {
	DueAt     job.Time `json:"due_at"`
	HandledAt job.Time `json:"handled_at"`
	Outcome   Outcome  `json:"outcome"`
	// JobID is the job created (started, caught_up) or the active job that
	// made the run skip.
	JobID string `json:"job_id,omitempty"`
	// JobStatus is the job's status when the schedule was read
	// (Store.FillJobStatuses); empty if the job is gone.
	JobStatus job.Status `json:"job_status,omitempty"`
	Message   string     `json:"message,omitempty"`

	// counted says the job's end is counted in ConsecutiveFailures, so no
	// later sweep counts it again.
	counted bool
}

// MaxRuns is how many runs a schedule keeps, newest first.
const MaxRuns = 10

// MaxNameLength is the longest name a schedule may have, in characters.
const MaxNameLength = 100

// Schedule is a store's recurring job.
type Schedule struct {
	ID       string          `json:"id"`
	StoreID  string          `json:"store_id"`
	Name     string          `json:"name,omitempty"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
	Priority job.Priority    `json:"priority"`
	// Cron is always the expression, derived from Every, At and Weekday for
	// a simple schedule; those three are set only for one.
	Cron     string `json:"cron"`
	Every    string `json:"every,omitempty"`
	At       string `json:"at,omitempty"`
	Weekday  string `json:"weekday,omitempty"`
	TimeZone string `json:"time_zone"`
	// Description says when it is due, for people.
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
	// PausedReason says why the schedule disabled itself; empty otherwise.
	PausedReason        string `json:"paused_reason,omitempty"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	// NextRunAt is the next due time; nil while disabled.
	NextRunAt *job.Time `json:"next_run_at,omitempty"`
	LastRuns  []Run     `json:"last_runs"`
	CreatedAt job.Time  `json:"created_at"`
	UpdatedAt job.Time  `json:"updated_at"`
	// Version counts the schedule's writes; every write is conditional on it.
	Version int64 `json:"-"`

	compiled *Compiled
}

// lastDue is the due time of the latest run the schedule's own timing
// made, nil before the first: runs by hand do not count.
func (s *Schedule) lastDue() *job.Time {
	for _, run := range s.LastRuns {
		if run.Outcome != OutcomeRunNow {
			return &run.DueAt
		}
	}
	return nil
}

// Spec is the schedule's timing as its owner wrote it.
func (s *Schedule) Spec() Spec {
	if s.Every != "" {
		return Spec{Every: s.Every, At: s.At, Weekday: s.Weekday, TimeZone: s.TimeZone}
	}
	return Spec{Cron: s.Cron, TimeZone: s.TimeZone}
}

// Label names the schedule for people: its name, or when it is due.
func (s *Schedule) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Description
}

// setSpec takes a compiled spec's timing.
func (s *Schedule) setSpec(c *Compiled) {
	spec := c.Spec()
	s.Cron, s.Every, s.At, s.Weekday, s.TimeZone = c.Expression(), spec.Every, spec.At, spec.Weekday, spec.TimeZone
	s.Description = c.Description()
	s.compiled = c
}

// Key names a schedule.
type Key struct{ StoreID, ID string }

// partition holds every schedule, under the sort key "<store>#<id>"; it is
// also the schedules' partition of the due index.
const partition = "SCHEDULES"

func sortKey(storeID, id string) string { return storeID + "#" + id }

func itemKey(storeID, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: partition},
		schema.SortKey:      &types.AttributeValueMemberS{Value: sortKey(storeID, id)},
	}
}

// keyOf reads a schedule's key from its sort key; ids have no '#', store
// ids may.
func keyOf(sk string) Key {
	i := strings.LastIndex(sk, "#")
	if i < 0 {
		return Key{ID: sk}
	}
	return Key{StoreID: sk[:i], ID: sk[i+1:]}
}

// Store keeps schedules in the jobs table.
type Store struct {
	db    *dynamodb.Client
	table string
	clock clock.Clock
}

// NewStore returns the schedules of the named jobs table; clk is every
// "now" it uses (clock.Real if nil).
func NewStore(db *dynamodb.Client, table string, clk clock.Clock) *Store {
	if clk == nil {
		clk = clock.Real
	}
	return &Store{db: db, table: table, clock: clk}
}

// Now is the store's clock's time.
func (s *Store) Now() time.Time { return s.clock.Now() }

// Definition is a new schedule. The caller has checked that the type
// exists, that the store may create it, and that the payload is valid for
// it; Create checks the rest.
type Definition struct {
	StoreID  string
	Name     string
	Type     string
	Payload  json.RawMessage // {} if empty
	Priority job.Priority    // normal if 0
	Spec     Spec
	// Disabled creates the schedule switched off.
	Disabled bool
}

// Create saves a new schedule. Invalid fields are *jobtype.FieldError.
func (s *Store) Create(ctx context.Context, d Definition) (*Schedule, error) {
	if d.StoreID == "" {
		return nil, jobtype.InvalidField("store_id", "store_id is required")
	}
	if d.Type == "" {
		return nil, jobtype.InvalidField("type", "type is required: a job type such as amazon:export:products")
	}
	if err := checkName(d.Name); err != nil {
		return nil, err
	}
	payload, err := compactPayload(d.Payload)
	if err != nil {
		return nil, err
	}
	if d.Priority == 0 {
		d.Priority = job.PriorityNormal
	}
	if !d.Priority.Valid() {
		return nil, jobtype.InvalidField("priority", "priority %s is not one of urgent, high, normal, low", d.Priority)
	}
	compiled, err := d.Spec.Compile()
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new schedule id: %w", err)
	}
	now := s.clock.Now()
	sched := &Schedule{
		ID: id.String(), StoreID: d.StoreID, Name: d.Name, Type: d.Type,
		Payload: payload, Priority: d.Priority, Enabled: !d.Disabled,
		LastRuns: []Run{}, CreatedAt: job.NewTime(now), UpdatedAt: job.NewTime(now),
	}
	sched.setSpec(compiled)
	if sched.Enabled {
		sched.NextRunAt = nextRun(compiled, now)
	}
	if err := s.put(ctx, sched); err != nil {
		return nil, err
	}
	return sched, nil
}

func checkName(name string) error {
	if utf8.RuneCountInString(name) > MaxNameLength {
		return jobtype.InvalidField("name", "name is %d characters long; at most %d are allowed", utf8.RuneCountInString(name), MaxNameLength)
	}
	return nil
}

// compactPayload checks that a payload is a JSON object and stores it
// without insignificant space.
func compactPayload(payload json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(payload)) == 0 {
		return json.RawMessage("{}"), nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, payload); err != nil {
		return nil, jobtype.InvalidField("payload", "payload is not valid JSON: %v", err)
	}
	if buf.Bytes()[0] != '{' {
		return nil, jobtype.InvalidField("payload", "payload must be a JSON object")
	}
	return buf.Bytes(), nil
}

// nextRun is the first due time after t, nil if the schedule never comes
// due again.
func nextRun(c *Compiled, t time.Time) *job.Time {
	next := c.Next(t)
	if next.IsZero() {
		return nil
	}
	return job.TimePtr(next)
}

// Get reads a store's schedule; with storeID "" (an operator) any
// store's, which reads the whole partition.
func (s *Store) Get(ctx context.Context, storeID, id string) (*Schedule, error) {
	if storeID == "" {
		return s.find(ctx, id)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: itemKey(storeID, id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get schedule %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	return scheduleFromItem(out.Item)
}

// find looks a schedule up by id alone.
func (s *Store) find(ctx context.Context, id string) (*Schedule, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :partition"),
		FilterExpression:          aws.String("#id = :id"),
		ExpressionAttributeNames:  map[string]string{"#id": "id"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":partition": str(partition), ":id": str(id)},
		ConsistentRead:            aws.Bool(true),
	}
	var found *Schedule
	err := s.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
		var err error
		if found, err = scheduleFromItem(item); err == nil {
			err = errFound // ids are unique: no need to read further
		}
		return err
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, fmt.Errorf("find schedule %s: %w", id, err)
	}
	if found == nil {
		return nil, ErrNotFound
	}
	return found, nil
}

var errFound = errors.New("found")

// List returns a store's schedules, or with storeID "" every store's,
// ordered by store, then by creation.
func (s *Store) List(ctx context.Context, storeID string) ([]*Schedule, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :partition"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":partition": str(partition)},
		ConsistentRead:            aws.Bool(true),
	}
	if storeID != "" {
		in.KeyConditionExpression = aws.String("pk = :partition AND begins_with(sk, :store)")
		in.ExpressionAttributeValues[":store"] = str(storeID + "#")
	}
	schedules := []*Schedule{}
	err := s.queryEach(ctx, in, func(item map[string]types.AttributeValue) error {
		sched, err := scheduleFromItem(item)
		if err != nil {
			return err
		}
		// The prefix "a#" also matches store "a#b"'s schedules.
		if storeID == "" || sched.StoreID == storeID {
			schedules = append(schedules, sched)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return schedules, nil
}

// Patch changes a schedule; nil fields stay as they are.
type Patch struct {
	Name     *string
	Payload  json.RawMessage // checked by the caller against the type, like Definition's
	Priority *job.Priority
	// The timing. Cron replaces a simple schedule's every, at and weekday;
	// any of those replaces a cron expression; every "day" drops the
	// weekday unless one is given. TimeZone alone keeps the rhythm.
	Cron, Every, At, Weekday, TimeZone *string
	// Enabled switches the schedule on or off. Switching it on clears
	// PausedReason and ConsecutiveFailures.
	Enabled *bool
}

// updateTries bounds how often Update reads again after losing a race
// (with a sweep that recorded a run meanwhile).
const updateTries = 5

// Update applies a patch to a store's schedule (storeID "": any store's)
// and returns it as written. When the timing changed or the schedule was
// switched on, its next run is the first due time after now. Invalid
// fields are *jobtype.FieldError.
func (s *Store) Update(ctx context.Context, storeID, id string, p Patch) (*Schedule, error) {
	for try := 1; ; try++ {
		current, err := s.Get(ctx, storeID, id)
		if err != nil {
			return nil, err
		}
		updated, err := p.apply(current, s.clock.Now())
		if err != nil {
			return nil, err
		}
		err = s.put(ctx, updated)
		if errors.Is(err, ErrStale) && try < updateTries {
			continue // the patch applies as well to the newer version
		}
		if err != nil {
			return nil, err
		}
		return updated, nil
	}
}

// apply returns a copy of current with the patch applied.
func (p Patch) apply(current *Schedule, now time.Time) (*Schedule, error) {
	s := *current
	s.LastRuns = append([]Run(nil), current.LastRuns...)
	if p.Name != nil {
		if err := checkName(*p.Name); err != nil {
			return nil, err
		}
		s.Name = *p.Name
	}
	if p.Payload != nil {
		payload, err := compactPayload(p.Payload)
		if err != nil {
			return nil, err
		}
		s.Payload = payload
	}
	if p.Priority != nil {
		if !p.Priority.Valid() {
			return nil, jobtype.InvalidField("priority", "priority %s is not one of urgent, high, normal, low", *p.Priority)
		}
		s.Priority = *p.Priority
	}
	reschedule := false
	if spec, changed := p.spec(current.Spec()); changed {
		compiled, err := spec.Compile()
		if err != nil {
			return nil, err
		}
		reschedule = compiled.Spec() != current.compiled.Spec()
		s.setSpec(compiled)
	}
	if p.Enabled != nil && *p.Enabled != current.Enabled {
		s.Enabled = *p.Enabled
		if s.Enabled {
			s.PausedReason, s.ConsecutiveFailures = "", 0
			reschedule = true
		}
	}
	switch {
	case !s.Enabled:
		s.NextRunAt = nil
	case reschedule:
		s.NextRunAt = nextRun(s.compiled, now)
	}
	s.UpdatedAt = job.NewTime(now)
	return &s, nil
}

// spec merges the patch's timing into old, and tells whether it has any.
func (p Patch) spec(old Spec) (Spec, bool) {
	if p.Cron == nil && p.Every == nil && p.At == nil && p.Weekday == nil && p.TimeZone == nil {
		return old, false
	}
	s := old
	switch {
	case p.Cron != nil && p.Every == nil && p.At == nil && p.Weekday == nil:
		s = Spec{Cron: *p.Cron, TimeZone: old.TimeZone}
	case p.Cron == nil && (p.Every != nil || p.At != nil || p.Weekday != nil) && old.Cron != "":
		s = Spec{TimeZone: old.TimeZone}
	}
	for _, f := range []struct {
		patch *string
		field *string
	}{{p.Cron, &s.Cron}, {p.Every, &s.Every}, {p.At, &s.At}, {p.Weekday, &s.Weekday}, {p.TimeZone, &s.TimeZone}} {
		if f.patch != nil {
			*f.field = *f.patch
		}
	}
	if p.Every != nil && *p.Every == EveryDay && p.Weekday == nil {
		s.Weekday = ""
	}
	return s, true
}

// Delete removes a store's schedule (storeID "": any store's) and returns
// it as it was.
func (s *Store) Delete(ctx context.Context, storeID, id string) (*Schedule, error) {
	if storeID == "" {
		found, err := s.find(ctx, id)
		if err != nil {
			return nil, err
		}
		storeID = found.StoreID
	}
	out, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &s.table, Key: itemKey(storeID, id),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ReturnValues:        types.ReturnValueAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("delete schedule %s: %w", id, err)
	}
	return scheduleFromItem(out.Attributes)
}

// Due lists up to limit enabled schedules whose next run is at or before
// now. It reads the due index, which lags the table a little: the caller
// reads each schedule again before it acts.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]Key, error) {
	var keys []Key
	var start map[string]types.AttributeValue
	for len(keys) < limit {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 &s.table,
			IndexName:                 aws.String(schema.DueIndex),
			KeyConditionExpression:    aws.String("due_pk = :partition AND due_at <= :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":partition": str(partition), ":now": number(now.UnixMilli())},
			Limit:                     aws.Int32(int32(limit - len(keys))),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("query due schedules: %w", err)
		}
		for _, item := range out.Items {
			keys = append(keys, keyOf(stringAttr(item, schema.SortKey)))
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	return keys, nil
}

// FillJobStatuses sets the job status of the schedules' runs, reading
// every job in one BatchGetItem per 100 (only their status). A run whose
// job is gone keeps none.
func (s *Store) FillJobStatuses(ctx context.Context, schedules ...*Schedule) error {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, sched := range schedules {
		for _, r := range sched.LastRuns {
			if r.JobID != "" && !seen[r.JobID] {
				seen[r.JobID] = true // BatchGetItem refuses a key twice
				keys = append(keys, jobKey(r.JobID))
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	items, err := dynamo.BatchGet(ctx, s.db, s.table, types.KeysAndAttributes{
		Keys: keys, ProjectionExpression: aws.String("#id, #status"), ExpressionAttributeNames: map[string]string{"#id": "id", "#status": "status"},
	})
	if err != nil {
		return fmt.Errorf("read the status of schedules' jobs: %w", err)
	}
	statuses := make(map[string]job.Status, len(items))
	for _, item := range items {
		statuses[stringAttr(item, "id")] = job.Status(stringAttr(item, "status"))
	}
	for _, sched := range schedules {
		for i := range sched.LastRuns {
			sched.LastRuns[i].JobStatus = statuses[sched.LastRuns[i].JobID]
		}
	}
	return nil
}

// jobKey is a job's key in the table, as package jobtable writes it.
func jobKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: "JOB#" + id},
		schema.SortKey:      &types.AttributeValueMemberS{Value: "JOB"},
	}
}

// put writes a schedule on condition that it is still at the version it
// was read at (a new one: that it does not exist), and advances Version.
func (s *Store) put(ctx context.Context, sched *Schedule) error {
	item := itemFromSchedule(sched)
	item.Version = sched.Version + 1
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fmt.Errorf("encode schedule %s: %w", sched.ID, err)
	}
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: av}
	if sched.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("version = :version")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":version": number(sched.Version)}
	}
	_, err = s.db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrStale
	}
	if err != nil {
		return fmt.Errorf("save schedule %s: %w", sched.ID, err)
	}
	sched.Version = item.Version
	return nil
}

// scheduleItem is a schedule as stored.
type scheduleItem struct {
	PK string `dynamodbav:"pk"`
	SK string `dynamodbav:"sk"`

	ID       string `dynamodbav:"id"`
	StoreID  string `dynamodbav:"store_id"`
	Name     string `dynamodbav:"name,omitempty"`
	Type     string `dynamodbav:"type"`
	Payload  string `dynamodbav:"payload"`
	Priority int    `dynamodbav:"priority"`
	// The spec as given: cron for a cron schedule, every, at and weekday
	// for a simple one.
	Cron                string `dynamodbav:"cron,omitempty"`
	Every               string `dynamodbav:"every,omitempty"`
	At                  string `dynamodbav:"at,omitempty"`
	Weekday             string `dynamodbav:"weekday,omitempty"`
	TimeZone            string `dynamodbav:"time_zone"`
	Enabled             bool   `dynamodbav:"enabled"`
	PausedReason        string `dynamodbav:"paused_reason,omitempty"`
	ConsecutiveFailures int    `dynamodbav:"consecutive_failures"`
	NextRunAt           string `dynamodbav:"next_run_at,omitempty"`
	// LastRuns is the runs as JSON, newest first.
	LastRuns  string `dynamodbav:"last_runs,omitempty"`
	CreatedAt string `dynamodbav:"created_at"`
	UpdatedAt string `dynamodbav:"updated_at"`
	Version   int64  `dynamodbav:"version"`

	// DuePK and DueAt list an enabled schedule in the due index at its
	// next run (unix milliseconds); a disabled one is not listed.
	DuePK string `dynamodbav:"due_pk,omitempty"`
	DueAt int64  `dynamodbav:"due_at,omitempty"`
}

// storedRun is a run as stored: without the job's status, which is read
// from the job, and with whether its end has been counted.
type storedRun struct {
	DueAt     job.Time `json:"due_at"`
	HandledAt job.Time `json:"handled_at"`
	Outcome   Outcome  `json:"outcome"`
	JobID     string   `json:"job_id,omitempty"`
	Message   string   `json:"message,omitempty"`
	Counted   bool     `json:"counted,omitempty"`
}

func itemFromSchedule(s *Schedule) scheduleItem {
	spec := s.Spec()
	it := scheduleItem{
		PK: partition, SK: sortKey(s.StoreID, s.ID),
		ID: s.ID, StoreID: s.StoreID, Name: s.Name, Type: s.Type,
		Payload: string(s.Payload), Priority: int(s.Priority),
		Cron: spec.Cron, Every: spec.Every, At: spec.At, Weekday: spec.Weekday, TimeZone: spec.TimeZone,
		Enabled: s.Enabled, PausedReason: s.PausedReason, ConsecutiveFailures: s.ConsecutiveFailures,
		CreatedAt: s.CreatedAt.String(), UpdatedAt: s.UpdatedAt.String(), Version: s.Version,
	}
	if s.Enabled && s.NextRunAt != nil {
		it.NextRunAt = s.NextRunAt.String()
		it.DuePK, it.DueAt = partition, s.NextRunAt.UnixMilli()
	}
	if len(s.LastRuns) > 0 {
		runs := make([]storedRun, len(s.LastRuns))
		for i, r := range s.LastRuns {
			runs[i] = storedRun{DueAt: r.DueAt, HandledAt: r.HandledAt, Outcome: r.Outcome, JobID: r.JobID, Message: r.Message, Counted: r.counted}
		}
		data, _ := json.Marshal(runs) // plain strings and times: cannot fail
		it.LastRuns = string(data)
	}
	return it
}

func scheduleFromItem(av map[string]types.AttributeValue) (*Schedule, error) {
	var it scheduleItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, fmt.Errorf("decode schedule item: %w", err)
	}
	compiled, err := Spec{Cron: it.Cron, Every: it.Every, At: it.At, Weekday: it.Weekday, TimeZone: it.TimeZone}.Compile()
	if err != nil {
		return nil, fmt.Errorf("decode schedule %s: %w", it.ID, err)
	}
	s := &Schedule{
		ID: it.ID, StoreID: it.StoreID, Name: it.Name, Type: it.Type,
		Payload: json.RawMessage(it.Payload), Priority: job.Priority(it.Priority),
		Enabled: it.Enabled, PausedReason: it.PausedReason, ConsecutiveFailures: it.ConsecutiveFailures,
		LastRuns: []Run{}, Version: it.Version,
	}
	s.setSpec(compiled)
	for _, f := range []struct {
		src string
		dst *job.Time
	}{{it.CreatedAt, &s.CreatedAt}, {it.UpdatedAt, &s.UpdatedAt}} {
		t, err := time.Parse(time.RFC3339Nano, f.src)
		if err != nil {
			return nil, fmt.Errorf("decode schedule %s: %w", it.ID, err)
		}
		*f.dst = job.NewTime(t)
	}
	if it.NextRunAt != "" {
		t, err := time.Parse(time.RFC3339Nano, it.NextRunAt)
		if err != nil {
			return nil, fmt.Errorf("decode schedule %s: %w", it.ID, err)
		}
		s.NextRunAt = job.TimePtr(t)
	}
	if it.LastRuns != "" {
		var runs []storedRun
		if err := json.Unmarshal([]byte(it.LastRuns), &runs); err != nil {
			return nil, fmt.Errorf("decode schedule %s runs: %w", it.ID, err)
		}
		for _, r := range runs {
			s.LastRuns = append(s.LastRuns, Run{DueAt: r.DueAt, HandledAt: r.HandledAt, Outcome: r.Outcome, JobID: r.JobID, Message: r.Message, counted: r.Counted})
		}
	}
	return s, nil
}

// queryEach runs a query page by page and calls fn for each item.
func (s *Store) queryEach(ctx context.Context, in *dynamodb.QueryInput, fn func(item map[string]types.AttributeValue) error) error {
	for {
		out, err := s.db.Query(ctx, in)
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
