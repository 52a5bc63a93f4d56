package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the tests' zones on any machine

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/internal/sandbox"
)

// farFromNow is a time of day in loc twelve hours away, so that no sweep
// finds a schedule due while a test runs, with its hour and minute.
func farFromNow(t *testing.T, zone string) (at string, hour, minute int) {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().In(loc).Add(12 * time.Hour)
	return later.Format("15:04"), later.Hour(), later.Minute()
}

// createSchedule creates a schedule and deletes it when the test ends.
func createSchedule(t *testing.T, c *client.Client, req client.ScheduleRequest) *client.Schedule {
	t.Helper()
	s, err := c.CreateSchedule(testContext(t), req)
	if err != nil {
		t.Fatalf("create schedule %+v: %v", req, err)
	}
	t.Cleanup(func() { _, _ = newClient(t, operatorToken).DeleteSchedule(context.Background(), s.ID) })
	return s
}

// uniqueStore is a store of one run of a test, so that its jobs and
// schedules are the run's alone, also with -count.
func uniqueStore(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

func scheduleIDs(list []client.Schedule) []string {
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return ids
}

// A store creates daily and weekly schedules, an operator a cron one for
// another store; each sees what it may, and the store changes, stops,
// starts and deletes its own.
func TestSchedulesOfAStore(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	store := newClient(t, token)
	operator := newClient(t, operatorToken)
	otherStore := uniqueStore("store-schedules-other")
	at, hour, minute := farFromNow(t, "Asia/Tokyo") // a zone without summer time: the next run is at exactly that wall-clock time
	tokyo, _ := time.LoadLocation("Asia/Tokyo")

	daily := createSchedule(t, store, client.ScheduleRequest{
		Type: "dev:simulate", Name: "Nightly simulation", Payload: map[string]any{"steps": 2},
		Every: "day", At: at, TimeZone: "Asia/Tokyo",
	})
	if daily.StoreID != sandbox.Store || daily.Name != "Nightly simulation" || daily.Type != "dev:simulate" || daily.Priority != client.PriorityNormal ||
		!daily.Enabled || daily.Every != "day" || daily.At != at || daily.Weekday != "" || daily.TimeZone != "Asia/Tokyo" || daily.Cron == "" {
		t.Errorf("daily schedule as created: %+v", daily)
	}
	if want := "every day at " + at + " (Asia/Tokyo)"; daily.Description != want {
		t.Errorf("description %q, want %q", daily.Description, want)
	}
	if !sameJSON(t, daily.Payload, `{"steps": 2}`) {
		t.Errorf("payload %s, want the one given", daily.Payload)
	}
	if n := daily.NextRunAt; n == nil || !n.After(time.Now()) || n.After(time.Now().Add(24*time.Hour)) || n.In(tokyo).Format("15:04") != at {
		t.Errorf("daily at %s Tokyo time: next run %v, want the next %s in Tokyo", at, n, at)
	}
	if daily.ConsecutiveFailures != 0 || daily.PausedReason != "" || len(daily.LastRuns) != 0 {
		t.Errorf("a new schedule has runs or failures: %+v", daily)
	}

	weekly := createSchedule(t, store, client.ScheduleRequest{
		Type: "dev:simulate", Priority: client.PriorityLow, Every: "week", Weekday: "monday", At: at, TimeZone: "Asia/Tokyo",
	})
	if want := "every week on Monday at " + at + " (Asia/Tokyo)"; weekly.Description != want || weekly.Weekday != "monday" || weekly.Priority != client.PriorityLow {
		t.Errorf("weekly schedule: %+v, want description %q", weekly, want)
	}
	if n := weekly.NextRunAt; n == nil || n.In(tokyo).Weekday() != time.Monday || n.After(time.Now().Add(7*24*time.Hour)) {
		t.Errorf("weekly on Monday: next run %v", n)
	}

	cron := fmt.Sprintf("%d %d * * *", minute, hour)
	other := createSchedule(t, operator, client.ScheduleRequest{Type: "dev:simulate", StoreID: otherStore, Cron: cron, TimeZone: "Asia/Tokyo"})
	if want := "cron " + cron + " (Asia/Tokyo)"; other.StoreID != otherStore || other.Cron != cron || other.Every != "" || other.At != "" || other.Description != want {
		t.Errorf("cron schedule: %+v, want description %q", other, want)
	}

	mine, err := store.Schedules(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range mine {
		if s.StoreID != sandbox.Store {
			t.Errorf("the store lists %s of store %s", s.ID, s.StoreID)
		}
	}
	if ids := scheduleIDs(mine); !slices.Contains(ids, daily.ID) || !slices.Contains(ids, weekly.ID) || slices.Contains(ids, other.ID) {
		t.Errorf("the store lists %v; want its %s and %s, not %s", ids, daily.ID, weekly.ID, other.ID)
	}
	every, err := operator.Schedules(ctx, "")
	if ids := scheduleIDs(every); err != nil || !slices.Contains(ids, daily.ID) || !slices.Contains(ids, weekly.ID) || !slices.Contains(ids, other.ID) {
		t.Errorf("an operator lists %v, %v; want both stores' schedules", ids, err)
	}
	one, err := operator.Schedules(ctx, otherStore)
	if ids := scheduleIDs(one); err != nil || !slices.Equal(ids, []string{other.ID}) {
		t.Errorf("an operator lists store %s: %v, %v; want only %s", otherStore, ids, err, other.ID)
	}

	got, err := store.Schedule(ctx, daily.ID)
	if err != nil || got.ID != daily.ID || got.Description != daily.Description || !got.NextRunAt.Equal(*daily.NextRunAt) {
		t.Errorf("get: %+v, %v; want %+v", got, err, daily)
	}
	if _, err := operator.Schedule(ctx, daily.ID); err != nil {
		t.Errorf("an operator reads a store's schedule: %v", err)
	}
	if _, err := store.Schedule(ctx, other.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another store's schedule: %v, want ErrNotFound", err)
	}

	disabled, err := store.UpdateSchedule(ctx, daily.ID, client.SchedulePatch{Enabled: new(false), Name: new("Paused for the holidays")})
	if err != nil || disabled.Enabled || disabled.NextRunAt != nil || disabled.Name != "Paused for the holidays" || disabled.At != at {
		t.Errorf("disabled: %+v, %v; want no next run, the new name and the same time", disabled, err)
	}
	enabled, err := store.UpdateSchedule(ctx, daily.ID, client.SchedulePatch{Enabled: new(true)})
	if err != nil || !enabled.Enabled || enabled.NextRunAt == nil || !enabled.NextRunAt.After(time.Now()) {
		t.Errorf("enabled again: %+v, %v; want a next run", enabled, err)
	}
	toCron, err := store.UpdateSchedule(ctx, weekly.ID, client.SchedulePatch{Cron: &cron})
	if want := "cron " + cron + " (Asia/Tokyo)"; err != nil || toCron.Every != "" || toCron.Weekday != "" || toCron.Description != want {
		t.Errorf("weekly changed to cron %q: %+v, %v", cron, toCron, err)
	}

	deleted, err := store.DeleteSchedule(ctx, daily.ID)
	if err != nil || deleted.ID != daily.ID {
		t.Fatalf("delete: %+v, %v", deleted, err)
	}
	if _, err := store.Schedule(ctx, daily.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("get after delete: %v, want ErrNotFound", err)
	}
	if _, err := store.DeleteSchedule(ctx, daily.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := store.DeleteSchedule(ctx, other.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("a store deleting another store's schedule: %v, want ErrNotFound", err)
	}
}

// Run now creates the schedule's job at once, as a create would, and
// leaves its next run as it was: while the store's job of the type is
// active it names that job, and a second run now makes no second job.
func TestRunScheduleNow(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := newClient(t, operatorToken)
	storeID := uniqueStore("store-schedules-run")
	at, _, _ := farFromNow(t, "Europe/Berlin")
	s := createSchedule(t, c, client.ScheduleRequest{
		Type: "dev:simulate", StoreID: storeID, Priority: client.PriorityHigh,
		Payload: map[string]any{"steps": 300, "step_ms": 100}, Every: "day", At: at, TimeZone: "Europe/Berlin",
	})

	active := simulate(t, c, storeID, map[string]any{"steps": 300, "step_ms": 100})
	_, err := c.RunSchedule(ctx, s.ID)
	if !errors.Is(err, client.ErrJobAlreadyActive) || apiError(t, err).ExistingJobID != active.ID {
		t.Errorf("run now while %s is active: %v, want ErrJobAlreadyActive naming it", active.ID, err)
	}
	if _, err := c.Cancel(ctx, active.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, active.ID); err != nil {
		t.Fatal(err)
	}

	job, err := c.RunSchedule(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.Cancel(context.Background(), job.ID) })
	if job.Type != "dev:simulate" || job.StoreID != storeID || job.Priority != client.PriorityHigh || !sameJSON(t, job.Payload, `{"steps": 300, "step_ms": 100}`) {
		t.Errorf("job run now: %+v with payload %s, want the schedule's type, store, priority and payload", job, job.Payload)
	}
	// Within the minute the server answers the same job; after it, the job
	// is the active one a second job would collide with.
	again, err := c.RunSchedule(ctx, s.ID)
	switch {
	case err == nil && again.ID != job.ID:
		t.Errorf("a second run now made job %s besides %s", again.ID, job.ID)
	case err != nil && (!errors.Is(err, client.ErrJobAlreadyActive) || apiError(t, err).ExistingJobID != job.ID):
		t.Errorf("a second run now: %v, want the same job or ErrJobAlreadyActive naming it", err)
	}

	after, err := c.Schedule(ctx, s.ID)
	if err != nil || after.NextRunAt == nil || !after.NextRunAt.Equal(*s.NextRunAt) {
		t.Fatalf("next run after a run now: %+v, %v; want %v as before", after, err, s.NextRunAt)
	}
	if len(after.LastRuns) != 1 || after.LastRuns[0].Outcome != client.RunNow || after.LastRuns[0].JobID != job.ID || after.LastRuns[0].JobStatus == "" {
		t.Errorf("last runs after a run now: %+v, want the one run now with its job's status", after.LastRuns)
	}
	if _, err := c.RunSchedule(ctx, "no-such-schedule"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("run now of a missing schedule: %v, want ErrNotFound", err)
	}
}

// sameJSON says whether raw holds the same JSON value as want.
func sameJSON(t *testing.T, raw json.RawMessage, want string) bool {
	t.Helper()
	var got, wanted any
	if err := json.Unmarshal(raw, &got); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &wanted); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(got, wanted)
}

// A refused schedule names the field at fault, and nothing is written.
func TestScheduleValidationNamesTheField(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := newClient(t, operatorToken)
	storeID := uniqueStore("store-schedules-invalid")
	valid := client.ScheduleRequest{Type: "dev:simulate", StoreID: storeID, Every: "day", At: "02:00", TimeZone: "Europe/Berlin"}
	for _, tc := range []struct {
		name  string
		edit  func(*client.ScheduleRequest)
		field string
	}{
		{"a cron expression out of range", func(r *client.ScheduleRequest) { r.Every, r.At, r.Cron = "", "", "61 * * * *" }, "cron"},
		{"a cron expression with its own zone", func(r *client.ScheduleRequest) { r.Every, r.At, r.Cron = "", "", "CRON_TZ=Asia/Tokyo 0 2 * * *" }, "cron"},
		{"an unknown time zone", func(r *client.ScheduleRequest) { r.TimeZone = "Mars/Olympus_Mons" }, "time_zone"},
		{"no time zone", func(r *client.ScheduleRequest) { r.TimeZone = "" }, "time_zone"},
		{"a week without its weekday", func(r *client.ScheduleRequest) { r.Every = "week" }, "weekday"},
		{"a time of day that is none", func(r *client.ScheduleRequest) { r.At = "25:00" }, "at"},
		{"a payload the type refuses", func(r *client.ScheduleRequest) { r.Payload = map[string]any{"steps": -1} }, "payload.steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := valid
			tc.edit(&req)
			_, err := c.CreateSchedule(ctx, req)
			if !errors.Is(err, client.ErrValidation) {
				t.Fatalf("create %+v: %v, want ErrValidation", req, err)
			}
			fields := apiError(t, err).Fields
			if !slices.ContainsFunc(fields, func(f client.FieldError) bool { return f.Field == tc.field && f.Message != "" }) {
				t.Errorf("fields %+v, want %s named with what is wrong", fields, tc.field)
			}
		})
	}

	_, err := c.CreateSchedule(ctx, client.ScheduleRequest{Type: "no:such:type", StoreID: storeID, Cron: "@daily", TimeZone: "UTC"})
	if !errors.Is(err, client.ErrValidation) || apiError(t, err).Code != "unknown_job_type" {
		t.Errorf("an unknown type: %v, want unknown_job_type", err)
	}
	list, err := c.Schedules(ctx, storeID)
	if err != nil || len(list) != 0 {
		t.Errorf("schedules after refused creates: %v, %v; want none", scheduleIDs(list), err)
	}
}

// Reads, changes and deletes ride out 5xx answers; a create and a run now,
// which would make a second schedule or job, are sent once whatever
// happens to their answers.
func TestOnlyIdempotentScheduleRequestsAreRetried(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	storeID := uniqueStore("store-schedules-retries")
	operator := newClient(t, operatorToken)
	createPath := "POST /api/schedules"
	faults := &faultTransport{lose: map[string]int{createPath: 1}}
	c := newClient(t, operatorToken, quickRetries, client.WithHTTPClient(&http.Client{Transport: faults}))

	at, _, _ := farFromNow(t, "UTC")
	req := client.ScheduleRequest{Type: "dev:simulate", StoreID: storeID, Payload: map[string]any{"steps": 1}, Every: "day", At: at, TimeZone: "UTC"}
	if _, err := c.CreateSchedule(ctx, req); err == nil {
		t.Fatal("a create whose answer was lost reported success")
	}
	if n := len(faults.sent(createPath)); n != 1 {
		t.Errorf("create sent %d times, want once", n)
	}
	list, err := operator.Schedules(ctx, storeID)
	if err != nil || len(list) != 1 {
		t.Fatalf("the store has %v, %v after one create whose answer was lost; want the one schedule", scheduleIDs(list), err)
	}
	id := list[0].ID
	t.Cleanup(func() { _, _ = operator.DeleteSchedule(context.Background(), id) })

	path := "/api/schedules/" + id
	runPath := "POST " + path + "/run"
	faults.mu.Lock()
	faults.fail = map[string]int{"GET " + path: 2, "PATCH " + path: 2}
	faults.lose = map[string]int{runPath: 1}
	faults.mu.Unlock()

	if s, err := c.Schedule(ctx, id); err != nil || s.ID != id || len(faults.sent("GET "+path)) != 3 {
		t.Errorf("get through two 503s: %+v, %v after %d requests; want the answer of the third", s, err, len(faults.sent("GET "+path)))
	}
	if s, err := c.UpdateSchedule(ctx, id, client.SchedulePatch{Enabled: new(false)}); err != nil || s.Enabled || len(faults.sent("PATCH "+path)) != 3 {
		t.Errorf("patch through two 503s: %+v, %v after %d requests; want the answer of the third", s, err, len(faults.sent("PATCH "+path)))
	}
	if _, err := c.RunSchedule(ctx, id); err == nil {
		t.Error("a run now whose answer was lost reported success")
	}
	if n := len(faults.sent(runPath)); n != 1 {
		t.Errorf("run now sent %d times, want once", n)
	}
	page, err := operator.ListPage(ctx, client.ListOptions{StoreID: storeID})
	if err != nil || len(page.Jobs) != 1 {
		t.Errorf("the store has %d jobs after one run now whose answer was lost (%v), want 1", len(page.Jobs), err)
	}
}
