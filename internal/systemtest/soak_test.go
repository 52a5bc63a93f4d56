package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/retry"
	"github.com/dainostore/jobs/internal/testenv"
)

// soakJob is one job of the soak test and the outcome its script dictates.
type soakJob struct {
	id   string
	args simulate.Args
	want job.Status
}

// TestSoakRandomFailuresAndWorkerKills runs 500 dev:simulate jobs with
// scripted failures on two worker processes that are killed (SIGKILL) and
// replaced every few seconds. Every job must end as its script says, none
// stuck, no checkpointed step run twice, and the statistics must equal a
// recount of the jobs.
func TestSoakRandomFailuresAndWorkerKills(t *testing.T) {
	if testing.Short() {
		t.Skip("the soak test takes about a minute")
	}
	t.Parallel()
	env := testenv.New(t)
	env.Config.Lease = 5 * time.Second
	// Seven attempts: a job that fails twice on purpose still completes if
	// kills cost it a few more. A job keeps the schedule it was created
	// with, so the creating app and the worker processes share it.
	const retryDelays = "1s,1s,1s,1s,1s,1s"
	delays, err := retry.ParseDelays(retryDelays)
	if err != nil {
		t.Fatal(err)
	}
	env.Config.RetryDelays = delays
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, 5*time.Minute)
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))

	jobs := make([]*soakJob, 500)
	for i := range jobs {
		args := simulate.Args{Steps: rng.IntN(8), StepMS: rng.IntN(80)}
		want := job.StatusCompleted
		switch r := rng.IntN(10); {
		case r < 2: // heals after one or two failed attempts
			args.FailAttempts, args.FailWith = 1+rng.IntN(2), simulate.FailTransient
		case r < 3: // never heals: fails for good on any attempt
			args.FailAttempts, args.FailWith = 100, simulate.FailPermanent
		case r < 4: // fails every attempt until they run out
			args.FailAttempts, args.FailWith = 100, simulate.FailTransient
		}
		if args.FailAttempts >= 100 {
			want = job.StatusFailed
		}
		jobs[i] = &soakJob{args: args, want: want}
	}

	processEnv := []string{"JOBS_RETRY_DELAYS=" + retryDelays, "JOBS_SWEEP_INTERVAL=1s"}
	var mu sync.Mutex
	workers := []*workerProcess{startWorkerProcess(t, env, processEnv...), startWorkerProcess(t, env, processEnv...)}

	// Create concurrently, as a busy API would.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				payload, _ := json.Marshal(jobs[i].args)
				j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: fmt.Sprintf("soak-%d", i), Type: "dev:simulate", Payload: payload})
				if err != nil {
					t.Errorf("create job %d: %v", i, err)
					continue
				}
				jobs[i].id = j.ID
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()

	// Kill one worker process every three seconds for 30 s, replacing it.
	kills := 0
	stopKilling := time.Now().Add(30 * time.Second)
	for time.Now().Before(stopKilling) {
		time.Sleep(3 * time.Second)
		mu.Lock()
		victim := rng.IntN(len(workers))
		workers[victim].kill()
		workers[victim] = startWorkerProcess(t, env, processEnv...)
		mu.Unlock()
		kills++
	}
	t.Logf("killed %d worker processes", kills)

	var unfinished []string
	eventually(t, 3*time.Minute, func() error {
		unfinished = unfinished[:0]
		for _, sj := range jobs {
			j, err := a.Jobs.Get(ctx, sj.id)
			if err != nil {
				return err
			}
			if !j.Status.Terminal() {
				unfinished = append(unfinished, fmt.Sprintf("%s (%s)", sj.id, j.Status))
			}
		}
		if len(unfinished) > 0 {
			return fmt.Errorf("%d jobs not finished, such as %v", len(unfinished), unfinished[0])
		}
		return nil
	})

	var finished []*job.Job
	takenOver := 0
	for _, sj := range jobs {
		j, result := simulateResult(t, a, sj.id)
		finished = append(finished, j)
		if j.Status == job.StatusCompleted && j.Attempts > sj.args.FailAttempts+1 {
			takenOver++ // an attempt more than the script's: its worker was killed
		}
		if j.Status != sj.want {
			t.Errorf("job %s with script %+v ended %s after %d attempts (%s), want %s", sj.id, sj.args, j.Status, j.Attempts, j.Error, sj.want)
		}
		if j.Status == job.StatusCompleted && result.StepRuns != sj.args.Steps {
			t.Errorf("job %s ran %d steps for %d: a checkpointed step ran again", sj.id, result.StepRuns, sj.args.Steps)
		}
	}
	t.Logf("%d completed jobs were taken over from a killed worker", takenOver)
	counts, err := a.Jobs.Counts(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := recount(finished); counts != want {
		t.Errorf("statistics %+v differ from a recount of the jobs %+v", counts, want)
	}
}
