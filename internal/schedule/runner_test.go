package schedule_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/schedule"
	"github.com/dainostore/jobs/internal/schema"
)

var berlinDaily = schedule.Spec{Every: "day", At: "02:30", TimeZone: "Europe/Berlin"}

func TestRunnerCreatesOneJobPerLocalDayAcrossDSTNights(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       []string // due times, Berlin's wall clock
	}{
		{
			name: "spring", start: utc(2026, time.March, 26, 12, 0), end: utc(2026, time.April, 1, 12, 0),
			want: []string{
				"2026-03-27 02:30 CET", "2026-03-28 02:30 CET", "2026-03-29 03:30 CEST",
				"2026-03-30 02:30 CEST", "2026-03-31 02:30 CEST", "2026-04-01 02:30 CEST",
			},
		},
		{
			name: "autumn", start: utc(2026, time.October, 22, 12, 0), end: utc(2026, time.October, 28, 12, 0),
			want: []string{
				"2026-10-23 02:30 CEST", "2026-10-24 02:30 CEST", "2026-10-25 02:30 CEST",
				"2026-10-26 02:30 CET", "2026-10-27 02:30 CET", "2026-10-28 02:30 CET",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.start)
			s := b.create(t, schedule.Definition{Spec: berlinDaily})
			berlin, _ := time.LoadLocation("Europe/Berlin")
			var due []string
			// The sweep runs often enough to see each due time on its own.
			for b.clock.Now().Before(tc.end) {
				b.clock.Advance(20 * time.Minute)
				seen := len(b.creator.requestsSoFar())
				b.runDue(t)
				for _, req := range b.creator.requestsSoFar()[seen:] {
					at := dueOf(t, req)
					if at.After(b.clock.Now()) {
						t.Errorf("job due at %s created at %s", at, b.clock.Now())
					}
					due = append(due, at.In(berlin).Format("2006-01-02 15:04 MST"))
				}
				// Each run's job ends before the next is due.
				if got := b.get(t, s); len(got.LastRuns) > 0 && got.LastRuns[0].HandledAt.Equal(b.clock.Now()) && got.LastRuns[0].JobID != "" {
					b.finish(t, got.LastRuns[0].JobID, job.StatusCompleted, "")
				}
			}
			if strings.Join(due, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("jobs created for:\n%s\nwant:\n%s", strings.Join(due, "\n"), strings.Join(tc.want, "\n"))
			}
			got := b.get(t, s)
			if len(got.LastRuns) != len(tc.want) {
				t.Fatalf("%d runs recorded, want %d:\n%s", len(got.LastRuns), len(tc.want), describeRuns(got.LastRuns))
			}
			for i, run := range got.LastRuns {
				if want := tc.want[len(tc.want)-1-i]; run.Outcome != schedule.OutcomeStarted || run.DueAt.In(berlin).Format("2006-01-02 15:04 MST") != want {
					t.Errorf("run %d: %s %s, want started at %s", i, run.Outcome, run.DueAt, want)
				}
			}
		})
	}
}

func TestConcurrentSweepsRecordOneRunPerDueTime(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Spec: berlinDaily})
	b.clock.Advance(14 * time.Hour) // past 2026-11-27 01:30 UTC

	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := b.runner.RunDue(b.ctx); err != nil {
				t.Errorf("run due: %v", err)
			}
		})
	}
	wg.Wait()
	b.runDue(t) // a later sweep at the same time finds nothing due

	requests := b.creator.requestsSoFar()
	keys := map[string]bool{}
	for _, req := range requests {
		keys[req.IdempotencyKey] = true
	}
	wantKey := fmt.Sprintf("schedule:%s:%d", s.ID, utc(2026, time.November, 27, 1, 30).Unix())
	if len(requests) == 0 || len(requests) > 2 || len(keys) != 1 || !keys[wantKey] {
		t.Errorf("create requests %v, want one or two with the key %s", requests, wantKey)
	}
	got := b.get(t, s)
	if len(got.LastRuns) != 1 || got.LastRuns[0].Outcome != schedule.OutcomeStarted {
		t.Fatalf("runs:\n%s\nwant one started", describeRuns(got.LastRuns))
	}
	j, err := b.jobs.Get(b.ctx, got.LastRuns[0].JobID)
	if err != nil || j.Type != "dev:simulate" || j.StoreID != "store-1" {
		t.Errorf("the run's job = %+v, %v", j, err)
	}
	if !got.NextRunAt.Equal(utc(2026, time.November, 28, 1, 30)) {
		t.Errorf("next run %s, want the next day's", got.NextRunAt)
	}
}

func TestOutageRunsOnceForTheLatestMissedDueTime(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Name: "Nightly export", Spec: berlinDaily})
	b.clock.Advance(3 * 24 * time.Hour) // 2026-11-29 12:00 UTC: three due times passed

	report := b.runDue(t)
	if report != (schedule.Report{Started: 1, CaughtUp: 1}) {
		t.Errorf("report = %+v", report)
	}
	requests := b.creator.requestsSoFar()
	if len(requests) != 1 || !dueOf(t, requests[0]).Equal(utc(2026, time.November, 29, 1, 30)) {
		t.Fatalf("requests = %+v, want one for the latest due time", requests)
	}
	if want := fmt.Sprintf("schedule %s (Nightly export)", s.ID); requests[0].CreatedBy != want {
		t.Errorf("created by %q, want %q", requests[0].CreatedBy, want)
	}
	got := b.get(t, s)
	if len(got.LastRuns) != 1 {
		t.Fatalf("runs:\n%s", describeRuns(got.LastRuns))
	}
	run := got.LastRuns[0]
	if run.Outcome != schedule.OutcomeCaughtUp || run.JobID == "" ||
		run.Message != "caught up once for 3 runs missed since 2026-11-27 01:30 UTC" {
		t.Errorf("run = %+v", run)
	}
	if !got.NextRunAt.Equal(utc(2026, time.November, 30, 1, 30)) {
		t.Errorf("next run %s, want the next day's", got.NextRunAt)
	}
}

func TestActiveJobOfTheTypeMakesTheRunSkip(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Spec: berlinDaily})
	manual, _, err := b.creator.Create(b.ctx, dispatch.Request{StoreID: "store-1", Type: "dev:simulate"})
	if err != nil {
		t.Fatal(err)
	}

	b.clock.Advance(24 * time.Hour)
	if report := b.runDue(t); report != (schedule.Report{Skipped: 1}) {
		t.Errorf("report = %+v", report)
	}
	got := b.get(t, s)
	if run := got.LastRuns[0]; run.Outcome != schedule.OutcomeSkipped || run.JobID != manual.ID ||
		run.Message != fmt.Sprintf("skipped: job %s (pending) of the same type was still active", manual.ID) {
		t.Errorf("run = %+v", run)
	}
	if !got.NextRunAt.Equal(utc(2026, time.November, 28, 1, 30)) {
		t.Errorf("next run %s: nothing waits behind the active job", got.NextRunAt)
	}

	b.finish(t, manual.ID, job.StatusCompleted, "")
	b.clock.Advance(24 * time.Hour)
	b.runDue(t)
	started := b.get(t, s).LastRuns[0]
	if started.Outcome != schedule.OutcomeStarted {
		t.Fatalf("run = %+v, want started", started)
	}
	b.clock.Advance(24 * time.Hour) // the run's job is still pending
	b.runDue(t)
	got = b.get(t, s)
	if run := got.LastRuns[0]; run.Outcome != schedule.OutcomeSkipped || run.JobID != started.JobID ||
		run.Message != fmt.Sprintf("skipped: the previous run %s (pending) was still active", started.JobID) {
		t.Errorf("run = %+v", run)
	}
	if len(got.LastRuns) != 3 || got.ConsecutiveFailures != 0 {
		t.Errorf("runs:\n%s\nfailures %d", describeRuns(got.LastRuns), got.ConsecutiveFailures)
	}
}

func TestFailedRunsInARowPauseTheSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Spec: berlinDaily})

	// Each day's run ends as listed; the next day's sweep counts it.
	ends := []job.Status{job.StatusFailed, job.StatusCompleted, job.StatusFailed, job.StatusFailed, job.StatusFailed}
	wantFailures := []int{0, 1, 0, 1, 2}
	for i, end := range ends {
		b.clock.Advance(24 * time.Hour)
		b.runDue(t)
		got := b.get(t, s)
		if len(got.LastRuns) != i+1 || got.ConsecutiveFailures != wantFailures[i] {
			t.Fatalf("day %d: failures %d, want %d; runs:\n%s", i, got.ConsecutiveFailures, wantFailures[i], describeRuns(got.LastRuns))
		}
		b.finish(t, got.LastRuns[0].JobID, end, fmt.Sprintf("marketplace refused the credentials (day %d).", i))
	}

	b.clock.Advance(24 * time.Hour)
	if report := b.runDue(t); report != (schedule.Report{Paused: 1}) {
		t.Errorf("report = %+v", report)
	}
	if n := len(b.creator.requestsSoFar()); n != len(ends) {
		t.Errorf("%d jobs requested, want %d", n, len(ends))
	}
	paused := b.get(t, s)
	wantReason := "paused after 3 failed runs in a row; the last failed with: marketplace refused the credentials (day 4). Fix the cause and enable the schedule again."
	if paused.Enabled || paused.PausedReason != wantReason || paused.ConsecutiveFailures != 3 || paused.NextRunAt != nil || len(paused.LastRuns) != len(ends) {
		t.Errorf("paused schedule: enabled %v, reason %q, failures %d, next %v, %d runs", paused.Enabled, paused.PausedReason, paused.ConsecutiveFailures, paused.NextRunAt, len(paused.LastRuns))
	}
	if keys := b.dueKeys(t); len(keys) != 0 {
		t.Errorf("a paused schedule is due: %v", keys)
	}
	b.clock.Advance(24 * time.Hour)
	b.runDue(t)
	if n := len(b.creator.requestsSoFar()); n != len(ends) {
		t.Errorf("a paused schedule created a job")
	}

	enabled, err := b.store.Update(b.ctx, s.StoreID, s.ID, schedule.Patch{Enabled: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !enabled.Enabled || enabled.PausedReason != "" || enabled.ConsecutiveFailures != 0 || enabled.NextRunAt == nil || !enabled.NextRunAt.After(b.clock.Now()) {
		t.Errorf("enabled again: %+v", enabled)
	}
	b.clock.Advance(24 * time.Hour)
	if report := b.runDue(t); report != (schedule.Report{Started: 1}) {
		t.Errorf("report after enabling = %+v", report)
	}
	if got := b.get(t, s); got.ConsecutiveFailures != 0 || !got.Enabled {
		t.Errorf("after enabling: failures %d, enabled %v", got.ConsecutiveFailures, got.Enabled)
	}
}

func TestCreateFaultLeavesTheScheduleDue(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Spec: berlinDaily})
	other := b.create(t, schedule.Definition{StoreID: "store-2", Spec: berlinDaily})
	b.clock.Advance(24 * time.Hour)

	outage := errors.New("SQS is unavailable")
	b.creator.failNext(outage)
	report, err := b.runner.RunDue(b.ctx)
	if !errors.Is(err, outage) {
		t.Errorf("run due: %v, want the create's error", err)
	}
	if report.Started != 1 {
		t.Errorf("report = %+v: the other schedule runs all the same", report)
	}
	// The fault hit whichever schedule the runner handled first.
	failed, started := b.get(t, s), b.get(t, other)
	if len(failed.LastRuns) == 1 {
		failed, started = started, failed
	}
	if len(started.LastRuns) != 1 {
		t.Errorf("the other schedule's runs:\n%s", describeRuns(started.LastRuns))
	}
	if len(failed.LastRuns) != 0 || !failed.NextRunAt.Equal(utc(2026, time.November, 27, 1, 30)) || failed.Version != 1 {
		t.Errorf("after a failed create: runs %d, next %s, version %d; want it untouched", len(failed.LastRuns), failed.NextRunAt, failed.Version)
	}

	b.clock.Advance(time.Minute)
	if report := b.runDue(t); report != (schedule.Report{Started: 1}) {
		t.Errorf("next sweep: %+v", report)
	}
	if got := b.get(t, failed); len(got.LastRuns) != 1 || !got.LastRuns[0].DueAt.Equal(utc(2026, time.November, 27, 1, 30)) {
		t.Errorf("runs after the next sweep:\n%s", describeRuns(got.LastRuns))
	}
}

func TestCreatedButUnrecordedRunIsRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Spec: berlinDaily})
	b.clock.Advance(24 * time.Hour)

	// A sweep created the job, then stopped before recording the run.
	key := fmt.Sprintf("schedule:%s:%d", s.ID, utc(2026, time.November, 27, 1, 30).Unix())
	hash := sha256.Sum256([]byte(key))
	crashed, _, err := b.creator.Create(b.ctx, dispatch.Request{StoreID: s.StoreID, Type: s.Type, IdempotencyKey: key, RequestHash: hex.EncodeToString(hash[:])})
	if err != nil {
		t.Fatal(err)
	}

	if report := b.runDue(t); report != (schedule.Report{Started: 1}) {
		t.Errorf("report = %+v", report)
	}
	got := b.get(t, s)
	if len(got.LastRuns) != 1 || got.LastRuns[0].JobID != crashed.ID || got.LastRuns[0].Outcome != schedule.OutcomeStarted {
		t.Errorf("runs:\n%s\nwant one with job %s", describeRuns(got.LastRuns), crashed.ID)
	}
	b.runDue(t)
	if got := b.get(t, s); len(got.LastRuns) != 1 {
		t.Errorf("runs after another sweep:\n%s", describeRuns(got.LastRuns))
	}
}

func TestRunNow(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Name: "Nightly export", Spec: berlinDaily})

	first, err := b.runner.RunNow(b.ctx, "store-1", s.ID, "owner-of-store-1")
	if err != nil {
		t.Fatal(err)
	}
	requests := b.creator.requestsSoFar()
	if want := fmt.Sprintf("owner-of-store-1 through schedule %s (Nightly export)", s.ID); requests[0].CreatedBy != want {
		t.Errorf("created by %q, want %q", requests[0].CreatedBy, want)
	}
	if first.StoreID != "store-1" || first.Type != "dev:simulate" || first.Priority != job.PriorityNormal {
		t.Errorf("job = %+v", first)
	}
	b.clock.Advance(10 * time.Second)
	again, err := b.runner.RunNow(b.ctx, "store-1", s.ID, "owner-of-store-1")
	if err != nil || again.ID != first.ID {
		t.Errorf("a second click in the same minute: %v, %v; want job %s again", again, err, first.ID)
	}
	b.clock.Advance(time.Minute)
	_, err = b.runner.RunNow(b.ctx, "", s.ID, "test-operator")
	var duplicate *jobtable.DuplicateError
	if !errors.As(err, &duplicate) || duplicate.ExistingJobID != first.ID {
		t.Errorf("run now while the job is active: %v, want a duplicate of %s", err, first.ID)
	}
	if _, err := b.runner.RunNow(b.ctx, "store-2", s.ID, "owner-of-store-2"); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("another store's schedule: %v, want ErrNotFound", err)
	}

	// Recorded once (the second click was the same job), and the next run
	// does not move.
	got := b.get(t, s)
	if len(got.LastRuns) != 1 || got.LastRuns[0].Outcome != schedule.OutcomeRunNow || got.LastRuns[0].JobID != first.ID {
		t.Errorf("runs after run now: %s, want the one run_now of %s", describeRuns(got.LastRuns), first.ID)
	}
	if !got.NextRunAt.Equal(s.NextRunAt.Time) {
		t.Errorf("run now moved the next run to %s from %s", got.NextRunAt, s.NextRunAt)
	}
}

func TestJobStatusesAreFilledInWhenRead(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.November, 26, 12, 0))
	s := b.create(t, schedule.Definition{Spec: berlinDaily})
	other := b.create(t, schedule.Definition{StoreID: "store-2", Spec: berlinDaily})
	for day := range 3 {
		b.clock.Advance(24 * time.Hour)
		b.runDue(t)
		if day < 2 {
			for _, sched := range []*schedule.Schedule{s, other} {
				b.finish(t, b.get(t, sched).LastRuns[0].JobID, job.StatusCompleted, "")
			}
		}
	}
	// The oldest run's job is gone (cleaned up).
	oldest := b.get(t, s).LastRuns[2].JobID
	if _, err := b.db.DeleteItem(b.ctx, &dynamodb.DeleteItemInput{TableName: &b.table, Key: map[string]types.AttributeValue{
		schema.PartitionKey: &types.AttributeValueMemberS{Value: "JOB#" + oldest},
		schema.SortKey:      &types.AttributeValueMemberS{Value: "JOB"},
	}}); err != nil {
		t.Fatal(err)
	}

	list, err := b.store.List(b.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.FillJobStatuses(b.ctx, list...); err != nil {
		t.Fatal(err)
	}
	for _, sched := range list {
		var statuses []job.Status
		for _, run := range sched.LastRuns {
			statuses = append(statuses, run.JobStatus)
		}
		want := []job.Status{job.StatusPending, job.StatusCompleted, job.StatusCompleted}
		if sched.ID == s.ID {
			want[2] = ""
		}
		if fmt.Sprint(statuses) != fmt.Sprint(want) {
			t.Errorf("schedule of %s: statuses %v, want %v", sched.StoreID, statuses, want)
		}
	}
	data, _ := json.Marshal(list[0].LastRuns)
	if !strings.Contains(string(data), `"job_status":"pending"`) || strings.Count(string(data), "job_status") != 2 {
		t.Errorf("runs as JSON: %s", data)
	}
}

// A due time found late whose successor comes within the lead is run once,
// on time for the successor: an every-minute schedule whose sweep comes 25 s
// into each minute is on time from its second run on, not 25 s late for
// ever.
func TestADueTimeFoundLateMergesWithTheNextWithinTheLead(t *testing.T) {
	t.Parallel()
	b := setup(t, utc(2026, time.December, 1, 12, 0))
	s := b.create(t, schedule.Definition{Spec: schedule.Spec{Cron: "* * * * *", TimeZone: "UTC"}})

	b.clock.Advance(85 * time.Second) // 12:01:25: the 12:01 due time is 25 s late
	b.runDue(t)
	reqs := b.creator.requestsSoFar()
	if len(reqs) != 1 || !dueOf(t, reqs[0]).Equal(utc(2026, time.December, 1, 12, 2)) || reqs[0].RunAt == nil || !reqs[0].RunAt.Equal(utc(2026, time.December, 1, 12, 2)) {
		t.Fatalf("requests at 12:01:25: %+v, want one job delayed to 12:02", reqs)
	}
	got := b.get(t, s)
	if run := got.LastRuns[0]; run.Outcome != schedule.OutcomeCaughtUp || run.Message != "caught up once for 1 run missed since 2026-12-01 12:01 UTC" {
		t.Errorf("run %+v, want a catch-up for the one late due time", run)
	}
	if !got.NextRunAt.Equal(utc(2026, time.December, 1, 12, 3)) {
		t.Errorf("next run %s, want 12:03", got.NextRunAt)
	}
	b.finish(t, got.LastRuns[0].JobID, job.StatusCompleted, "")

	b.clock.Advance(time.Minute) // 12:02:25: 12:03 is within the lead
	b.runDue(t)
	reqs = b.creator.requestsSoFar()
	if len(reqs) != 2 || reqs[1].RunAt == nil || !reqs[1].RunAt.Equal(utc(2026, time.December, 1, 12, 3)) {
		t.Fatalf("requests at 12:02:25: %+v, want the 12:03 job delayed to its time", reqs)
	}
	if run := b.get(t, s).LastRuns[0]; run.Outcome != schedule.OutcomeStarted {
		t.Errorf("the on-time run %+v, want started", run)
	}
}
