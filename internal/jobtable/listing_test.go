package jobtable_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

// listingBundle is a table holding jobs created a second apart, oldest first.
type listingBundle struct {
	app  *app.App
	jobs []*job.Job
	t0   time.Time
}

// setupListing saves 24 jobs over 8 stores and 3 types (one of each pair, as the active-job lock allows), a second apart.
func setupListing(t *testing.T) listingBundle {
	t.Helper()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	t0 := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	b := listingBundle{app: a, t0: t0}
	types := []string{"amazon:export:products", "shopify:import:products", "dev:simulate"}
	for i := range 24 {
		j := &job.Job{
			ID: fmt.Sprintf("job-%02d", i), StoreID: fmt.Sprintf("store-%d", i%8), Type: types[i%3],
			Status: job.StatusPending, Priority: job.PriorityNormal, PriorityLevel: 3,
			Payload: []byte("{}"), MaxAttempts: 4, CreatedAt: job.NewTime(t0.Add(time.Duration(i) * time.Second)),
		}
		if _, _, err := a.Jobs.Create(context.Background(), jobtable.CreateRequest{Job: j}); err != nil {
			t.Fatal(err)
		}
		b.jobs = append(b.jobs, j)
	}
	return b
}

// newestFirst lists the ids of the jobs keep selects, newest first.
func (b listingBundle) newestFirst(keep func(j *job.Job) bool) []string {
	var ids []string
	for _, j := range slices.Backward(b.jobs) {
		if keep(j) {
			ids = append(ids, j.ID)
		}
	}
	return ids
}

// listAll follows the cursor to the end and returns the ids and page count.
func listAll(t *testing.T, s *jobtable.Table, f jobtable.JobFilter, limit int) ([]string, int) {
	t.Helper()
	var ids []string
	cursor := ""
	for pages := 1; ; pages++ {
		page, err := s.ListJobs(context.Background(), f, limit, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Jobs) > limit {
			t.Fatalf("page of %d jobs, limit %d", len(page.Jobs), limit)
		}
		for _, j := range page.Jobs {
			ids = append(ids, j.ID)
		}
		if cursor = page.Cursor; cursor == "" {
			return ids, pages
		}
		if pages > 100 {
			t.Fatal("the cursor never ends")
		}
	}
}

func TestListingMergesEveryShardNewestFirstAndFilters(t *testing.T) {
	t.Parallel()
	b := setupListing(t)
	s := b.app.Jobs
	tests := []struct {
		name   string
		filter jobtable.JobFilter
		keep   func(j *job.Job) bool
	}{
		{"every store", jobtable.JobFilter{}, func(*job.Job) bool { return true }},
		{"one store", jobtable.JobFilter{StoreID: "store-1"}, func(j *job.Job) bool { return j.StoreID == "store-1" }},
		{"one type", jobtable.JobFilter{Type: "dev:simulate"}, func(j *job.Job) bool { return j.Type == "dev:simulate" }},
		{"store and type", jobtable.JobFilter{StoreID: "store-2", Type: "amazon:export:products"}, func(j *job.Job) bool {
			return j.StoreID == "store-2" && j.Type == "amazon:export:products"
		}},
		{"from (inclusive) to (exclusive)", jobtable.JobFilter{From: b.t0.Add(5 * time.Second), To: b.t0.Add(17 * time.Second)}, func(j *job.Job) bool {
			return !j.CreatedAt.Before(b.t0.Add(5*time.Second)) && j.CreatedAt.Before(b.t0.Add(17*time.Second))
		}},
		{"store and from", jobtable.JobFilter{StoreID: "store-3", From: b.t0.Add(10 * time.Second)}, func(j *job.Job) bool {
			return j.StoreID == "store-3" && !j.CreatedAt.Before(b.t0.Add(10*time.Second))
		}},
		{"to only", jobtable.JobFilter{To: b.t0.Add(3 * time.Second)}, func(j *job.Job) bool { return j.CreatedAt.Before(b.t0.Add(3 * time.Second)) }},
		{"no match", jobtable.JobFilter{Type: "nothing:of:this"}, func(*job.Job) bool { return false }},
	}
	for _, tt := range tests {
		for _, limit := range []int{1, 5, 100} {
			got, _ := listAll(t, s, tt.filter, limit)
			want := b.newestFirst(tt.keep)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, pages of %d:\n got %v\nwant %v", tt.name, limit, got, want)
			}
		}
	}
	// The jobs went to more than one shard: the merge was exercised.
	first, err := s.ListJobs(context.Background(), jobtable.JobFilter{}, 24, "")
	if err != nil || len(first.Jobs) != 24 || first.Cursor != "" {
		t.Fatalf("one page of everything: %d jobs, cursor %q, %v", len(first.Jobs), first.Cursor, err)
	}
}

// A rarely matching filter reads a bounded number of jobs per request: the
// pages come back short, but following the cursor finds every match, in
// order, once.
func TestListingWithAScanBudgetAnswersShortPagesButMissesNothing(t *testing.T) {
	t.Parallel()
	b := setupListing(t)
	budgeted := jobtable.New(b.app.DB, b.app.Config.TableName, jobtable.Options{ListScanBudget: 2})
	filter := jobtable.JobFilter{Type: "shopify:import:products", Statuses: []job.Status{job.StatusPending}}
	got, pages := listAll(t, budgeted, filter, 3)
	want := b.newestFirst(func(j *job.Job) bool { return j.Type == "shopify:import:products" })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("budgeted listing:\n got %v\nwant %v", got, want)
	}
	if pages <= len(want)/3+1 {
		t.Errorf("%d pages: the budget of 2 items per shard did not shorten any page", pages)
	}
}

// The index keys are written once, at creation; every transition after it
// shows in the listing with the job's new status.
func TestListingFollowsTransitions(t *testing.T) {
	t.Parallel()
	b := setupListing(t)
	s := b.app.Jobs
	ctx := context.Background()
	read, err := s.Get(ctx, "job-07")
	if err != nil {
		t.Fatal(err)
	}
	lease := jobtable.Lease{Token: "lease", ExpiresAt: time.Now().Add(time.Minute)}
	claimed, err := s.Claim(ctx, read, lease, time.Minute, jobtable.LogEntry{})
	if err != nil {
		t.Fatal(err)
	}
	// Every store's listing shows whole jobs as they are now, though its
	// index copies only what it filters on.
	if _, err := s.SaveProgress(ctx, claimed.ID, lease, jobtable.Progress{Percent: 40, Message: "halfway", Changed: true}, time.Minute); err != nil {
		t.Fatal(err)
	}
	running, err := s.ListJobs(ctx, jobtable.JobFilter{Statuses: []job.Status{job.StatusRunning}}, 10, "")
	if err != nil || len(running.Jobs) != 1 {
		t.Fatalf("running jobs: %v %v", running.Jobs, err)
	}
	if listed := running.Jobs[0]; listed.ID != "job-07" || listed.Progress != 40 || listed.ProgressMessage != "halfway" || string(listed.Payload) != string(read.Payload) || listed.Attempts != 1 {
		t.Errorf("listed running job = %+v, want job-07 at 40%% \"halfway\" with its payload and attempt", listed)
	}
	retrying := jobtable.Outcome{Status: job.StatusRetrying, Error: "boom", NextAttemptAt: time.Now().Add(time.Second), SweepGrace: time.Minute}
	if err := s.Finish(ctx, claimed, retrying); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		statuses []job.Status
		want     []string
	}{
		{[]job.Status{job.StatusRetrying}, []string{"job-07"}},
		{[]job.Status{job.StatusRunning, job.StatusRetrying}, []string{"job-07"}},
		{[]job.Status{job.StatusCompleted}, nil},
	} {
		got, _ := listAll(t, s, jobtable.JobFilter{Statuses: tt.statuses}, 10)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("status %v: %v, want %v", tt.statuses, got, tt.want)
		}
	}
	page, err := s.ListJobs(ctx, jobtable.JobFilter{StoreID: "store-3", Type: "amazon:export:products"}, 1, "")
	if err != nil || len(page.Jobs) != 1 || page.Jobs[0].ID != "job-03" {
		t.Fatalf("store-3 listing: %v %v", page.Jobs, err)
	}
	if _, err := s.ListJobs(ctx, jobtable.JobFilter{}, 10, "bm90IGEgY3Vyc29y"); !errors.Is(err, jobtable.ErrBadCursor) {
		t.Errorf("a cursor the store never issued: %v, want ErrBadCursor", err)
	}
}

// The finished listing orders a store's finished jobs by when they
// finished: a long job created first but finished last comes first. A job
// retried out of a terminal status leaves it, and comes back when it ends
// again.
func TestFinishedListingIsByWhenJobsFinished(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	c := clock.NewFake(time.Now().Truncate(time.Second))
	a := env.App(t, app.Overrides{Clock: c})
	s := a.Jobs
	ctx := context.Background()
	t0 := c.Now()
	// Each job has its own type, so none waits for another's active-job slot.
	create := func(storeID, id string) *job.Job {
		t.Helper()
		c.Advance(time.Second)
		j := &job.Job{
			ID: id, StoreID: storeID, Type: "test:" + id, Status: job.StatusPending, Priority: job.PriorityNormal, PriorityLevel: 3,
			Payload: []byte("{}"), MaxAttempts: 4, CreatedAt: job.NewTime(c.Now()),
		}
		if _, _, err := s.Create(ctx, jobtable.CreateRequest{Job: j}); err != nil {
			t.Fatal(err)
		}
		return j
	}
	finish := func(id string, status job.Status) {
		t.Helper()
		c.Advance(time.Second)
		read, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if status == job.StatusCancelled {
			if _, err := s.Cancel(ctx, id, "test"); err != nil {
				t.Fatal(err)
			}
			return
		}
		claimed, err := s.Claim(ctx, read, jobtable.Lease{Token: "lease-" + id, ExpiresAt: c.Now().Add(time.Minute)}, time.Minute, jobtable.LogEntry{})
		if err != nil {
			t.Fatal(err)
		}
		outcome := jobtable.Outcome{Status: status}
		if status == job.StatusFailed {
			outcome.Error = "boom"
		}
		if err := s.Finish(ctx, claimed, outcome); err != nil {
			t.Fatal(err)
		}
	}
	shop := jobtable.JobFilter{StoreID: "shop", ByFinished: true}
	expect := func(step string, f jobtable.JobFilter, want ...string) {
		t.Helper()
		for _, limit := range []int{1, 2, 100} {
			if got, _ := listAll(t, s, f, limit); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, pages of %d:\n got %v\nwant %v", step, limit, got, want)
			}
		}
	}

	long := create("shop", "long") // the 2-hour import, created first
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		create("shop", id)
	}
	create("shop", "still-pending")
	create("other", "elsewhere")
	finish("elsewhere", job.StatusCompleted)
	finish("a", job.StatusCompleted)
	finish("b", job.StatusCancelled)
	finish("c", job.StatusFailed)
	finish("d", job.StatusCompleted)
	finish("e", job.StatusCancelled)
	finish("long", job.StatusFailed)
	expect("finished jobs", shop, "long", "e", "d", "c", "b", "a")
	expect("failed jobs", jobtable.JobFilter{StoreID: "shop", ByFinished: true, Statuses: []job.Status{job.StatusFailed}}, "long", "c")
	expect("one type", jobtable.JobFilter{StoreID: "shop", ByFinished: true, Type: long.Type}, "long")
	page, err := s.ListJobs(ctx, shop, 1, "")
	if err != nil || len(page.Jobs) != 1 || page.Jobs[0].FinishedAt == nil || page.Jobs[0].Error != "boom" {
		t.Fatalf("first finished job: %+v %v, want the whole failed job", page.Jobs, err)
	}

	// Retried, from its checkpoint or from the start, a job is not finished.
	if _, err := s.Retry(ctx, "long", false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retry(ctx, "b", true, "test"); err != nil {
		t.Fatal(err)
	}
	expect("after retries", shop, "e", "d", "c", "a")
	finish("long", job.StatusCompleted)
	expect("after the retried job completed", shop, "long", "e", "d", "c", "a")

	// Imported jobs are listed by their finish too.
	imported := &job.Job{
		ID: "imported", StoreID: "shop", Type: "test:imported", Status: job.StatusCompleted, Priority: job.PriorityNormal, PriorityLevel: 3,
		Payload: []byte("{}"), MaxAttempts: 4, CreatedAt: job.NewTime(t0), FinishedAt: job.TimePtr(t0.Add(time.Second)),
	}
	if err := s.ImportJobs(ctx, []*job.Job{imported}); err != nil {
		t.Fatal(err)
	}
	expect("with an imported job", shop, "long", "e", "d", "c", "a", "imported")
}
