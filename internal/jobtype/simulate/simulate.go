// Package simulate is the diagnostic job type dev:simulate: it walks through
// a number of steps, checkpointing after each, and can fail its first
// attempts on purpose, so progress, retries and resumes can be watched
// without any outside service.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/jobtype"
)

// Failure modes of fail_with.
const (
	FailTransient = "transient"
	FailPermanent = "permanent"
	FailRateLimit = "rate_limit"
	FailPanic     = "panic"
)

// Args is the payload of dev:simulate.
type Args struct {
	Steps  int `json:"steps"`
	StepMS int `json:"step_ms"`
	// FailAttempts makes the first N attempts fail halfway, after checkpointing.
	FailAttempts int    `json:"fail_attempts,omitempty"`
	FailWith     string `json:"fail_with,omitempty"`
	// RetryAfterMS is the wait a rate_limit failure asks for.
	RetryAfterMS int `json:"retry_after_ms,omitempty"`
}

// Kind names the job type.
func (Args) Kind() string { return "dev:simulate" }

// Validate bounds the payload so a diagnostic job stays a diagnostic.
func (a Args) Validate() error {
	switch {
	case a.Steps < 0 || a.Steps > 10000:
		return jobtype.InvalidField("steps", "steps must be between 0 and 10000")
	case a.StepMS < 0 || a.StepMS > 60000:
		return jobtype.InvalidField("step_ms", "step_ms must be between 0 and 60000")
	case a.FailAttempts < 0 || a.FailAttempts > 100:
		return jobtype.InvalidField("fail_attempts", "fail_attempts must be between 0 and 100")
	case a.RetryAfterMS < 0 || a.RetryAfterMS > 3600000:
		return jobtype.InvalidField("retry_after_ms", "retry_after_ms must be between 0 and 3600000")
	}
	switch a.FailWith {
	case "", FailTransient, FailPermanent, FailRateLimit, FailPanic:
		return nil
	}
	return jobtype.InvalidField("fail_with", "fail_with must be one of %s, %s, %s, %s", FailTransient, FailPermanent, FailRateLimit, FailPanic)
}

// State is the checkpoint: the next step to run, and how many steps ran.
type State struct {
	NextStep int `json:"next_step"`
	// StepRuns counts step executions over all attempts. It equals Steps at
	// the end exactly when no checkpointed step ran twice.
	StepRuns int `json:"step_runs"`
}

// Result is what a finished simulation reports.
type Result struct {
	Steps    int `json:"steps"`
	StepRuns int `json:"step_runs"`
	Attempts int `json:"attempts"`
}

// Handler runs dev:simulate.
type Handler struct {
	// Sleep waits between steps; tests may replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Run walks the steps from the last checkpoint.
func (h Handler) Run(ctx context.Context, rt jobtype.Runtime, args Args) (any, error) {
	sleep := h.Sleep
	if sleep == nil {
		sleep = clock.Sleep
	}
	var state State
	if _, err := rt.Resume(&state); err != nil {
		return nil, jobtype.Permanent(err)
	}
	failThisAttempt := rt.Attempt() <= args.FailAttempts
	failAt := args.Steps / 2
	for step := state.NextStep; step < args.Steps; step++ {
		if failThisAttempt && step == failAt {
			return nil, failure(args)
		}
		if err := sleep(ctx, time.Duration(args.StepMS)*time.Millisecond); err != nil {
			return nil, err
		}
		state = State{NextStep: step + 1, StepRuns: state.StepRuns + 1}
		rt.Progress((step+1)*100/args.Steps, fmt.Sprintf("Simulating step %d/%d", step+1, args.Steps))
		if err := rt.Checkpoint(state); err != nil {
			return nil, err
		}
	}
	if failThisAttempt && args.Steps == 0 {
		return nil, failure(args)
	}
	return Result{Steps: args.Steps, StepRuns: state.StepRuns, Attempts: rt.Attempt()}, nil
}

func failure(args Args) error {
	err := errors.New("simulated failure")
	switch args.FailWith {
	case FailPermanent:
		return jobtype.Permanent(errors.New("simulated permanent failure: validation failed"))
	case FailRateLimit:
		return jobtype.RateLimited(time.Duration(args.RetryAfterMS)*time.Millisecond, errors.New("simulated rate limit exceeded"))
	case FailPanic:
		panic("simulated panic")
	}
	return err
}
