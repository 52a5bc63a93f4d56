package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/retry"
)

// scriptArgs is the job type of these tests; what its handler does is the
// test's script.
type scriptArgs struct{}

func (scriptArgs) Kind() string { return "test:script" }

// script is what a test's job does when it runs.
type script func(ctx context.Context, rt jobtype.Runtime) (any, error)

// testBundle is one test's worker with its clock, job table and queues.
type testBundle struct {
	t      *testing.T
	clock  *clock.Fake
	jobs   *memoryJobs
	queues *memoryQueues
	worker *Worker
	script atomic.Pointer[script]
	// runs counts the handler's runs.
	runs atomic.Int32
}

var start = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// defaultDelays is the configuration's retry schedule in these tests.
var defaultDelays = []time.Duration{5 * time.Second, 30 * time.Second, 5 * time.Minute}

func setup(t *testing.T, configure ...func(*Config)) *testBundle {
	t.Helper()
	b := &testBundle{t: t, clock: clock.NewFake(start)}
	b.jobs = newMemoryJobs(b.clock)
	b.queues = newMemoryQueues(b.clock)
	b.do(func(context.Context, jobtype.Runtime) (any, error) { return nil, nil })
	registry := jobtype.NewRegistry()
	jobtype.Register[scriptArgs](registry, jobtype.Func[scriptArgs](func(ctx context.Context, rt jobtype.Runtime, _ scriptArgs) (any, error) {
		b.runs.Add(1)
		return (*b.script.Load())(ctx, rt)
	}))
	cfg := Config{
		ID: "test-worker", Retry: retry.Policy{Delays: defaultDelays}, Clock: b.clock,
		Logger: slog.New(slog.DiscardHandler),
	}
	for _, c := range configure {
		c(&cfg)
	}
	b.worker = New(b.jobs, b.queues, registry, cfg)
	return b
}

// do sets what the test's job does.
func (b *testBundle) do(s script) { b.script.Store(&s) }

// add stores a job and sends its message.
func (b *testBundle) add(j *job.Job) *job.Job {
	b.t.Helper()
	if j.ID == "" {
		j.ID = fmt.Sprintf("job-%d", len(b.queues.held())+len(b.jobs.jobs))
	}
	if j.Type == "" {
		j.Type = "test:script"
	}
	if j.Status == "" {
		j.Status = job.StatusPending
	}
	if j.Priority == 0 {
		j.Priority = job.PriorityNormal
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = job.NewTime(b.clock.Now())
	}
	j.StoreID, j.Payload, j.MaxAttempts = "store-1", json.RawMessage("{}"), len(defaultDelays)+1
	j.Version = 3
	b.jobs.put(j)
	b.queues.send(j.Priority, fmt.Sprintf(`{"job_id":%q}`, j.ID))
	return j
}

// run is one worker invocation, with a minute before its deadline.
func (b *testBundle) run() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := b.worker.Run(ctx); err != nil {
		b.t.Fatalf("worker run: %v", err)
	}
}

// runInBackground starts an invocation and returns a function that waits
// for it to end.
func (b *testBundle) runInBackground(ctx context.Context) (wait func()) {
	done := make(chan error, 1)
	go func() { done <- b.worker.Run(ctx) }()
	return func() {
		b.t.Helper()
		select {
		case err := <-done:
			if err != nil {
				b.t.Errorf("worker run: %v", err)
			}
		case <-time.After(30 * time.Second):
			b.t.Fatal("the worker did not return")
		}
	}
}

// advanceUntil moves the clock a step at a time until done says so: each
// step delivers a tick to whatever waits on the clock. It must be called
// from the test's goroutine (or from a handler, which runs on it).
func (b *testBundle) advanceUntil(step time.Duration, what string, done func() bool) {
	b.t.Helper()
	if !advance(b.clock, step, done) {
		b.t.Fatalf("still waiting for %s", what)
	}
}

// advance moves the clock a step at a time until done says so, and gives
// up (false) after a while of real time.
func advance(c *clock.Fake, step time.Duration, done func() bool) bool {
	for deadline := time.Now().Add(30 * time.Second); !done(); {
		if time.Now().After(deadline) {
			return false
		}
		c.Advance(step)
		time.Sleep(time.Millisecond) // let the ticked goroutine take its turn
	}
	return true
}

// closed reports whether a channel is closed.
func closed(c <-chan struct{}) func() bool {
	return func() bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
}

// message states what became of a job's message.
func (b *testBundle) message(id string) string {
	for _, m := range b.queues.held() {
		if m.jobID == id {
			if m.hiddenUntil.After(b.clock.Now()) {
				return "hidden until +" + m.hiddenUntil.Sub(start).String()
			}
			return "visible"
		}
	}
	return "deleted"
}

func (b *testBundle) outcomeKinds() []string {
	b.jobs.mu.Lock()
	defer b.jobs.mu.Unlock()
	var kinds []string
	for _, o := range b.jobs.outcomes {
		kind := string(o.Status)
		if o.Failure != nil {
			kind += "/" + o.Failure.Kind
		}
		kinds = append(kinds, kind)
	}
	return kinds
}

// Every row of the decision table, through a whole invocation: what the
// job becomes, what happens to its message, whether the handler ran.
func TestEveryDecisionOfTheTable(t *testing.T) {
	t.Parallel()
	at := func(d time.Duration) *job.Time { return job.TimePtr(start.Add(d)) }
	tests := []struct {
		name          string
		job           *job.Job
		body          string // instead of the job's message
		pausedType    bool
		wantStatus    job.Status
		wantAttempts  int
		wantMessage   string
		wantRuns      int32
		wantDead      string
		wantOutcome   string
		wantPausedSet bool
	}{
		{name: "a message that is not a job message is dead-lettered", body: `not json`, wantMessage: "deleted", wantDead: "unparseable message"},
		{name: "a message of an unknown job is dead-lettered", body: `{"job_id":"no-such-job"}`, wantMessage: "deleted", wantDead: "unknown job"},
		{name: "a late message of a completed job is deleted", job: &job.Job{Status: job.StatusCompleted, Attempts: 1},
			wantStatus: job.StatusCompleted, wantAttempts: 1, wantMessage: "deleted"},
		{name: "a late message of a failed job is deleted", job: &job.Job{Status: job.StatusFailed, Attempts: 4},
			wantStatus: job.StatusFailed, wantAttempts: 4, wantMessage: "deleted"},
		{name: "a late message of a cancelled job is deleted", job: &job.Job{Status: job.StatusCancelled},
			wantStatus: job.StatusCancelled, wantMessage: "deleted"},
		{name: "a duplicate of a job a live worker holds is deleted, not cycled",
			job:        &job.Job{Status: job.StatusRunning, Attempts: 1, LeaseToken: "other-worker", LeaseExpiresAt: start.Add(40 * time.Second)},
			wantStatus: job.StatusRunning, wantAttempts: 1, wantMessage: "deleted"},
		{name: "a retrying job seen before its next attempt is hidden until then",
			job:        &job.Job{Status: job.StatusRetrying, Attempts: 1, NextAttemptAt: at(25 * time.Second)},
			wantStatus: job.StatusRetrying, wantAttempts: 1, wantMessage: "hidden until +25s"},
		{name: "a stray message of a job set aside by a pause is deleted",
			job:        &job.Job{Status: job.StatusPending, PausedAt: at(-time.Hour)},
			wantStatus: job.StatusPending, wantMessage: "deleted", wantPausedSet: true},
		{name: "a pending job whose type is not deployed here fails",
			job:        &job.Job{Type: "test:gone", Status: job.StatusPending},
			wantStatus: job.StatusFailed, wantMessage: "deleted", wantOutcome: "failed/unknown_type"},
		{name: "a retrying job whose type is not deployed here fails",
			job:        &job.Job{Type: "test:gone", Status: job.StatusRetrying, Attempts: 2, NextAttemptAt: at(-time.Second)},
			wantStatus: job.StatusFailed, wantAttempts: 2, wantMessage: "deleted", wantOutcome: "failed/unknown_type"},
		{name: "an abandoned job with a cancel request ends cancelled",
			job:        &job.Job{Status: job.StatusRunning, Attempts: 1, LeaseToken: "dead-worker", LeaseExpiresAt: start.Add(-time.Second), CancelRequested: true},
			wantStatus: job.StatusCancelled, wantAttempts: 1, wantMessage: "deleted", wantOutcome: "cancelled"},
		{name: "an abandoned job on its last attempt fails",
			job:        &job.Job{Status: job.StatusRunning, Attempts: 4, LeaseToken: "dead-worker", LeaseExpiresAt: start.Add(-time.Second)},
			wantStatus: job.StatusFailed, wantAttempts: 4, wantMessage: "deleted", wantOutcome: "failed/lost_worker"},
		{name: "an abandoned job on the last attempt of its own schedule fails",
			job:        &job.Job{Status: job.StatusRunning, Attempts: 2, RetryDelays: []time.Duration{time.Second}, LeaseToken: "dead-worker", LeaseExpiresAt: start.Add(-time.Second)},
			wantStatus: job.StatusFailed, wantAttempts: 2, wantMessage: "deleted", wantOutcome: "failed/lost_worker"},
		{name: "a job of a paused type is set aside and gives its message up",
			job: &job.Job{Status: job.StatusPending}, pausedType: true,
			wantStatus: job.StatusPending, wantMessage: "deleted", wantPausedSet: true},
		{name: "an abandoned job of a paused type is set aside",
			job: &job.Job{Status: job.StatusRunning, Attempts: 1, LeaseToken: "dead-worker", LeaseExpiresAt: start.Add(-time.Second)}, pausedType: true,
			wantStatus: job.StatusRunning, wantAttempts: 1, wantMessage: "deleted", wantPausedSet: true},
		{name: "a pending job is claimed and run",
			job:        &job.Job{Status: job.StatusPending},
			wantStatus: job.StatusCompleted, wantAttempts: 1, wantMessage: "deleted", wantRuns: 1, wantOutcome: "completed"},
		{name: "a retrying job that is due runs its next attempt",
			job:        &job.Job{Status: job.StatusRetrying, Attempts: 1, NextAttemptAt: at(-time.Second)},
			wantStatus: job.StatusCompleted, wantAttempts: 2, wantMessage: "deleted", wantRuns: 1, wantOutcome: "completed"},
		{name: "a job handed on continues the same attempt",
			job:        &job.Job{Status: job.StatusRunning, Attempts: 1, Continuation: true},
			wantStatus: job.StatusCompleted, wantAttempts: 1, wantMessage: "deleted", wantRuns: 1, wantOutcome: "completed"},
		{name: "an abandoned job with attempts left is taken over as a new attempt",
			job:        &job.Job{Status: job.StatusRunning, Attempts: 1, LeaseToken: "dead-worker", LeaseExpiresAt: start.Add(-time.Second)},
			wantStatus: job.StatusCompleted, wantAttempts: 2, wantMessage: "deleted", wantRuns: 1, wantOutcome: "completed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			id := "no-job"
			if tt.job != nil {
				id = b.add(tt.job).ID
			} else {
				b.queues.send(job.PriorityNormal, tt.body)
			}
			if tt.pausedType {
				b.jobs.pauses.Types["test:script"] = true
			}
			before := b.clock.Now()
			b.run()

			if got := b.message(id); got != tt.wantMessage && tt.body == "" {
				t.Errorf("message: %s, want %s", got, tt.wantMessage)
			}
			if len(b.queues.held()) > 0 && tt.body != "" {
				t.Errorf("the message is still queued")
			}
			if got := strings.Join(b.queues.deadLetters, ","); got != tt.wantDead {
				t.Errorf("dead letters %q, want %q", got, tt.wantDead)
			}
			if got := b.runs.Load(); got != tt.wantRuns {
				t.Errorf("the handler ran %d times, want %d", got, tt.wantRuns)
			}
			if got := strings.Join(b.outcomeKinds(), ","); got != tt.wantOutcome {
				t.Errorf("outcomes %q, want %q", got, tt.wantOutcome)
			}
			if tt.job == nil {
				return
			}
			j := b.jobs.job(id)
			if j.Status != tt.wantStatus || j.Attempts != tt.wantAttempts {
				t.Errorf("job is %s after %d attempts, want %s after %d", j.Status, j.Attempts, tt.wantStatus, tt.wantAttempts)
			}
			if (j.PausedAt != nil) != tt.wantPausedSet {
				t.Errorf("job set aside: %v, want %v", j.PausedAt != nil, tt.wantPausedSet)
			}
			if tt.pausedType && j.PausedAt != nil && !j.PausedAt.Equal(before) {
				t.Errorf("set aside at %v, want %v", j.PausedAt, before)
			}
			if tt.wantOutcome == "failed/unknown_type" && !strings.Contains(j.Error, `no handler for job type "test:gone"`) {
				t.Errorf("error %q does not say what happened", j.Error)
			}
		})
	}
}

// A job's type paused for longer than the queue's redrive count of
// receives: its message is given up once and the job waits in the table,
// however often workers look, so it never reaches the dead-letter queue.
func TestAPauseOfAnyLengthNeverCyclesTheMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.pauses.Types["test:script"] = true
	j := b.add(&job.Job{})
	for range 150 { // more than the redrive's 100 receives
		b.run()
		b.clock.Advance(time.Minute)
	}
	if held := b.queues.held(); len(held) != 0 || len(b.queues.deadLetters) != 0 {
		t.Fatalf("after a long pause: %d messages held, dead letters %v", len(held), b.queues.deadLetters)
	}
	if got := b.jobs.job(j.ID); got.Status != job.StatusPending || got.PausedAt == nil || b.runs.Load() != 0 {
		t.Errorf("job %s, set aside %v, runs %d; want pending and set aside, never run", got.Status, got.PausedAt, b.runs.Load())
	}
}

func TestWholeQueuePausedTakesNoMessage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.pauses.All = true
	b.add(&job.Job{})
	b.run()
	if held := b.queues.held(); len(held) != 1 || held[0].receives != 0 || b.runs.Load() != 0 {
		t.Errorf("while the queue is paused: messages %v, %d runs; want the one message untouched", held, b.runs.Load())
	}
}

// Of two workers that read the same job, the second finds it claimed when
// it writes; it reads again and treats its message as the duplicate it is.
func TestAClaimLostToAnotherWorkerReadsTheJobAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j := b.add(&job.Job{})
	b.jobs.beforeClaim = func() {
		b.jobs.update(j.ID, func(stored *job.Job) {
			stored.Status, stored.Attempts, stored.Version = job.StatusRunning, 1, stored.Version+1
			stored.LeaseToken, stored.LeaseExpiresAt = "faster-worker", start.Add(time.Minute)
		})
	}
	b.run()
	if got := b.jobs.job(j.ID); got.LeaseToken != "faster-worker" || b.runs.Load() != 0 || b.message(j.ID) != "deleted" {
		t.Errorf("lease %q, runs %d, message %s; want the faster worker's lease, no run, the duplicate deleted", got.LeaseToken, b.runs.Load(), b.message(j.ID))
	}
}

// How a run ends, for each way a handler can return.
func TestEveryOutcomeOfARun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		job          *job.Job
		script       script
		wantStatus   job.Status
		wantOutcome  string
		wantError    string
		wantNext     time.Duration // after start, for a retry
		wantMessage  string
		wantWakes    []time.Duration
		wantProgress int
	}{
		{name: "success completes with the result",
			script:     func(context.Context, jobtype.Runtime) (any, error) { return map[string]int{"imported": 3}, nil },
			wantStatus: job.StatusCompleted, wantOutcome: "completed", wantMessage: "deleted", wantProgress: 100},
		{name: "a permanent error fails at once",
			script: func(context.Context, jobtype.Runtime) (any, error) {
				return nil, jobtype.Permanent(errors.New("invalid credentials"))
			},
			wantStatus: job.StatusFailed, wantOutcome: "failed/permanent", wantError: "invalid credentials", wantMessage: "deleted"},
		{name: "a rate limit waits as long as the server asked",
			script: func(context.Context, jobtype.Runtime) (any, error) {
				return nil, jobtype.RateLimited(90*time.Second, errors.New("429"))
			},
			wantStatus: job.StatusRetrying, wantOutcome: "retrying/rate_limited", wantError: "rate limited: 429",
			wantNext: 90 * time.Second, wantMessage: "hidden until +1m30s", wantWakes: []time.Duration{90 * time.Second}},
		{name: "a plain error retries on the schedule",
			script:     func(context.Context, jobtype.Runtime) (any, error) { return nil, errors.New("timeout") },
			wantStatus: job.StatusRetrying, wantOutcome: "retrying/error", wantError: "timeout",
			wantNext: 5 * time.Second, wantMessage: "hidden until +5s", wantWakes: []time.Duration{5 * time.Second}},
		{name: "a plain error on the last attempt fails",
			job:        &job.Job{Status: job.StatusRetrying, Attempts: 3, NextAttemptAt: job.TimePtr(start)},
			script:     func(context.Context, jobtype.Runtime) (any, error) { return nil, errors.New("timeout") },
			wantStatus: job.StatusFailed, wantOutcome: "failed/error", wantError: "timeout", wantMessage: "deleted"},
		{name: "a job retries on the schedule it was created with",
			job:        &job.Job{RetryDelays: []time.Duration{7 * time.Second}},
			script:     func(context.Context, jobtype.Runtime) (any, error) { return nil, errors.New("timeout") },
			wantStatus: job.StatusRetrying, wantOutcome: "retrying/error", wantError: "timeout",
			wantNext: 7 * time.Second, wantMessage: "hidden until +7s", wantWakes: []time.Duration{7 * time.Second}},
		{name: "a job fails after the attempts of the schedule it was created with",
			job:        &job.Job{Status: job.StatusRetrying, Attempts: 1, RetryDelays: []time.Duration{7 * time.Second}, NextAttemptAt: job.TimePtr(start)},
			script:     func(context.Context, jobtype.Runtime) (any, error) { return nil, errors.New("timeout") },
			wantStatus: job.StatusFailed, wantOutcome: "failed/error", wantError: "timeout", wantMessage: "deleted"},
		{name: "a panic is a failed attempt",
			script:     func(context.Context, jobtype.Runtime) (any, error) { panic("nil map") },
			wantStatus: job.StatusRetrying, wantOutcome: "retrying/panic", wantError: "handler panicked: nil map",
			wantNext: 5 * time.Second, wantMessage: "hidden until +5s", wantWakes: []time.Duration{5 * time.Second}},
		{name: "a handler that cancels ends the job cancelled",
			script: func(context.Context, jobtype.Runtime) (any, error) {
				return nil, jobtype.Cancelled(errors.New("the store disconnected Amazon"))
			},
			wantStatus: job.StatusCancelled, wantOutcome: "cancelled", wantError: "cancelled: the store disconnected Amazon", wantMessage: "deleted"},
		{name: "continue later hands the job on",
			script: func(_ context.Context, rt jobtype.Runtime) (any, error) {
				rt.Progress(40, "Importing products: 200/500")
				return nil, jobtype.ErrContinueLater
			},
			wantStatus: job.StatusRunning, wantMessage: "visible", wantWakes: []time.Duration{0}, wantProgress: 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.do(tt.script)
			j := tt.job
			if j == nil {
				j = &job.Job{}
			}
			j = b.add(j)
			b.run()
			got := b.jobs.job(j.ID)
			if got.Status != tt.wantStatus || got.Error != tt.wantError || got.Progress != tt.wantProgress {
				t.Errorf("job is %s, error %q, progress %d; want %s, %q, %d", got.Status, got.Error, got.Progress, tt.wantStatus, tt.wantError, tt.wantProgress)
			}
			if kinds := strings.Join(b.outcomeKinds(), ","); kinds != tt.wantOutcome {
				t.Errorf("outcomes %q, want %q", kinds, tt.wantOutcome)
			}
			if tt.wantNext != 0 && (got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(start.Add(tt.wantNext))) {
				t.Errorf("next attempt at %v, want +%s", got.NextAttemptAt, tt.wantNext)
			}
			if msg := b.message(j.ID); msg != tt.wantMessage {
				t.Errorf("message: %s, want %s", msg, tt.wantMessage)
			}
			if wakes := b.queues.wakes; !slices.Equal(wakes, tt.wantWakes) {
				t.Errorf("wakes %v, want %v", wakes, tt.wantWakes)
			}
			if tt.wantStatus == job.StatusCompleted && string(got.Result) != `{"imported":3}` {
				t.Errorf("result %s", got.Result)
			}
			if tt.wantStatus == job.StatusRunning && (!got.Continuation || got.LeaseToken != "" || got.Attempts != 1 || len(b.queues.held()) != 1) {
				t.Errorf("handed on: continuation %v, lease %q, attempts %d, %d messages; want released, same attempt, one fresh message", got.Continuation, got.LeaseToken, got.Attempts, len(b.queues.held()))
			}
		})
	}
}

// The invocation's end (its deadline near, or the process stopping) hands
// the job on from its checkpoint without using up an attempt.
func TestTheInvocationsEndHandsTheJobOn(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"deadline", "shutdown"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.DeadlineMargin = 10 * time.Millisecond })
			started := make(chan struct{})
			b.do(func(ctx context.Context, rt jobtype.Runtime) (any, error) {
				rt.Progress(30, "Exporting: 9/30")
				close(started)
				<-ctx.Done()
				return nil, ctx.Err()
			})
			j := b.add(&job.Job{})
			var ctx context.Context
			var cancel context.CancelFunc
			if how == "deadline" {
				// Long enough past the margin for the job to start on a
				// loaded machine (a job needs a second of its own).
				ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
			} else {
				ctx, cancel = context.WithCancel(context.Background())
			}
			defer cancel()
			wait := b.runInBackground(ctx)
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatal("the job did not start")
			}
			if how == "shutdown" {
				cancel()
			}
			wait()
			got := b.jobs.job(j.ID)
			if got.Status != job.StatusRunning || !got.Continuation || got.Attempts != 1 || got.Progress != 30 || len(b.outcomeKinds()) != 0 {
				t.Errorf("job %s, continuation %v, attempts %d, progress %d, outcomes %v; want handed on at 30%% in attempt 1", got.Status, got.Continuation, got.Attempts, got.Progress, b.outcomeKinds())
			}
			if held := b.queues.held(); len(held) != 1 || held[0].receives != 0 {
				t.Errorf("want exactly one fresh message for the next invocation, have %d", len(held))
			}
		})
	}
}

// startHeld runs a job whose handler reports progress and then waits for
// its context to end, and returns the job and a wait for the invocation.
func (b *testBundle) startHeld(result func(ctx context.Context) (any, error)) (*job.Job, func()) {
	b.t.Helper()
	started := make(chan struct{})
	b.do(func(ctx context.Context, rt jobtype.Runtime) (any, error) {
		rt.Progress(10, "Importing products: 50/500")
		close(started)
		<-ctx.Done()
		return result(ctx)
	})
	j := b.add(&job.Job{})
	wait := b.runInBackground(context.Background())
	<-started
	return j, wait
}

func TestACancelRequestStopsTheRunningJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j, wait := b.startHeld(func(ctx context.Context) (any, error) { return nil, ctx.Err() })
	b.jobs.update(j.ID, func(stored *job.Job) { stored.CancelRequested = true })
	b.advanceUntil(time.Second, "the keeper to see the cancel request", func() bool { return len(b.outcomeKinds()) > 0 })
	wait()
	if got := b.jobs.job(j.ID); got.Status != job.StatusCancelled || got.Error != "cancelled by request" || got.Progress != 10 {
		t.Errorf("job %s, error %q, progress %d; want cancelled by request at 10%%", got.Status, got.Error, got.Progress)
	}
}

// A worker whose lease was taken over stops and writes nothing.
func TestALostLeaseStopsTheJobAndWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	j, wait := b.startHeld(func(ctx context.Context) (any, error) { return nil, ctx.Err() })
	b.jobs.update(j.ID, func(stored *job.Job) { stored.LeaseToken, stored.Version = "newer-worker", stored.Version+1 })
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	b.advanceUntil(time.Second, "the handler to stop", closed(done))
	if got := b.jobs.job(j.ID); got.LeaseToken != "newer-worker" || got.Status != job.StatusRunning || len(b.outcomeKinds()) != 0 {
		t.Errorf("lease %q, status %s, outcomes %v; want the newer worker's job untouched", got.LeaseToken, got.Status, b.outcomeKinds())
	}
}

// Before, a handler that finished while the keeper had given its lease up
// (its writes kept failing) was run again as a new attempt, though its
// lease was still its own: now it finishes under it.
func TestAJobThatSucceedsAfterTheKeeperGaveUpIsCompleted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.jobs.beforeSave = func(jobtable.Progress) error { return errors.New("DynamoDB unavailable") }
	j, wait := b.startHeld(func(context.Context) (any, error) { return "imported", nil })
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	b.advanceUntil(time.Second, "the keeper to give the lease up", closed(done))
	if got := b.jobs.job(j.ID); got.Status != job.StatusCompleted || got.Attempts != 1 || b.runs.Load() != 1 {
		t.Errorf("job %s after %d attempts and %d runs; want completed once", got.Status, got.Attempts, b.runs.Load())
	}
}

// The keeper ticks on the injected clock: moving it by a heartbeat extends
// the lease and hides the message for another lease, with no waiting.
func TestHeartbeatsFollowTheInjectedClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release, started := make(chan struct{}), make(chan struct{})
	b.do(func(context.Context, jobtype.Runtime) (any, error) {
		close(started)
		<-release
		return nil, nil
	})
	j := b.add(&job.Job{})
	wait := b.runInBackground(context.Background())
	<-started
	firstLease := start.Add(time.Minute)
	b.advanceUntil(time.Second, "a heartbeat to extend the lease and the message", func() bool {
		held := b.queues.held()
		return b.jobs.job(j.ID).LeaseExpiresAt.After(firstLease) && len(held) == 1 && held[0].hiddenUntil.After(firstLease)
	})
	close(release)
	wait()
}

// Before, the keeper's periodic write and a checkpoint wrote at once, and a
// stale 40% could land after 50%: one writer at a time, each with the
// latest progress, keeps the bar from going back.
func TestProgressNeverGoesBackwards(t *testing.T) {
	t.Parallel()
	b := setup(t)
	keeperWriting := make(chan struct{})
	checkpointWriting := make(chan struct{})
	var once atomic.Bool
	b.jobs.beforeSave = func(p jobtable.Progress) error {
		if p.Checkpoint != nil {
			close(checkpointWriting)
			return nil
		}
		if p.Percent == 40 && once.CompareAndSwap(false, true) {
			close(keeperWriting)
			// Slow: the checkpoint would overtake it, were it let through.
			select {
			case <-checkpointWriting:
			case <-time.After(200 * time.Millisecond):
			}
		}
		return nil
	}
	b.do(func(_ context.Context, rt jobtype.Runtime) (any, error) {
		rt.Progress(40, "Exporting: 12/30")
		b.advanceUntil(time.Second, "the keeper's write", closed(keeperWriting))
		rt.Progress(50, "Exporting: 15/30")
		return nil, rt.Checkpoint(map[string]int{"next": 15})
	})
	b.add(&job.Job{})
	b.run()
	b.jobs.mu.Lock()
	defer b.jobs.mu.Unlock()
	if !slices.IsSorted(b.jobs.progress) || b.jobs.progress[len(b.jobs.progress)-1] != 50 {
		t.Errorf("progress was written in the order %v; it must never go back", b.jobs.progress)
	}
}

// Before, a flush whose second batch of 25 lines failed wrote the first
// batch again with the rest: only the lines not written are written again.
func TestLogLinesAreWrittenOnceWhenABatchFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var failed atomic.Bool
	b.jobs.appendLogs = func(entries []jobtable.LogEntry) (int, error) {
		if len(entries) > 25 && failed.CompareAndSwap(false, true) {
			return 25, errors.New("throttled")
		}
		return len(entries), nil
	}
	b.do(func(_ context.Context, rt jobtype.Runtime) (any, error) {
		for i := range 30 {
			rt.Log(slog.LevelInfo, fmt.Sprintf("line %d", i))
		}
		b.advanceUntil(time.Second, "a flush that fails half way", failed.Load)
		return nil, nil
	})
	j := b.add(&job.Job{})
	b.run()
	b.jobs.mu.Lock()
	defer b.jobs.mu.Unlock()
	count := map[string]int{}
	for _, e := range b.jobs.logs[j.ID] {
		count[e.Message]++
	}
	for i := range 30 {
		if n := count[fmt.Sprintf("line %d", i)]; n != 1 {
			t.Errorf("line %d is in the log %d times, want once", i, n)
		}
	}
}

// The starvation guard measures a low job's wait from when it became ready
// to run, not from when its message was first sent: a message keeps that
// time through retries and pauses.
func TestStarvationIsMeasuredFromWhenTheJobBecameReady(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		readyFor  time.Duration // how long the low job has been ready when urgent ones start
		wantOrder string
	}{
		{name: "retried a moment ago, it waits its turn", readyFor: 0, wantOrder: "urgent-1,urgent-2,low"},
		{name: "ready for longer than the wait, it goes first", readyFor: 11 * time.Minute, wantOrder: "urgent-1,low,urgent-2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.StarvationWait = 2 * time.Minute })
			var order []string
			b.do(func(_ context.Context, rt jobtype.Runtime) (any, error) {
				order = append(order, rt.JobID())
				if rt.JobID() == "urgent-1" {
					b.clock.Advance(time.Minute) // a long job: time for a starvation check
				}
				return nil, nil
			})
			// The low job's message was sent 11 minutes ago; it has been
			// ready for readyFor (say it failed and was retried since).
			b.add(&job.Job{ID: "low", Priority: job.PriorityLow})
			b.clock.Advance(11 * time.Minute)
			b.jobs.update("low", func(j *job.Job) { j.ReadyAt = job.TimePtr(b.clock.Now().Add(-tt.readyFor)) })
			b.add(&job.Job{ID: "urgent-1", Priority: job.PriorityUrgent})
			b.add(&job.Job{ID: "urgent-2", Priority: job.PriorityUrgent})
			b.run()
			if got := strings.Join(order, ","); got != tt.wantOrder {
				t.Errorf("ran %s, want %s", got, tt.wantOrder)
			}
		})
	}
}
