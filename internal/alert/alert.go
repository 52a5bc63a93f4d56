// Package alert watches the queue's health from the sweep and raises
// alerts: a job type failing too often, jobs failing because their type
// has no handler in this deployment, a job stuck without progress,
// messages in the dead-letter queue, and the queue at high load for too
// long. An alert stays open while its condition holds and is resolved when
// it stops; both moments are published to the alarm topic when one is
// configured.
package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/health"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/queue"
)

// Rules are the thresholds of the alerts.
type Rules struct {
	// FailureRate alerts when more than this share of a job type's finished
	// jobs failed over the last two hours, counting at least MinFinished.
	FailureRate float64
	MinFinished int64
	// StuckAfter alerts on a running job whose progress has not moved for
	// this long.
	StuckAfter time.Duration
	// HighLoadFor alerts when the queue depth stays "high load" this long.
	HighLoadFor time.Duration
}

// DefaultRules are the defaults of the deployment.
var DefaultRules = Rules{FailureRate: 0.2, MinFinished: 10, StuckAfter: 15 * time.Minute, HighLoadFor: 10 * time.Minute}

// Publisher sends an alert's opening and resolution somewhere people look.
type Publisher interface {
	Publish(ctx context.Context, subject, message string) error
}

// Monitor evaluates the rules.
type Monitor struct {
	jobs      *jobtable.Table
	queues    *queue.Queues
	rules     Rules
	publisher Publisher // nil: alerts are only recorded
	clock     clock.Clock
	log       *slog.Logger
}

// NewMonitor returns a Monitor; publisher may be nil.
func NewMonitor(s *jobtable.Table, q *queue.Queues, rules Rules, publisher Publisher, clk clock.Clock, log *slog.Logger) *Monitor {
	return &Monitor{jobs: s, queues: q, rules: rules, publisher: publisher, clock: clk, log: log}
}

// Check evaluates every rule once: it opens the alerts whose condition
// holds and resolves the open ones whose condition stopped.
func (m *Monitor) Check(ctx context.Context) error {
	firing, err := m.firing(ctx)
	if err != nil {
		return err
	}
	open, _, err := m.jobs.Alerts(ctx, 0)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range firing {
		opened, err := m.jobs.OpenAlert(ctx, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if opened {
			m.log.Warn("alert opened", "kind", a.Kind, "subject", a.Subject, "message", a.Message)
			errs = append(errs, m.publish(ctx, "ALARM", a))
		}
	}
	for _, a := range open {
		if _, still := firing[a.Key]; still {
			continue
		}
		resolved, err := m.jobs.ResolveAlert(ctx, a.Key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if resolved != nil {
			m.log.Info("alert resolved", "kind", a.Kind, "subject", a.Subject)
			errs = append(errs, m.publish(ctx, "OK", *resolved))
		}
	}
	return errors.Join(errs...)
}

func (m *Monitor) publish(ctx context.Context, state string, a jobtable.Alert) error {
	if m.publisher == nil {
		return nil
	}
	subject := fmt.Sprintf("%s: %s %s", state, a.Kind, a.Subject)
	if err := m.publisher.Publish(ctx, subject, a.Message); err != nil {
		return fmt.Errorf("publish alert %s: %w", a.Key, err)
	}
	return nil
}

// firing returns the alerts whose condition holds now, by key.
func (m *Monitor) firing(ctx context.Context) (map[string]jobtable.Alert, error) {
	firing := map[string]jobtable.Alert{}
	add := func(a jobtable.Alert) { firing[a.Key] = a }

	recent, err := m.jobs.RecentOutcomes(ctx)
	if err != nil {
		return nil, err
	}
	for jobType, c := range recent {
		completed, failed := c[0], c[1]
		if finished := completed + failed; finished >= m.rules.MinFinished && float64(failed) > m.rules.FailureRate*float64(finished) {
			rate := float64(failed) / float64(finished)
			add(jobtable.Alert{Key: "failure_rate|" + jobType, Kind: "failure_rate", Subject: jobType, Value: rate * 100,
				Message: fmt.Sprintf("%d of the last %d %s jobs failed in the past two hours (%.0f%%; the threshold is %.0f%%)", failed, finished, jobType, rate*100, m.rules.FailureRate*100)})
		}
	}

	stuck, err := m.jobs.StuckJobs(ctx, m.clock.Now().Add(-m.rules.StuckAfter))
	if err != nil {
		return nil, err
	}
	for _, j := range stuck {
		idle := m.clock.Now().Sub(j.ProgressChangedAt.Time).Round(time.Second)
		add(jobtable.Alert{Key: "stuck_job|" + j.ID, Kind: "stuck_job", Subject: j.ID, Value: idle.Seconds(),
			Message: fmt.Sprintf("%s job %s of store %s has been running at %d%% (%q) without progress for %s", j.Type, j.ID, j.StoreID, j.Progress, j.ProgressMessage, idle)})
	}

	if err := m.unknownTypes(ctx, add); err != nil {
		return nil, err
	}

	dead, err := m.queues.DeadLetterDepth(ctx)
	if err != nil {
		return nil, err
	}
	if n := dead.Visible + dead.InFlight; n > 0 {
		add(jobtable.Alert{Key: "dead_letters", Kind: "dead_letters", Subject: "dead-letter queue", Value: float64(n),
			Message: fmt.Sprintf("%d messages could not be processed and wait in the dead-letter queue", n)})
	}

	counts, err := m.jobs.Counts(ctx, "")
	if err != nil {
		return nil, err
	}
	if health.QueueDepth(counts.Pending) == health.HighLoad {
		since, err := m.jobs.Watch(ctx, "high_load")
		if err != nil {
			return nil, err
		}
		if lasted := m.clock.Now().Sub(since); lasted >= m.rules.HighLoadFor {
			add(jobtable.Alert{Key: "high_load", Kind: "high_load", Subject: "queue depth", Value: float64(counts.Pending),
				Message: fmt.Sprintf("%d jobs have been waiting: the queue has been at high load for %s", counts.Pending, lasted.Round(time.Second))})
		}
	} else if err := m.jobs.Unwatch(ctx, "high_load"); err != nil {
		return nil, err
	}
	return firing, nil
}

// unknownTypeWindow is how long a job failed for want of a handler keeps
// its type's alert open: as long as the failure-rate window.
const unknownTypeWindow = 2 * time.Hour

// unknownTypes alerts on every job type whose jobs failed because no
// handler of the type runs in this deployment (a type removed, a rollback,
// a worker older than the API): a deployment problem, however few jobs.
func (m *Monitor) unknownTypes(ctx context.Context, add func(jobtable.Alert)) error {
	groups, err := m.jobs.FailureGroups(ctx, 2) // today and yesterday: the window may span midnight
	if err != nil {
		return err
	}
	since := m.clock.Now().Add(-unknownTypeWindow)
	failed := map[string]int64{}
	for _, g := range groups {
		if g.Kind == "unknown_type" && !g.LastAt.Before(since) {
			failed[g.Type] += g.Count
		}
	}
	for jobType, n := range failed {
		add(jobtable.Alert{Key: "unknown_type|" + jobType, Kind: "unknown_type", Subject: jobType, Value: float64(n),
			Message: fmt.Sprintf("%d %s jobs have failed since yesterday because no handler of the type runs in this deployment; deploy it again and retry them", n, jobType)})
	}
	return nil
}
