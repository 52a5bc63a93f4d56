package systemtest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/testenv"
)

// scheduleSetup is the API (its workers run when the test says) on a clock
// the test moves.
func scheduleSetup(t *testing.T) (*app.App, string, *clock.Offset) {
	t.Helper()
	env := testenv.New(t)
	clk := &clock.Offset{}
	a := env.App(t, app.Overrides{Clock: clk})
	api := httptest.NewServer(a.HTTP)
	t.Cleanup(api.Close)
	return a, api.URL, clk
}

func createSchedule(t *testing.T, base, storeID string, body map[string]any) map[string]any {
	t.Helper()
	status, answer := call(t, http.MethodPost, base+"/api/schedules", body, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusCreated {
		t.Fatalf("create schedule %v: %d %v", body, status, answer)
	}
	return answer["schedule"].(map[string]any)
}

func readSchedule(t *testing.T, base, storeID, id string) map[string]any {
	t.Helper()
	status, answer := call(t, http.MethodGet, base+"/api/schedules/"+id, nil, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusOK {
		t.Fatalf("schedule %s: %d %v", id, status, answer)
	}
	return answer["schedule"].(map[string]any)
}

// advanceTo moves the clock to at (never back).
func advanceTo(clk *clock.Offset, at time.Time) {
	if d := at.Sub(clk.Now()); d > 0 {
		clk.Advance(d)
	}
}

// sweep runs the scheduled sweep task, as EventBridge does every minute.
func sweepOnce(t *testing.T, a *app.App) {
	t.Helper()
	if err := a.Cron.Run(withTimeout(t, time.Minute), cron.TaskSweep); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

func storeJobs(t *testing.T, base, storeID string) []map[string]any {
	t.Helper()
	status, answer := call(t, http.MethodGet, base+"/api/background-jobs?limit=100", nil, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusOK {
		t.Fatalf("list %s: %d %v", storeID, status, answer)
	}
	var jobs []map[string]any
	for _, j := range answer["jobs"].([]any) {
		jobs = append(jobs, j.(map[string]any))
	}
	return jobs
}

// A daily 02:30 schedule in Europe/Berlin, followed day by day across both
// daylight-saving changes of 2027, makes exactly one job per local day: at
// 03:30 on the night 02:00-03:00 does not exist, at the first 02:30 on the
// night it happens twice.
func TestADailyScheduleRunsOncePerDayAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	a, base, clk := scheduleSetup(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, days := range [][2]time.Time{
		{time.Date(2027, 3, 26, 12, 0, 0, 0, berlin), time.Date(2027, 3, 30, 12, 0, 0, 0, berlin)},
		{time.Date(2027, 10, 29, 12, 0, 0, 0, berlin), time.Date(2027, 11, 2, 12, 0, 0, 0, berlin)},
	} {
		advanceTo(clk, days[0])
		store := "store-dst-" + days[0].Format("01")
		s := createSchedule(t, base, store, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 1},
			"every": "day", "at": "02:30", "time_zone": "Europe/Berlin"})
		runsByDay := map[string][]string{}
		for {
			next, err := time.Parse(time.RFC3339, readSchedule(t, base, store, s["id"].(string))["next_run_at"].(string))
			if err != nil || next.After(days[1]) {
				break
			}
			// Sweeps every minute from the due time: the first makes the job,
			// the next two find nothing more to do.
			for minute := range 3 {
				advanceTo(clk, next.Add(time.Duration(minute)*time.Minute+time.Second))
				sweepOnce(t, a)
			}
			runWorker(t, a)
		}
		for _, j := range storeJobs(t, base, store) {
			created, _ := time.Parse(time.RFC3339, j["created_at"].(string))
			local := created.In(berlin)
			runsByDay[local.Format("2006-01-02")] = append(runsByDay[local.Format("2006-01-02")], local.Format("15:04 MST"))
		}
		want := map[string]string{ // the local time of each day's run
			"2027-03-27": "02:30 CET", "2027-03-28": "03:30 CEST", "2027-03-29": "02:30 CEST", "2027-03-30": "02:30 CEST",
			"2027-10-30": "02:30 CEST", "2027-10-31": "02:30 CEST", "2027-11-01": "02:30 CET", "2027-11-02": "02:30 CET",
		}
		for day, times := range runsByDay {
			if len(times) != 1 || times[0] != want[day] {
				t.Errorf("%s: runs at %v, want one at %s", day, times, want[day])
			}
		}
		if len(runsByDay) != 4 {
			t.Errorf("runs on %d days between %s and %s, want 4: %v", len(runsByDay), days[0].Format(time.DateOnly), days[1].Format(time.DateOnly), runsByDay)
		}
	}
}

// Two sweeps at the same due time make one job; a still running previous
// run makes the next due time a recorded skip, not a queued job; after an
// outage of three days the schedule runs once and says so.
func TestAScheduleNeverRunsTwiceForOneDueTime(t *testing.T) {
	t.Parallel()
	a, base, clk := scheduleSetup(t)
	s := createSchedule(t, base, "store-once", map[string]any{"type": "dev:simulate", "name": "Nightly",
		"payload": map[string]any{"steps": 200, "step_ms": 100}, "cron": "0 2 * * *", "time_zone": "UTC"})
	id := s["id"].(string)
	first, _ := time.Parse(time.RFC3339, s["next_run_at"].(string))

	advanceTo(clk, first.Add(time.Second))
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { sweepOnce(t, a) })
	}
	wg.Wait()
	jobs := storeJobs(t, base, "store-once")
	if len(jobs) != 1 {
		t.Fatalf("two sweeps at one due time made %d jobs, want 1", len(jobs))
	}
	running := jobs[0]["id"].(string)

	// The next night the first run is still active (no worker ran it).
	advanceTo(clk, first.Add(24*time.Hour+time.Second))
	sweepOnce(t, a)
	read := readSchedule(t, base, "store-once", id)
	last := read["last_runs"].([]any)[0].(map[string]any)
	if last["outcome"] != "skipped" || last["job_id"] != running || !strings.Contains(last["message"].(string), running) {
		t.Errorf("due time with the previous run active: %v, want a skip naming %s", last, running)
	}
	if n := len(storeJobs(t, base, "store-once")); n != 1 {
		t.Errorf("a skip queued a job: %d jobs", n)
	}
	call(t, http.MethodPost, base+"/api/background-jobs/"+running+"/cancel", nil, bearer(testenv.StoreToken(t, "store-once"))...)

	// Three days without a sweep: one catch-up run.
	advanceTo(clk, first.Add(4*24*time.Hour+time.Hour))
	sweepOnce(t, a)
	sweepOnce(t, a)
	read = readSchedule(t, base, "store-once", id)
	last = read["last_runs"].([]any)[0].(map[string]any)
	if last["outcome"] != "caught_up" || !strings.Contains(last["message"].(string), "3 runs missed") {
		t.Errorf("after three days without a sweep: %v, want one catch-up for 3 missed runs", last)
	}
	if n := len(storeJobs(t, base, "store-once")); n != 2 {
		t.Errorf("the outage made %d jobs in all, want 2 (the first and one catch-up)", n)
	}
	next, _ := time.Parse(time.RFC3339, read["next_run_at"].(string))
	if !next.After(clk.Now()) {
		t.Errorf("next run %s is not ahead of now %s", next, clk.Now())
	}
}

// A schedule whose runs keep failing disables itself and says why; the
// owner enables it again. Another store sees none of it.
func TestAFailingScheduleDisablesItselfAndStoresSeeOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	a, base, clk := scheduleSetup(t)
	s := createSchedule(t, base, "store-failing", map[string]any{"type": "dev:simulate",
		"payload": map[string]any{"steps": 1, "fail_attempts": 100, "fail_with": "permanent"}, "every": "day", "at": "03:00", "time_zone": "America/New_York"})
	id := s["id"].(string)
	for range 4 {
		read := readSchedule(t, base, "store-failing", id)
		if read["enabled"] != true {
			break
		}
		next, _ := time.Parse(time.RFC3339, read["next_run_at"].(string))
		advanceTo(clk, next.Add(time.Second))
		sweepOnce(t, a)
		runWorker(t, a)
	}
	advanceTo(clk, clk.Now().Add(24*time.Hour))
	sweepOnce(t, a)
	read := readSchedule(t, base, "store-failing", id)
	reason, _ := read["paused_reason"].(string)
	if read["enabled"] != false || read["next_run_at"] != nil || !strings.Contains(reason, "3 failed runs in a row") {
		t.Fatalf("after three failed runs: enabled %v, next %v, reason %q; want disabled with why", read["enabled"], read["next_run_at"], reason)
	}
	if n := len(storeJobs(t, base, "store-failing")); n != 3 {
		t.Errorf("%d jobs, want the 3 failed runs and no 4th", n)
	}
	status, answer := call(t, http.MethodPatch, base+"/api/schedules/"+id, map[string]any{"enabled": true}, bearer(testenv.StoreToken(t, "store-failing"))...)
	enabled := answer["schedule"].(map[string]any)
	if status != http.StatusOK || enabled["enabled"] != true || enabled["paused_reason"] != nil || enabled["consecutive_failures"].(float64) != 0 {
		t.Errorf("enabled again: %d %v", status, answer)
	}

	if status, answer := call(t, http.MethodGet, base+"/api/schedules/"+id, nil, bearer(testenv.StoreToken(t, "store-other"))...); status != http.StatusNotFound {
		t.Errorf("another store reads the schedule: %d %v", status, answer)
	}
	if status, answer := call(t, http.MethodGet, base+"/api/schedules", nil, bearer(testenv.StoreToken(t, "store-other"))...); status != http.StatusOK || len(answer["schedules"].([]any)) != 0 {
		t.Errorf("another store lists: %d %v", status, answer)
	}
	if status, _ := call(t, http.MethodDelete, base+"/api/schedules/"+id, nil, bearer(testenv.StoreToken(t, "store-other"))...); status != http.StatusNotFound {
		t.Errorf("another store deletes the schedule: %d", status)
	}
	status, answer = call(t, http.MethodGet, base+"/api/schedules?store_id=store-failing", nil, bearer(testenv.OperatorToken(t))...)
	if status != http.StatusOK || len(answer["schedules"].([]any)) != 1 {
		t.Errorf("an operator lists the store's schedules: %d %v", status, answer)
	}
	// Field names are spelled as documented: encoding/json alone would take
	// "Time_Zone" for "time_zone".
	status, answer = call(t, http.MethodPost, base+"/api/schedules", map[string]any{"type": "dev:simulate", "cron": "0 * * * *", "Time_Zone": "UTC"}, bearer(testenv.StoreToken(t, "store-other"))...)
	if fields, _ := answer["error"].(map[string]any)["fields"].([]any); status != http.StatusBadRequest || len(fields) != 1 || fields[0].(map[string]any)["field"] != "Time_Zone" {
		t.Errorf("a schedule with a misspelt field: %d %v, want 400 naming Time_Zone", status, answer)
	}
	status, answer = call(t, http.MethodPatch, base+"/api/schedules/"+id, map[string]any{"Enabled": false}, bearer(testenv.StoreToken(t, "store-failing"))...)
	if status != http.StatusBadRequest {
		t.Errorf("a change with a misspelt field: %d %v, want 400", status, answer)
	}
	status, answer = call(t, http.MethodPost, base+"/api/schedules", map[string]any{"type": "system:cleanup", "store_id": "platform", "cron": "0 * * * *", "time_zone": "UTC"}, bearer(testenv.OperatorToken(t))...)
	if status != http.StatusBadRequest || !strings.Contains(errorMessage(answer), "EventBridge") {
		t.Errorf("a schedule of a system job: %d %v", status, answer)
	}
}

// The sweep that comes shortly before a due time creates the run's job
// delayed to it: the run starts on time, not up to a sweep's minute late.
func TestAScheduledRunStartsAtItsDueTime(t *testing.T) {
	t.Parallel()
	a, base, clk := scheduleSetup(t)
	s := createSchedule(t, base, "store-on-time", map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 1},
		"every": "day", "at": "04:00", "time_zone": "Asia/Tokyo"})
	due, _ := time.Parse(time.RFC3339, s["next_run_at"].(string))
	advanceTo(clk, due.Add(-3*time.Second))
	sweepOnce(t, a)
	jobs := storeJobs(t, base, "store-on-time")
	if len(jobs) != 1 || jobs[0]["run_at"] != s["next_run_at"] || jobs[0]["status"] != "pending" {
		t.Fatalf("jobs after the sweep 3 s before the due time: %v, want one pending with run_at %v", jobs, s["next_run_at"])
	}
	done := runUntilFinished(t, a, jobs[0]["id"].(string))
	if done.StartedAt == nil || done.StartedAt.Before(due) || done.Status != "completed" {
		t.Errorf("the run %s started at %v, want completed, started at its due time %s or after", done.Status, done.StartedAt, due)
	}
	if next := readSchedule(t, base, "store-on-time", s["id"].(string))["next_run_at"]; next == s["next_run_at"] {
		t.Errorf("next run still %v after the run was created", next)
	}
}
