package schedule_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/schedule"
	"github.com/dainostore/jobs/internal/schema"
)

func TestSchedulesBelongToTheirStore(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	berlinDaily := schedule.Spec{Every: "day", At: "02:30", TimeZone: "Europe/Berlin"}
	first := b.create(t, schedule.Definition{StoreID: "store-a", Name: "Nightly export", Payload: json.RawMessage(`{ "limit": 5 }`), Spec: berlinDaily})
	b.clock.Advance(time.Millisecond) // ids are ordered by creation
	second := b.create(t, schedule.Definition{StoreID: "store-a", Spec: schedule.Spec{Cron: "0 * * * *", TimeZone: "UTC"}, Priority: job.PriorityLow})
	other := b.create(t, schedule.Definition{StoreID: "store-b", Spec: berlinDaily, Disabled: true})

	got := b.get(t, first)
	data, _ := json.Marshal(got)
	var doc map[string]any
	_ = json.Unmarshal(data, &doc)
	want := map[string]any{
		"id": first.ID, "store_id": "store-a", "name": "Nightly export", "type": "dev:simulate",
		"payload": map[string]any{"limit": float64(5)}, "priority": "normal",
		"cron": "30 2 * * *", "every": "day", "at": "02:30", "time_zone": "Europe/Berlin",
		"description": "every day at 02:30 (Europe/Berlin)", "enabled": true, "consecutive_failures": float64(0),
		"next_run_at": "2026-11-27T01:30:00.000Z", "last_runs": []any{},
		"created_at": "2026-11-26T12:00:00.000Z", "updated_at": "2026-11-26T12:00:00.000Z",
	}
	for field, value := range want {
		if g, _ := json.Marshal(doc[field]); string(g) != mustJSON(value) {
			t.Errorf("%s = %s, want %s", field, g, mustJSON(value))
		}
	}
	for _, absent := range []string{"weekday", "paused_reason"} {
		if _, ok := doc[absent]; ok {
			t.Errorf("%s is present: %s", absent, data)
		}
	}
	disabled, _ := json.Marshal(b.get(t, other))
	var disabledDoc map[string]any
	_ = json.Unmarshal(disabled, &disabledDoc)
	if _, ok := disabledDoc["next_run_at"]; ok || disabledDoc["enabled"] != false {
		t.Errorf("disabled schedule: %s, want enabled false and no next_run_at", disabled)
	}

	if _, err := b.store.Get(b.ctx, "store-b", first.ID); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("another store's schedule: %v, want ErrNotFound", err)
	}
	if found, err := b.store.Get(b.ctx, "", other.ID); err != nil || found.StoreID != "store-b" {
		t.Errorf("any store's schedule by id: %v, %v", found, err)
	}
	if _, err := b.store.Get(b.ctx, "", "no-such-schedule"); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}

	ids := func(list []*schedule.Schedule, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	if got, want := ids(b.store.List(b.ctx, "store-a")), []string{first.ID, second.ID}; !slices.Equal(got, want) {
		t.Errorf("store-a's schedules = %v, want %v", got, want)
	}
	if got, want := ids(b.store.List(b.ctx, "")), []string{first.ID, second.ID, other.ID}; !slices.Equal(got, want) {
		t.Errorf("every schedule = %v, want %v", got, want)
	}
	if got := ids(b.store.List(b.ctx, "store-c")); len(got) != 0 {
		t.Errorf("store-c's schedules = %v, want none", got)
	}

	if _, err := b.store.Update(b.ctx, "store-b", first.ID, schedule.Patch{Name: aws.String("taken over")}); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("update of another store's schedule: %v, want ErrNotFound", err)
	}
	if _, err := b.store.Delete(b.ctx, "store-b", first.ID); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("delete of another store's schedule: %v, want ErrNotFound", err)
	}
	deleted, err := b.store.Delete(b.ctx, "store-a", first.ID)
	if err != nil || deleted.ID != first.ID || deleted.Name != "Nightly export" {
		t.Fatalf("delete = %+v, %v; want the schedule as it was", deleted, err)
	}
	if _, err := b.store.Get(b.ctx, "store-a", first.ID); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("deleted schedule: %v, want ErrNotFound", err)
	}
	if _, err := b.store.Delete(b.ctx, "store-a", first.ID); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if deleted, err := b.store.Delete(b.ctx, "", other.ID); err != nil || deleted.StoreID != "store-b" {
		t.Errorf("delete by id alone = %+v, %v", deleted, err)
	}
}

func TestCreateRefusesInvalidFields(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	daily := schedule.Spec{Every: "day", At: "02:30", TimeZone: "UTC"}
	long := make([]byte, schedule.MaxNameLength+1)
	for i := range long {
		long[i] = 'x'
	}
	for _, tc := range []struct {
		d     schedule.Definition
		field string
	}{
		{schedule.Definition{StoreID: "s", Type: "t", Spec: schedule.Spec{Every: "day", At: "2:5", TimeZone: "UTC"}}, "at"},
		{schedule.Definition{StoreID: "s", Type: "t", Spec: schedule.Spec{Cron: "30 2 * * *"}}, "time_zone"},
		{schedule.Definition{StoreID: "s", Type: "t", Name: string(long), Spec: daily}, "name"},
		{schedule.Definition{StoreID: "s", Type: "t", Payload: json.RawMessage(`[1]`), Spec: daily}, "payload"},
		{schedule.Definition{StoreID: "s", Type: "t", Payload: json.RawMessage(`{"a":`), Spec: daily}, "payload"},
		{schedule.Definition{StoreID: "s", Type: "t", Priority: 7, Spec: daily}, "priority"},
		{schedule.Definition{StoreID: "s", Spec: daily}, "type"},
	} {
		_, err := b.store.Create(b.ctx, tc.d)
		var fieldErr *jobtype.FieldError
		if !errors.As(err, &fieldErr) || fieldErr.Field != tc.field {
			t.Errorf("%+v: %v, want a field error on %s", tc.d, err, tc.field)
		}
	}
	if list, _ := b.store.List(b.ctx, ""); len(list) != 0 {
		t.Errorf("%d schedules saved, want none", len(list))
	}
}

func TestDueIndexListsOnlyEnabledSchedules(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	enabled := b.create(t, schedule.Definition{Spec: schedule.Spec{Every: "day", At: "02:30", TimeZone: "Europe/Berlin"}})
	disabled := b.create(t, schedule.Definition{StoreID: "store-2", Spec: schedule.Spec{Every: "day", At: "02:30", TimeZone: "Europe/Berlin"}, Disabled: true})

	assertDue := func(want ...*schedule.Schedule) {
		t.Helper()
		keys := b.dueKeys(t)
		var wantKeys []schedule.Key
		for _, s := range want {
			wantKeys = append(wantKeys, schedule.Key{StoreID: s.StoreID, ID: s.ID})
		}
		if len(keys) != len(wantKeys) || (len(keys) > 0 && keys[0] != wantKeys[0]) {
			t.Errorf("due = %v, want %v", keys, wantKeys)
		}
	}
	assertDue(enabled)
	if keys, err := b.store.Due(b.ctx, utc(2026, time.November, 27, 1, 29), 100); err != nil || len(keys) != 0 {
		t.Errorf("due before the first run: %v, %v", keys, err)
	}
	if keys, err := b.store.Due(b.ctx, utc(2026, time.November, 27, 1, 30), 100); err != nil || len(keys) != 1 {
		t.Errorf("due at the first run: %v, %v", keys, err)
	}
	// The job sweeps never see a schedule.
	if ids, err := b.jobs.DueJobIDs(b.ctx, 100); err != nil || len(ids) != 0 {
		t.Errorf("due jobs = %v, %v; want none", ids, err)
	}
	if item := b.rawItem(t, disabled); item["due_pk"] != nil || item["due_at"] != nil {
		t.Errorf("disabled schedule's item has a due entry: %v", item)
	}

	off, err := b.store.Update(b.ctx, enabled.StoreID, enabled.ID, schedule.Patch{Enabled: aws.Bool(false)})
	if err != nil || off.Enabled || off.NextRunAt != nil {
		t.Fatalf("disable = %+v, %v", off, err)
	}
	assertDue()
	on, err := b.store.Update(b.ctx, disabled.StoreID, disabled.ID, schedule.Patch{Enabled: aws.Bool(true)})
	if err != nil || !on.Enabled || on.NextRunAt == nil || !on.NextRunAt.Equal(utc(2026, time.November, 27, 1, 30)) {
		t.Fatalf("enable = %+v, %v", on, err)
	}
	assertDue(on)
	if _, err := b.store.Delete(b.ctx, on.StoreID, on.ID); err != nil {
		t.Fatal(err)
	}
	assertDue()
}

func TestUpdateReschedulesWhenTheTimingChanges(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0)) // a Thursday
	s := b.create(t, schedule.Definition{Name: "export", Spec: schedule.Spec{Every: "week", At: "02:30", Weekday: "monday", TimeZone: "Europe/Berlin"}})
	if !s.NextRunAt.Equal(utc(2026, time.November, 30, 1, 30)) {
		t.Fatalf("next run = %s", s.NextRunAt)
	}
	b.clock.Advance(time.Hour)

	steps := []struct {
		patch      schedule.Patch
		cron       string
		every      string
		weekday    string
		zone       string
		nextRunAt  time.Time
		versionsUp int64
	}{
		// every day drops the weekday.
		{schedule.Patch{Every: aws.String("day")}, "30 2 * * *", "day", "", "Europe/Berlin", utc(2026, time.November, 27, 1, 30), 1},
		{schedule.Patch{TimeZone: aws.String("America/New_York")}, "30 2 * * *", "day", "", "America/New_York", utc(2026, time.November, 27, 7, 30), 1},
		{schedule.Patch{Cron: aws.String("0 */6 * * *")}, "0 */6 * * *", "", "", "America/New_York", utc(2026, time.November, 26, 17, 0), 1},
		{schedule.Patch{Every: aws.String("week"), At: aws.String("08:00"), Weekday: aws.String("friday")}, "0 8 * * 5", "week", "friday", "America/New_York", utc(2026, time.November, 27, 13, 0), 1},
		// A name alone keeps the next run.
		{schedule.Patch{Name: aws.String("renamed")}, "0 8 * * 5", "week", "friday", "America/New_York", utc(2026, time.November, 27, 13, 0), 1},
	}
	version := s.Version
	for i, step := range steps {
		got, err := b.store.Update(b.ctx, s.StoreID, s.ID, step.patch)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got.Cron != step.cron || got.Every != step.every || got.Weekday != step.weekday || got.TimeZone != step.zone ||
			got.NextRunAt == nil || !got.NextRunAt.Equal(step.nextRunAt) || got.Version != version+step.versionsUp {
			t.Errorf("step %d: cron %q every %q weekday %q zone %q next %v version %d", i, got.Cron, got.Every, got.Weekday, got.TimeZone, got.NextRunAt, got.Version)
		}
		version = got.Version
		if stored := b.get(t, s); stored.NextRunAt == nil || !stored.NextRunAt.Equal(step.nextRunAt) {
			t.Errorf("step %d: stored next run %v", i, stored.NextRunAt)
		}
	}
	if got := b.get(t, s); got.Name != "renamed" {
		t.Errorf("name = %q", got.Name)
	}
	keys := b.dueKeys(t)
	if len(keys) != 1 {
		t.Errorf("due = %v, want the schedule once", keys)
	}
	if due, _ := b.store.Due(b.ctx, utc(2026, time.November, 27, 12, 59), 10); len(due) != 0 {
		t.Errorf("due before its new next run: %v", due)
	}

	_, err := b.store.Update(b.ctx, s.StoreID, s.ID, schedule.Patch{At: aws.String("25:00")})
	var fieldErr *jobtype.FieldError
	if !errors.As(err, &fieldErr) || fieldErr.Field != "at" {
		t.Errorf("invalid at: %v, want a field error on at", err)
	}
	_, err = b.store.Update(b.ctx, s.StoreID, s.ID, schedule.Patch{Payload: json.RawMessage(`"text"`)})
	if !errors.As(err, &fieldErr) || fieldErr.Field != "payload" {
		t.Errorf("invalid payload: %v, want a field error on payload", err)
	}
	if got := b.get(t, s); got.Version != version {
		t.Errorf("a refused update wrote the schedule: version %d, want %d", got.Version, version)
	}
}

// rawItem reads a schedule's item behind the store's back.
func (b *testBundle) rawItem(t *testing.T, s *schedule.Schedule) map[string]types.AttributeValue {
	t.Helper()
	out, err := b.db.GetItem(b.ctx, &dynamodb.GetItemInput{TableName: &b.table, Key: map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: "SCHEDULES"},
		schema.SortKey:      &types.AttributeValueMemberS{Value: s.StoreID + "#" + s.ID},
	}})
	if err != nil || out.Item == nil {
		t.Fatalf("read item: %v, %v", out, err)
	}
	return out.Item
}

func mustJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}
