package browsertest

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dainostore/jobs/internal/testenv"
)

// A store owner schedules a nightly job from the "Start a job" form, in
// the browser's time zone, and runs it from the Schedules section: now
// (once at a time), disabled and enabled again, weekly, deleted.
func TestStoreViewSchedulesARecurringJob(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "sched-1")
	berlin := b.inTimeZone("Europe/Berlin")
	b.open("/dashboard/", store)
	b.waitUntil("no schedules yet", `!document.getElementById("schedules-empty").hidden`)

	// Every day at: 02:00 (the guide's off-hours), in the browser's zone.
	b.chooseToStart("dev:simulate")
	b.setValue("#start-payload", `{"steps": 2}`)
	b.setValue("#start-when", "day")
	if got := eval[[]string](b, `["start-time", "start-zone", "start-submit"].map(id => document.getElementById(id).value || document.getElementById(id).textContent)`); !slices.Equal(got, []string{"02:00", "Europe/Berlin", "Create schedule"}) {
		t.Errorf("every day offers the time, zone and button %q, want 02:00 in Europe/Berlin and Create schedule", got)
	}
	if !eval[bool](b, `document.getElementById("start-weekday-field").hidden && !document.getElementById("start-zone-field").hidden`) {
		t.Error("every day asks for a weekday, or hides the time zone")
	}

	// Without a time, the form says so and sends nothing.
	b.setValue("#start-time", "")
	b.click("#start-submit")
	b.waitUntil("the missing time refused", `document.getElementById("start-result").textContent === "Choose the time of day to run the job at, every day." && document.activeElement.id === "start-time"`)
	if got := b.schedules(store); len(got) != 0 {
		t.Fatalf("a schedule without a time was created: %v", got)
	}

	b.setValue("#start-time", "02:00")
	before := time.Now()
	b.click("#start-submit")
	b.waitUntil("the schedule created", `document.getElementById("start-result").textContent.startsWith("Scheduled Dev Simulate every day at 02:00 (Europe/Berlin); next run ")`)
	after := time.Now()
	list := b.schedules(store)
	if len(list) != 1 {
		t.Fatalf("the store has %d schedules, want the one created: %v", len(list), list)
	}
	daily := list[0]
	payload, _ := daily["payload"].(map[string]any)
	if daily["type"] != "dev:simulate" || daily["every"] != "day" || daily["at"] != "02:00" || daily["time_zone"] != "Europe/Berlin" || daily["enabled"] != true || payload["steps"] != 2.0 {
		t.Fatalf("the form created %v, want dev:simulate with its options, every day at 02:00 in Europe/Berlin", daily)
	}
	id := daily["id"].(string)
	next := nextRunOf(t, daily)
	if want := []time.Time{nextAt(before, berlin, 2, -1), nextAt(after, berlin, 2, -1)}; !slices.ContainsFunc(want, next.Equal) {
		t.Errorf("the next run is %s, want the coming 02:00 in Berlin (%s)", next, want[0])
	}
	wall := next.In(berlin).Format("15:04") // the browser's zone is Berlin's
	if got := b.text("#start-result"); !strings.Contains(got, "next run ") || !strings.Contains(got, wall) {
		t.Errorf("the result line says %q, want the next run at %s", got, wall)
	}

	// The section lists it with its next run, in local time and from now.
	card := scheduleCard(id)
	b.waitUntil("the schedule listed with its next run", card+`?.querySelector(".schedule-next time")?.getAttribute("datetime") === `+strconv.Quote(daily["next_run_at"].(string)))
	if got := eval[[]string](b, `["schedule-title", "schedule-description", "schedule-state"].map(c => `+card+`.querySelector("." + c).textContent)`); !slices.Equal(got, []string{"Dev Simulate", "Every day at 02:00 (Europe/Berlin)", "Enabled"}) {
		t.Errorf("the schedule's card shows %q", got)
	}
	if got := eval[string](b, card+`.querySelector(".schedule-next").textContent`); !strings.Contains(got, wall) || !regexp.MustCompile(` · (in \d+ (min|h)|due now)$`).MatchString(got) {
		t.Errorf("the next run shows as %q, want %s and how long until then", got, wall)
	}

	// Run now starts a job, which its last runs link to once the list is
	// read again; the job holds before its first step, so a second Run now
	// finds it active.
	b.simulations.hold()
	b.click(scheduleButton(id, "run-now"))
	b.waitUntil("the job started", `document.getElementById("schedules-result").textContent.startsWith("Started Dev Simulate now: Dev Simulate #")`)
	job := eval[string](b, `decodeURIComponent(document.querySelector("#schedules-result a").getAttribute("href").split("/").pop())`)
	run := card + `?.querySelector(` + strconv.Quote(`.schedule-run[data-job="`+job+`"]`) + `)`
	b.waitUntil("the run in its last runs", run+`?.querySelector("a")?.getAttribute("href") === `+strconv.Quote("/dashboard/jobs/"+job))
	if got := eval[string](b, run+`.querySelector(".run-outcome").textContent`); got != "Run by hand" {
		t.Errorf("the run's outcome shows as %q, want Run by hand", got)
	}
	b.waitUntil("the job on the page", activeCard("Dev Simulate"))
	b.click(scheduleButton(id, "run-now"))
	b.waitUntil("the second run refused", `document.getElementById("schedules-result").textContent.startsWith("Dev Simulate is already running: ")`)
	if got := eval[string](b, `document.querySelector("#schedules-result a").getAttribute("href")`); got != "/dashboard/jobs/"+job {
		t.Errorf("the refusal links to %q, want the active job %s", got, job)
	}
	if again := nextRunOf(t, b.schedule(store, id)); !again.Equal(next) {
		t.Errorf("running it now moved the next run from %s to %s", next, again)
	}
	// When the job ends, its run says so.
	b.simulations.release()
	b.waitUntil("the run completed", run+`?.querySelector(".status")?.textContent === "Completed"`)

	// Disabled, it has no next run; enabled again, it has.
	b.click(scheduleButton(id, "toggle-enabled"))
	b.waitUntil("the schedule disabled", card+`?.querySelector(".schedule-state").textContent === "Disabled" && !`+card+`.querySelector(".schedule-next time")`)
	if disabled := b.schedule(store, id); disabled["enabled"] != false || disabled["next_run_at"] != nil {
		t.Errorf("after Disable the API has %v, want it disabled without a next run", disabled)
	}
	if got := b.text(scheduleButton(id, "toggle-enabled")); got != "Enable" {
		t.Errorf("the disabled schedule's button says %q, want Enable", got)
	}
	b.click(scheduleButton(id, "toggle-enabled"))
	b.waitUntil("the schedule enabled", card+`?.querySelector(".schedule-state").textContent === "Enabled" && `+card+`.querySelector(".schedule-next time")`)
	enabled := b.schedule(store, id)
	if got := eval[string](b, card+`.querySelector(".schedule-next time").getAttribute("datetime")`); enabled["enabled"] != true || got != enabled["next_run_at"] {
		t.Errorf("after Enable the card's next run is %s, the API's %v", got, enabled)
	}

	// Every week on Friday: the card names the day.
	b.setValue("#start-when", "week")
	b.setValue("#start-weekday", "friday")
	before = time.Now()
	b.click("#start-submit")
	b.waitUntil("the weekly schedule created", `document.getElementById("start-result").textContent.startsWith("Scheduled Dev Simulate every week on Friday at 02:00 (Europe/Berlin); next run ")`)
	after = time.Now()
	weekly := b.otherSchedule(store, id)
	if weekly["every"] != "week" || weekly["weekday"] != "friday" {
		t.Fatalf("the form created %v, want every week on friday", weekly)
	}
	if next, want := nextRunOf(t, weekly), []time.Time{nextAt(before, berlin, 2, time.Friday), nextAt(after, berlin, 2, time.Friday)}; !slices.ContainsFunc(want, next.Equal) {
		t.Errorf("the weekly schedule's next run is %s, want the coming Friday's 02:00 in Berlin (%s)", next, want[0])
	}
	weeklyCard := scheduleCard(weekly["id"].(string))
	b.waitUntil("the weekly schedule listed", weeklyCard+`?.querySelector(".schedule-description").textContent === "Every week on Friday at 02:00 (Europe/Berlin)"`)

	// Delete asks first, then the schedule is gone; the weekly one stays.
	b.do(evalAction(`window.confirm = (question) => { window.confirmed = question; return true; }`))
	b.click(scheduleButton(id, "delete"))
	b.waitUntil("the daily schedule deleted", `!`+card+` && `+weeklyCard)
	if got := eval[string](b, `window.confirmed`); !strings.HasPrefix(got, "Delete the schedule Dev Simulate, every day at 02:00 (Europe/Berlin)?") {
		t.Errorf("Delete asked %q", got)
	}
	if got := b.schedules(store); len(got) != 1 || got[0]["id"] != weekly["id"] {
		t.Errorf("after Delete the store has %v, want the weekly schedule only", got)
	}
}

// A schedule the API refuses says why, at the field it names; one that
// paused itself says why and is enabled again from its card; an operator
// sees the schedules of the store it views.
func TestStoreViewShowsWhyAScheduleIsRefusedOrPausedAndOperatorsSeeAStoresSchedules(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "sched-2")
	b.open("/dashboard/", store)
	b.waitUntil("no schedules yet", `!document.getElementById("schedules-empty").hidden`)
	b.chooseToStart("dev:simulate")
	b.setValue("#start-when", "day")
	b.setValue("#start-zone", "Mars/Olympus_Mons")
	b.click("#start-submit")
	b.waitUntil("the refusal", `document.getElementById("start-result").textContent.startsWith("Could not create the schedule: ")`)
	if got := b.text("#start-result"); !strings.Contains(got, "Mars/Olympus_Mons") {
		t.Errorf("the refusal says %q, want the API's reason about the time zone", got)
	}
	if got := eval[string](b, `document.activeElement.id`); got != "start-zone" {
		t.Errorf("after the refusal the focus is on %q, want the time zone", got)
	}

	// The store's schedule, created through the API; another store's too.
	created := func(token, name string) string {
		status, out := b.call(http.MethodPost, "/api/schedules", token, map[string]any{
			"type": "dev:simulate", "name": name, "every": "day", "at": "03:30", "time_zone": "America/New_York",
		})
		if status != http.StatusCreated {
			t.Fatalf("create schedule %s: %d %v", name, status, out)
		}
		return out["schedule"].(map[string]any)["id"].(string)
	}
	mine := created(store, "Nightly simulation")
	theirs := created(testenv.StoreToken(t, "sched-3"), "Another store's")
	b.click("#refresh")
	b.waitUntil("the store's schedule", scheduleCard(mine)+`?.querySelector(".schedule-title").textContent === "Nightly simulation"`)
	if eval[bool](b, `!!`+scheduleCard(theirs)) {
		t.Error("a store sees another store's schedule")
	}

	// After failed runs the schedule paused itself (as the sweep does): its
	// card says why, highlighted, and enables it again.
	reason := "paused after 3 failed runs in a row; the last failed with: simulated permanent failure. Fix the cause and enable the schedule again."
	b.pauseSchedule("sched-2", mine, reason)
	b.click("#refresh")
	card := scheduleCard(mine)
	b.waitUntil("the paused schedule", card+`?.querySelector(".schedule-state").textContent === "Paused"`)
	if got := eval[string](b, card+`.querySelector(".schedule-paused .error-text").textContent`); got != "Paused: "+reason {
		t.Errorf("the paused schedule says %q, want its reason", got)
	}
	if eval[bool](b, card+`.querySelector(".schedule-next time") || !`+card+`.querySelector("button.toggle-enabled").hidden`) {
		t.Error("the paused schedule shows a next run, or a second way to enable it")
	}
	b.click(scheduleButton(mine, "enable-again"))
	b.waitUntil("the schedule enabled again", card+`?.querySelector(".schedule-state").textContent === "Enabled" && `+card+`.querySelector(".schedule-paused").hidden && `+card+`.querySelector(".schedule-next time")`)
	if enabled := b.schedule(store, mine); enabled["enabled"] != true || enabled["paused_reason"] != nil || enabled["next_run_at"] == nil {
		t.Errorf("after Enable again the API has %v, want it enabled, without its reason, with a next run", enabled)
	}

	operator := testenv.OperatorToken(t)
	b.open("/dashboard/?store_id=sched-2", operator)
	b.waitUntil("the store's schedule, for an operator", scheduleCard(mine)+`?.querySelector(".store-name")?.textContent === "sched-2"`)
	if eval[bool](b, `!!`+scheduleCard(theirs)) {
		t.Error("an operator viewing sched-2 sees another store's schedule")
	}
	if got := eval[string](b, scheduleCard(mine)+`.querySelector(".schedule-description").textContent`); got != "Every day at 03:30 (America/New_York)" {
		t.Errorf("the operator sees the schedule as %q", got)
	}
}

// inTimeZone has the browser run in a time zone, and returns it.
func (b *testBundle) inTimeZone(name string) *time.Location {
	b.t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.tab, patience)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: name}); err != nil {
		b.t.Fatalf("run the browser in %s: %v", name, err)
	}
	return loc
}

// pauseSchedule disables a schedule with the reason the sweep gives when
// its runs kept failing: a state only the sweep reaches, after runs due
// over days.
func (b *testBundle) pauseSchedule(storeID, id, reason string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	_, err := b.app.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(b.app.Config.TableName),
		Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "SCHEDULES"}, "sk": &types.AttributeValueMemberS{Value: storeID + "#" + id},
		},
		UpdateExpression: aws.String("SET enabled = :false, paused_reason = :reason, consecutive_failures = :failures REMOVE next_run_at, due_pk, due_at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":false": &types.AttributeValueMemberBOOL{Value: false}, ":reason": &types.AttributeValueMemberS{Value: reason},
			":failures": &types.AttributeValueMemberN{Value: "3"},
		},
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if err != nil {
		b.t.Fatalf("pause schedule %s: %v", id, err)
	}
}

// schedules are the store's schedules as the API lists them.
func (b *testBundle) schedules(token string) []map[string]any {
	b.t.Helper()
	status, out := b.call(http.MethodGet, "/api/schedules", token, nil)
	list, ok := out["schedules"].([]any)
	if status != http.StatusOK || !ok {
		b.t.Fatalf("list schedules: %d %v", status, out)
	}
	schedules := make([]map[string]any, len(list))
	for i, s := range list {
		schedules[i] = s.(map[string]any)
	}
	return schedules
}

// schedule is one of the store's schedules as the API gives it.
func (b *testBundle) schedule(token, id string) map[string]any {
	b.t.Helper()
	status, out := b.call(http.MethodGet, "/api/schedules/"+id, token, nil)
	schedule, _ := out["schedule"].(map[string]any)
	if status != http.StatusOK || schedule == nil {
		b.t.Fatalf("get schedule %s: %d %v", id, status, out)
	}
	return schedule
}

// otherSchedule is the store's one schedule besides the one with the id.
func (b *testBundle) otherSchedule(token, id string) map[string]any {
	b.t.Helper()
	list := slices.DeleteFunc(b.schedules(token), func(s map[string]any) bool { return s["id"] == id })
	if len(list) != 1 {
		b.t.Fatalf("the store has %d schedules besides %s, want one: %v", len(list), id, list)
	}
	return list[0]
}

func nextRunOf(t *testing.T, schedule map[string]any) time.Time {
	t.Helper()
	iso, _ := schedule["next_run_at"].(string)
	next, err := time.Parse(time.RFC3339, iso)
	if err != nil {
		t.Fatalf("schedule %v has no next run: %v", schedule, err)
	}
	return next
}

// nextAt is the first hour:00 of the location's wall clock after from, on
// a weekday when weekday is one (-1: any day). A time the clocks skip is
// taken as time.Date takes it, as schedules do.
func nextAt(from time.Time, loc *time.Location, hour int, weekday time.Weekday) time.Time {
	local := from.In(loc)
	for day := 0; ; day++ {
		at := time.Date(local.Year(), local.Month(), local.Day()+day, hour, 0, 0, 0, loc)
		noon := time.Date(local.Year(), local.Month(), local.Day()+day, 12, 0, 0, 0, loc)
		if at.After(from) && (weekday < 0 || noon.Weekday() == weekday) {
			return at
		}
	}
}

// scheduleCard is a JavaScript expression: the Schedules section's card of
// a schedule.
func scheduleCard(id string) string {
	return `document.getElementById(` + strconv.Quote("schedule-"+id) + `)`
}

// scheduleButton is a CSS selector: a button of a schedule's card, by its
// class (run-now, toggle-enabled, delete, enable-again).
func scheduleButton(id, class string) string {
	return `#schedule-list li[data-key="` + id + `"] button.` + class
}
