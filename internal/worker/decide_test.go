package worker

import (
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
)

// A delayed job's message seen before its start (a copy the sweep sent) is
// hidden until the start when that is near, and given up when it is further
// off than a message may wait: the due index brings the job back.
func TestAnEarlyMessageOfADelayedJobWaitsForItsStart(t *testing.T) {
	w := &Worker{}
	now := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC)
	delayed := func(until time.Duration) *job.Job {
		return &job.Job{ID: "j", Type: "dev:simulate", Status: job.StatusPending, RunAt: job.TimePtr(now.Add(until))}
	}
	if d := w.decide(delayed(5*time.Minute), true, jobtable.Pauses{}, now); d.action != actionWait || d.wait != 5*time.Minute {
		t.Errorf("5 min before its start: %v %s, want wait 5m", d.action, d.wait)
	}
	if d := w.decide(delayed(2*time.Hour), true, jobtable.Pauses{}, now); d.action != actionDelete {
		t.Errorf("2 h before its start: %v, want delete", d.action)
	}
	if d := w.decide(delayed(-time.Second), true, jobtable.Pauses{}, now); d.action != actionClaim {
		t.Errorf("at its start: %v, want claim", d.action)
	}
}
