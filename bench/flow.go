package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/meter"
)

// priority is the priority class of a submitted job; each system maps it
// to its own: our priorities, Asynq queues (strict priority), River's
// priority field.
type priority int

const (
	priorityNormal priority = iota
	priorityLow
	priorityUrgent
)

// queueSystem is what the flow measurements need of a job system: run
// no-op jobs and tell when each started and completed.
type queueSystem interface {
	Name() string
	// Submit enqueues one no-op job and returns its id.
	Submit(ctx context.Context, p priority) (string, error)
	// Start starts the workers; jobs submitted before wait for them.
	Start(ctx context.Context) error
	// Await waits for a job to complete: when its handler started, and
	// when its completion was recorded.
	Await(ctx context.Context, id string) (start, end time.Time, err error)
	// AwaitAll waits until n jobs completed and returns when the last did.
	AwaitAll(ctx context.Context, n int) (time.Time, error)
	Close()
}

// Percentiles summarise durations, in milliseconds.
type Percentiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func percentiles(samples []time.Duration) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.5) - 1
		return float64(s[min(max(i, 0), len(s)-1)]) / float64(time.Millisecond)
	}
	return Percentiles{N: len(s), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: at(1)}
}

// Latency is the closed-loop latency of no-op jobs.
type Latency struct {
	// Pickup is from the create call to the handler's start.
	Pickup Percentiles `json:"create_to_running"`
	// Finish is from the handler's start to its completion being recorded:
	// for a no-op handler, pure bookkeeping.
	Finish Percentiles `json:"running_to_completed"`
}

// closedLoop runs total no-op jobs through clients that each create a job,
// wait for it to complete, and create the next: at most clients jobs are in
// the system at once, so the figures are latency, not queueing.
func closedLoop(ctx context.Context, sys queueSystem, clients, total int) (Latency, error) {
	var mu sync.Mutex
	var pickup, finish []time.Duration
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := range clients {
		n := total / clients
		if c < total%clients {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				created := time.Now()
				id, err := sys.Submit(ctx, priorityNormal)
				if err != nil {
					errs <- err
					return
				}
				start, end, err := sys.Await(ctx, id)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				pickup = append(pickup, start.Sub(created))
				finish = append(finish, end.Sub(start))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return Latency{}, err
	}
	return Latency{Pickup: percentiles(pickup), Finish: percentiles(finish)}, nil
}

// Throughput is jobs completed per second end to end: from the first create
// to the last completion, with submitters creating jobs as fast as they can.
type Throughput struct {
	Concurrency int     `json:"concurrency"`
	Jobs        int     `json:"jobs"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"jobs_per_second"`
	// Load is what the run asked of AWS per job, for a system that counts it.
	Load *LoadCost `json:"requests_per_job_under_load,omitempty"`
}

// LoadCost is what jobs cost when many are created at once: every request
// until the system is idle again, per job.
type LoadCost struct {
	Requests      float64 `json:"requests"`
	EmptyReceives float64 `json:"empty_receives"`
	Invocations   float64 `json:"worker_invocations"`
	// Operations are the requests per job by operation; the event source
	// mapping's are marked as Lambda's poller's.
	Operations map[string]float64 `json:"operations"`
}

// metered is a system that counts its requests to AWS.
type metered interface {
	resetMeters()
	// loadCost waits until the system is idle and divides what it asked
	// of AWS by jobs.
	loadCost(ctx context.Context, jobs int) (LoadCost, error)
}

func throughput(ctx context.Context, sys queueSystem, concurrency, jobs, submitters int) (Throughput, error) {
	m, isMetered := sys.(metered)
	if isMetered {
		m.resetMeters()
	}
	begin := time.Now()
	work := make(chan struct{})
	errs := make(chan error, submitters)
	var wg sync.WaitGroup
	for range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if _, err := sys.Submit(ctx, priorityNormal); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for range jobs {
			select {
			case work <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return Throughput{}, err
	}
	last, err := sys.AwaitAll(ctx, jobs)
	if err != nil {
		return Throughput{}, err
	}
	seconds := last.Sub(begin).Seconds()
	t := Throughput{Concurrency: concurrency, Jobs: jobs, Seconds: seconds, PerSecond: float64(jobs) / seconds}
	if isMetered {
		load, err := m.loadCost(ctx, jobs)
		if err != nil {
			return t, err
		}
		t.Load = &load
	}
	return t, nil
}

// UrgentLatency is how long an urgent job waits while a backlog of low jobs
// is queued.
type UrgentLatency struct {
	Backlog int         `json:"low_jobs_queued"`
	Pickup  Percentiles `json:"urgent_create_to_running"`
}

// urgentBehindBacklog queues backlog low jobs with the workers stopped,
// starts them, and then creates urgent jobs one at a time, each waiting
// for the one before to start, while the low jobs are still queued.
func urgentBehindBacklog(ctx context.Context, sys queueSystem, backlog, urgent, submitters int) (UrgentLatency, error) {
	if err := submitMany(ctx, sys, priorityLow, backlog, submitters); err != nil {
		return UrgentLatency{}, err
	}
	if err := sys.Start(ctx); err != nil {
		return UrgentLatency{}, err
	}
	var pickup []time.Duration
	for range urgent {
		created := time.Now()
		id, err := sys.Submit(ctx, priorityUrgent)
		if err != nil {
			return UrgentLatency{}, err
		}
		start, _, err := sys.Await(ctx, id)
		if err != nil {
			return UrgentLatency{}, err
		}
		pickup = append(pickup, start.Sub(created))
	}
	return UrgentLatency{Backlog: backlog, Pickup: percentiles(pickup)}, nil
}

func submitMany(ctx context.Context, sys queueSystem, p priority, n, submitters int) error {
	var wg sync.WaitGroup
	errs := make(chan error, submitters)
	for w := range submitters {
		count := n / submitters
		if w < n%submitters {
			count++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range count {
				if _, err := sys.Submit(ctx, p); err != nil {
					errs <- fmt.Errorf("%s: queue the backlog: %w", sys.Name(), err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// ours adapts our system to the flow measurements.
type ours struct{ *ourSystem }

func (o ours) Name() string { return "ours" }

var ourPriorities = map[priority]string{priorityNormal: "normal", priorityLow: "low", priorityUrgent: "urgent"}

func (o ours) Submit(ctx context.Context, p priority) (string, error) {
	return o.create(ctx, ourPriorities[p], `{"steps":0}`)
}

func (o ours) Start(ctx context.Context) error {
	o.ourSystem.Start(ctx)
	return nil
}

func (o ours) Await(ctx context.Context, id string) (time.Time, time.Time, error) {
	return o.tracker.wait(ctx, id)
}

func (o ours) resetMeters() {
	o.code.Reset()
	o.pollers.Reset()
	o.invocations.Store(0)
}

func (o ours) loadCost(ctx context.Context, jobs int) (LoadCost, error) {
	if err := o.idle(ctx); err != nil {
		return LoadCost{}, err
	}
	n := float64(jobs)
	load := LoadCost{Operations: map[string]float64{}}
	for i, usage := range []map[string]meter.Usage{o.code.Snapshot(), o.pollers.Snapshot()} {
		for op, u := range usage {
			if i == 1 {
				op += " (Lambda poller)"
			}
			perJob := float64(u.Requests) / n
			load.Operations[op] += perJob
			empty := strings.Contains(op, meter.EmptySuffix)
			if i == 1 && empty {
				// Lambda's pollers poll the wake queue whether jobs come or
				// not, and the local event source mapping polls far more
				// often than they do: not a cost of the jobs.
				continue
			}
			load.Requests += perJob
			if empty {
				load.EmptyReceives += perJob
			}
		}
	}
	load.Invocations = float64(o.invocations.Load()) / n
	return load, nil
}

func (o ours) AwaitAll(ctx context.Context, n int) (time.Time, error) {
	if err := o.tracker.waitCount(ctx, int64(n)); err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, o.tracker.last.Load()), nil
}
