package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests' zones on any machine

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/internal/testenv"
)

var createdScheduleLine = regexp.MustCompile(`created schedule (\S+) for store`)

// createdScheduleID is the id a human schedule create printed.
func createdScheduleID(t *testing.T, r result) string {
	t.Helper()
	m := createdScheduleLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no created schedule in:\n%s", r.stdout)
	}
	return m[1]
}

// decode reads a --json output into v, failing the test if it is not one.
func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("--json output is no %T: %v\n%s", v, err, r.stdout)
	}
	return v
}

// farAway is a time of day in zone twelve hours from now, so that no
// sweep finds a test's schedule due while it runs.
func farAway(t *testing.T, zone string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return time.Now().In(loc).Add(12 * time.Hour)
}

// create, list, show, disable, enable and delete, in words and as the
// API's JSON; the API's refusals point at the flags.
func TestScheduleLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	at := farAway(t, "Asia/Tokyo").Format("15:04")

	r := b.jobctl(t, "schedule", "create", "dev:simulate", "--daily", at, "--tz", "Asia/Tokyo", "--store", "store-a",
		"--name", "Nightly simulation", "--payload", `{"steps": 2}`).
		expect(t, exitOK, "for store store-a: dev:simulate every day at "+at+" (Asia/Tokyo), next run ")
	daily := createdScheduleID(t, r)

	weekly := decode[client.Schedule](t, b.jobctl(t, "--json", "schedule", "create", "dev:simulate", "--weekly", "Mon@"+at,
		"--tz", "Asia/Tokyo", "--store", "store-a", "--priority", "low").expect(t, exitOK))
	if weekly.StoreID != "store-a" || weekly.Every != "week" || weekly.Weekday != "monday" || weekly.At != at || weekly.Priority != client.PriorityLow || weekly.NextRunAt == nil {
		t.Errorf("weekly schedule: %+v", weekly)
	}
	later := farAway(t, "UTC")
	cron := fmt.Sprintf("%d %d * * 1-5", later.Minute(), later.Hour())
	other := decode[client.Schedule](t, b.jobctl(t, "--json", "schedule", "create", "dev:simulate", "--cron", cron,
		"--tz", "UTC", "--store", "store-b", "--disabled").expect(t, exitOK))
	if other.StoreID != "store-b" || other.Cron != cron || other.Enabled || other.NextRunAt != nil || other.Description != "cron "+cron+" (UTC)" {
		t.Errorf("disabled cron schedule: %+v", other)
	}

	// An operator lists every store's, with a column for the store.
	r = b.jobctl(t, "schedule", "list").expect(t, exitOK, daily, weekly.ID, other.ID, "every day at "+at+" (Asia/Tokyo)",
		"every week on Monday at "+at+" (Asia/Tokyo)", "never", "enabled", "disabled")
	if header := lines(r.stdout)[0]; strings.Join(strings.Fields(header), " ") != "ID STORE TYPE WHEN NEXT RUN LAST RUN STATE" {
		t.Errorf("list header %q", header)
	}
	listed := decode[struct{ Schedules []client.Schedule }](t, b.jobctl(t, "--json", "schedule", "list", "--store", "store-a").expect(t, exitOK))
	ids := make([]string, 0, len(listed.Schedules))
	for _, s := range listed.Schedules {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{daily, weekly.ID}) {
		t.Errorf("list --store store-a --json: %v, want %s and %s in the order created", ids, daily, weekly.ID)
	}
	// A store sees its own, and no store column.
	storeB := testenv.StoreToken(t, "store-b")
	r = b.jobctlAs(t, storeB, "schedule", "list").expect(t, exitOK, other.ID)
	if strings.Contains(r.stdout, daily) || strings.Contains(lines(r.stdout)[0], "STORE") {
		t.Errorf("store-b's listing shows another store's schedule or a store column:\n%s", r.stdout)
	}
	b.jobctlAs(t, storeB, "schedule", "show", daily).expectError(t, "not found: ")

	b.jobctl(t, "schedule", "show", daily).expect(t, exitOK, "schedule "+daily+"  Nightly simulation", "store-a", "dev:simulate",
		"every day at "+at+" (Asia/Tokyo)", "Asia/Tokyo", `{"steps":2}`, "normal", "enabled", "next run", "0 in a row", "no runs yet")
	if shown := decode[client.Schedule](t, b.jobctl(t, "--json", "schedule", "show", daily).expect(t, exitOK)); shown.ID != daily || shown.Name != "Nightly simulation" {
		t.Errorf("show --json: %+v", shown)
	}

	b.jobctl(t, "schedule", "disable", daily).expect(t, exitOK, "disabled schedule "+daily+" (dev:simulate every day at "+at+" (Asia/Tokyo)): disabled")
	if s := decode[client.Schedule](t, b.jobctl(t, "--json", "schedule", "show", daily).expect(t, exitOK)); s.Enabled || s.NextRunAt != nil {
		t.Errorf("disabled schedule: %+v, want no next run", s)
	}
	b.jobctl(t, "schedule", "enable", daily).expect(t, exitOK, "enabled schedule "+daily, "next run ")
	if s := decode[client.Schedule](t, b.jobctl(t, "--json", "schedule", "enable", other.ID).expect(t, exitOK)); !s.Enabled || s.NextRunAt == nil {
		t.Errorf("enable --json: %+v, want a next run", s)
	}
	if s := decode[client.Schedule](t, b.jobctl(t, "--json", "schedule", "disable", other.ID).expect(t, exitOK)); s.Enabled || s.NextRunAt != nil {
		t.Errorf("disable --json: %+v, want no next run", s)
	}

	b.jobctl(t, "schedule", "delete", daily).expect(t, exitOK, "deleted schedule "+daily+" (dev:simulate every day at "+at+" (Asia/Tokyo)); the jobs it created stay")
	b.jobctl(t, "schedule", "show", daily).expectError(t, "not found: ")
	b.jobctl(t, "schedule", "delete", daily).expectError(t, "not found: ")
	if s := decode[client.Schedule](t, b.jobctl(t, "--json", "schedule", "delete", other.ID).expect(t, exitOK)); s.ID != other.ID {
		t.Errorf("delete --json: %+v, want the schedule as it was", s)
	}
	b.jobctlAs(t, storeB, "schedule", "list").expect(t, exitOK, "no schedules")

	// The server's refusals name the flag to change.
	b.jobctl(t, "schedule", "create", "dev:simulate", "--cron", "61 * * * *", "--tz", "UTC", "--store", "store-a").
		expectError(t, "the request was refused:", "cron (--cron): ")
	b.jobctl(t, "schedule", "create", "dev:simulate", "--daily", "02:00", "--tz", "Mars/Olympus_Mons", "--store", "store-a").
		expectError(t, "the request was refused:", "time_zone (--tz): ")
	b.jobctl(t, "schedule", "create", "dev:simulate", "--daily", "02:00", "--tz", "UTC", "--store", "store-a", "--payload", `{"steps": -1}`).
		expectError(t, "payload.steps (--payload): ")
}

// run creates the schedule's job now and, with --watch, follows it and
// exits as watch does; while the job is active, run names it and exits 1.
func TestScheduleRun(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	at := farAway(t, "Europe/Berlin").Format("15:04")
	create := func(store, payload string) string {
		return createdScheduleID(t, b.jobctl(t, "schedule", "create", "dev:simulate", "--daily", at, "--tz", "Europe/Berlin",
			"--store", store, "--payload", payload).expect(t, exitOK))
	}

	long := create("store-long", `{"steps": 300, "step_ms": 100}`)
	active := b.create(t, "store-long", `{"steps": 300, "step_ms": 100}`)
	dup := b.jobctl(t, "schedule", "run", long)
	if dup.code != exitFailed || !strings.Contains(dup.stderr, "already has an active dev:simulate job: "+active+" — follow it with: jobctl watch "+active) {
		t.Errorf("run while %s is active: exit %d, %q; want exit 1 naming it", active, dup.code, dup.stderr)
	}
	b.jobctl(t, "cancel", active).expect(t, exitOK)
	b.waitFor(t, active, client.StatusCancelled)
	r := b.jobctl(t, "schedule", "run", long).expect(t, exitOK, "created dev:simulate job ", " for store store-long from schedule "+long+": pending")
	job := createdID(t, r)
	t.Cleanup(func() { _, _ = b.api.Cancel(context.Background(), job) })
	b.jobctl(t, "schedule", "show", long).expect(t, exitOK, "last runs, newest first:", "run now", job)

	short := create("store-short", `{"steps": 2, "step_ms": 10}`)
	b.jobctl(t, "schedule", "run", short, "--watch", "--progress", "plain").expect(t, exitOK, "from schedule "+short, "completed dev:simulate job ")
	ran := decode[client.Job](t, b.jobctl(t, "--json", "schedule", "run", short).expect(t, exitOK))
	if ran.Type != "dev:simulate" || ran.StoreID != "store-short" || ran.ID == "" {
		t.Errorf("run --json: %+v", ran)
	}
	b.waitFor(t, ran.ID, client.StatusCompleted)

	failing := create("store-failing", `{"steps": 1, "fail_attempts": 100, "fail_with": "permanent"}`)
	b.jobctl(t, "schedule", "run", failing, "--watch", "--progress", "plain").expect(t, exitFailed, "failed dev:simulate job ", "simulated permanent failure")
	b.jobctl(t, "schedule", "run", "no-such-schedule").expectError(t, "not found: ")
}

// A schedule's zone is this machine's unless --tz names one: TZ's, where
// it is an IANA name.
func TestScheduleZoneDefaultsToTheMachines(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	r := invocation{
		args: []string{"--url", b.base, "--token", b.operator, "--json", "schedule", "create", "dev:simulate", "--weekly", "sunday@23:59", "--store", "store-a"},
		env:  map[string]string{"TZ": "Europe/Berlin"},
	}.run(t).expect(t, exitOK)
	if s := decode[client.Schedule](t, r); s.TimeZone != "Europe/Berlin" || s.Description != "every week on Sunday at 23:59 (Europe/Berlin)" {
		t.Errorf("schedule created with TZ=Europe/Berlin: %+v", s)
	}
	r = invocation{
		args: []string{"--url", b.base, "--token", b.operator, "--json", "schedule", "create", "dev:simulate", "--daily", "23:59", "--store", "store-b"},
		env:  map[string]string{"TZ": ":Asia/Tokyo"},
	}.run(t).expect(t, exitOK)
	if s := decode[client.Schedule](t, r); s.TimeZone != "Asia/Tokyo" {
		t.Errorf("schedule created with TZ=:Asia/Tokyo: %+v", s)
	}
}

// A schedule command line jobctl cannot run exits 3, says what is wrong
// and where the help is, and calls nothing (the URL answers nowhere).
func TestBadScheduleCommandLinesExit3(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"create", "dev:simulate", "--weekly", "funday@02:00", "--tz", "UTC"}, nil, `--weekly "funday@02:00": "funday" is not a day: give one of monday,`},
		{[]string{"create", "dev:simulate", "--weekly", "monday", "--tz", "UTC"}, nil, `--weekly "monday": give a day and a time such as monday@02:30`},
		{[]string{"create", "dev:simulate", "--weekly", "monday@25:00", "--tz", "UTC"}, nil, `--weekly "monday@25:00": give a 24-hour time such as 02:30`},
		{[]string{"create", "dev:simulate", "--daily", "2pm", "--tz", "UTC"}, nil, `--daily "2pm": give a 24-hour time`},
		{[]string{"create", "dev:simulate", "--tz", "UTC"}, nil, "say when it runs: --cron, --daily or --weekly"},
		{[]string{"create", "dev:simulate", "--cron", "@daily", "--daily", "02:00", "--tz", "UTC"}, nil, "--cron and --daily: give only one of"},
		{[]string{"create", "dev:simulate", "--daily", "02:00", "--tz", "UTC", "--priority", "soon"}, nil, `--priority "soon": choose one of`},
		{[]string{"create", "dev:simulate", "--daily", "02:00"}, map[string]string{"TZ": "CET-1CEST,M3.5.0,M10.5.0/3"}, `TZ="CET-1CEST,M3.5.0,M10.5.0/3", is not an IANA zone name: name the schedule's zone with --tz`},
		{[]string{"create", "--daily", "02:00"}, nil, "missing TYPE"},
		{[]string{"show"}, nil, "missing ID"},
		{[]string{"delete", "a", "b"}, nil, `unexpected argument "b"`},
		{[]string{"run", "x", "--progress", "fancy"}, nil, "choose one of auto, bar, plain"},
		{[]string{"list", "--limit", "3"}, nil, "unknown flag: --limit"},
	} {
		args := append([]string{"--token", "unused", "--url", "http://jobs.example.invalid", "schedule"}, tc.args...)
		r := invocation{args: args, env: tc.env}.run(t)
		r.expectError(t, tc.want, "--help' for usage.")
		if strings.Contains(r.stderr, "cannot reach") {
			t.Errorf("jobctl schedule %v sent a request", tc.args)
		}
	}
}

func TestFromNow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(20 * time.Second), "in under a minute"},
		{now.Add(-20 * time.Second), "just now"},
		{now.Add(25*time.Minute + 30*time.Second), "in 25 min"},
		{now.Add(5*time.Hour + 3*time.Minute), "in 5 h 3 min"},
		{now.Add(-2 * time.Hour), "2 h ago"},
		{now.Add(50 * time.Hour), "in 2 days"},
		{now.Add(-8 * 24 * time.Hour), "8 days ago"},
	} {
		if got := fromNow(tc.at, now); got != tc.want {
			t.Errorf("fromNow(now%+v) = %q, want %q", tc.at.Sub(now), got, tc.want)
		}
	}
}
