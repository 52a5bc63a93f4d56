package worker

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/queue"
)

// The worker's own tests run against these in-memory stand-ins of the job
// table and the queues, so that every decision and outcome is checked in
// milliseconds; the system tests run the same worker against the
// emulators. The stand-ins keep the rules the worker relies on: writes are
// fenced (a lease token, or the version read), every transition follows
// job.CanTransition, and a hidden message comes back when its visibility
// ends on the shared clock.

// memoryJobs is the job table's stand-in.
type memoryJobs struct {
	mu     sync.Mutex
	clock  clock.Clock
	jobs   map[string]*job.Job
	pauses jobtable.Pauses
	// logs is every log line written, by job; keyed by ID, so a line
	// written twice would show as two only if it got two IDs.
	logs map[string][]jobtable.LogEntry
	// outcomes are the Finish calls that were written, in order.
	outcomes []jobtable.Outcome
	// progress is every progress percent SaveProgress wrote, in order.
	progress []int
	// leaseWrites counts the writes that extended the lease.
	leaseWrites int

	// Hooks a test sets to inject faults or hold a write.
	beforeSave func(p jobtable.Progress) error
	appendLogs func(entries []jobtable.LogEntry) (written int, err error)
	// beforeClaim runs before a claim is checked, as another actor would.
	beforeClaim func()
}

var _ JobTable = (*memoryJobs)(nil)

func newMemoryJobs(c clock.Clock) *memoryJobs {
	return &memoryJobs{clock: c, jobs: map[string]*job.Job{}, logs: map[string][]jobtable.LogEntry{}, pauses: jobtable.Pauses{Types: map[string]bool{}}}
}

func copyJob(j *job.Job) *job.Job {
	c := *j
	return &c
}

// put stores a job as it is.
func (m *memoryJobs) put(j *job.Job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[j.ID] = copyJob(j)
}

// job reads a stored job.
func (m *memoryJobs) job(id string) *job.Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	return copyJob(m.jobs[id])
}

func (m *memoryJobs) update(id string, change func(j *job.Job)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	change(m.jobs[id])
}

func (m *memoryJobs) Get(_ context.Context, id string) (*job.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return nil, jobtable.ErrNotFound
	}
	return copyJob(j), nil
}

func (m *memoryJobs) Pauses(context.Context) (jobtable.Pauses, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pauses, nil
}

// fenced reports whether a writer holding j may write the stored job: a
// worker by its lease token, anyone else by the version it read.
func fenced(stored, j *job.Job) bool {
	if j.LeaseToken != "" {
		return stored.LeaseToken == j.LeaseToken && stored.Status == job.StatusRunning
	}
	return stored.Version == j.Version
}

func (m *memoryJobs) transition(stored *job.Job, to job.Status, event jobtable.LogEntry) error {
	if !job.CanTransition(stored.Status, to) {
		return fmt.Errorf("job %s cannot go from %s to %s", stored.ID, stored.Status, to)
	}
	stored.Status = to
	stored.Version++
	if to.Terminal() {
		stored.LeaseToken, stored.LeaseExpiresAt, stored.PausedAt, stored.NextAttemptAt = "", time.Time{}, nil, nil
		stored.FinishedAt = job.TimePtr(m.clock.Now())
	}
	if event.Message != "" {
		m.logs[stored.ID] = append(m.logs[stored.ID], event)
	}
	return nil
}

func (m *memoryJobs) Claim(_ context.Context, j *job.Job, lease jobtable.Lease, _ time.Duration, event jobtable.LogEntry) (*job.Job, error) {
	if m.beforeClaim != nil {
		m.beforeClaim()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.jobs[j.ID]
	if stored.Version != j.Version || stored.Status != j.Status {
		return nil, jobtable.ErrStale
	}
	if !stored.Continuation {
		stored.Attempts++
	}
	if err := m.transition(stored, job.StatusRunning, event); err != nil {
		return nil, err
	}
	stored.LeaseToken, stored.LeaseExpiresAt = lease.Token, lease.ExpiresAt
	stored.Continuation, stored.NextAttemptAt, stored.PausedAt = false, nil, nil
	if stored.StartedAt == nil {
		stored.StartedAt = job.TimePtr(m.clock.Now())
	}
	return copyJob(stored), nil
}

func (m *memoryJobs) SaveProgress(_ context.Context, id string, lease jobtable.Lease, p jobtable.Progress, _ time.Duration) (bool, error) {
	if m.beforeSave != nil {
		if err := m.beforeSave(p); err != nil {
			return false, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.jobs[id]
	if stored.Status != job.StatusRunning || stored.LeaseToken != lease.Token {
		return false, jobtable.ErrStale
	}
	stored.Progress, stored.ProgressMessage = p.Percent, p.Message
	m.progress = append(m.progress, p.Percent)
	if p.Checkpoint != nil {
		stored.Checkpoint = p.Checkpoint
	}
	if !lease.ExpiresAt.IsZero() {
		stored.LeaseExpiresAt = lease.ExpiresAt
		m.leaseWrites++
	}
	return stored.CancelRequested, nil
}

func (m *memoryJobs) AppendLogs(_ context.Context, jobID string, entries []jobtable.LogEntry) (int, error) {
	written, err := len(entries), error(nil)
	if m.appendLogs != nil {
		written, err = m.appendLogs(entries)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries[:written] {
		// A line written again under its ID overwrites itself.
		lines := m.logs[jobID]
		if i := slices.IndexFunc(lines, func(l jobtable.LogEntry) bool { return e.ID != "" && l.ID == e.ID }); i >= 0 {
			lines[i] = e
			continue
		}
		m.logs[jobID] = append(lines, e)
	}
	return written, err
}

func (m *memoryJobs) Finish(_ context.Context, j *job.Job, o jobtable.Outcome) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.jobs[j.ID]
	if !fenced(stored, j) || stored.Status != j.Status {
		return jobtable.ErrStale
	}
	if err := m.transition(stored, o.Status, o.Event); err != nil {
		return err
	}
	stored.Progress, stored.ProgressMessage = o.Progress.Percent, o.Progress.Message
	stored.Error, stored.Result = o.Error, o.Result
	if o.Progress.Checkpoint != nil {
		stored.Checkpoint = o.Progress.Checkpoint
	}
	if o.Status == job.StatusRetrying {
		stored.NextAttemptAt = job.TimePtr(o.NextAttemptAt)
		stored.ReadyAt = job.TimePtr(o.NextAttemptAt)
		stored.LeaseToken, stored.LeaseExpiresAt = "", time.Time{}
	}
	m.outcomes = append(m.outcomes, o)
	return nil
}

func (m *memoryJobs) Release(_ context.Context, j *job.Job, p jobtable.Progress, _ time.Duration, event jobtable.LogEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.jobs[j.ID]
	if !fenced(stored, j) {
		return jobtable.ErrStale
	}
	if err := m.transition(stored, job.StatusRunning, event); err != nil {
		return err
	}
	stored.Progress, stored.ProgressMessage, stored.Continuation = p.Percent, p.Message, true
	stored.LeaseToken, stored.LeaseExpiresAt = "", time.Time{}
	if p.Checkpoint != nil {
		stored.Checkpoint = p.Checkpoint
	}
	return nil
}

func (m *memoryJobs) Park(_ context.Context, j *job.Job, event jobtable.LogEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.jobs[j.ID]
	if stored.Version != j.Version {
		return jobtable.ErrStale
	}
	stored.PausedAt = job.TimePtr(m.clock.Now())
	stored.Version++
	m.logs[j.ID] = append(m.logs[j.ID], event)
	return nil
}

// memoryQueues is the queues' stand-in: messages by priority, hidden until
// a time on the shared clock.
type memoryQueues struct {
	mu       sync.Mutex
	clock    clock.Clock
	messages []*memoryMessage
	receipts int
	// deadLetters are the reasons messages were dead-lettered for.
	deadLetters []string
	// wakes are the delays of the wakes sent.
	wakes []time.Duration
	// dropped counts the calls to drop stale wakes.
	dropped int
}

type memoryMessage struct {
	jobID, body string
	priority    job.Priority
	sentAt      time.Time
	hiddenUntil time.Time
	receipt     string
	receives    int
}

var _ Queues = (*memoryQueues)(nil)

func newMemoryQueues(c clock.Clock) *memoryQueues { return &memoryQueues{clock: c} }

// send puts a raw message on a priority's queue.
func (q *memoryQueues) send(p job.Priority, body string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	id, _ := queue.ParseJobMessage(body)
	q.messages = append(q.messages, &memoryMessage{jobID: id, body: body, priority: p, sentAt: q.clock.Now()})
}

// held lists the messages still in the queues, visible or not.
func (q *memoryQueues) held() []*memoryMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.messages)
}

func (q *memoryQueues) Receive(_ context.Context, p job.Priority, visibility, _ time.Duration) (*queue.Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for _, m := range q.messages {
		if m.priority != p || m.hiddenUntil.After(now) {
			continue
		}
		q.receipts++
		m.receipt = fmt.Sprint("receipt-", q.receipts)
		m.receives++
		m.hiddenUntil = now.Add(visibility)
		return &queue.Message{JobID: m.jobID, Priority: p, Body: m.body, ReceiptHandle: m.receipt, ReceiveCount: m.receives, SentAt: m.sentAt}, nil
	}
	return nil, nil
}

func (q *memoryQueues) find(msg *queue.Message) int {
	return slices.IndexFunc(q.messages, func(m *memoryMessage) bool { return m.receipt == msg.ReceiptHandle })
}

func (q *memoryQueues) Delete(_ context.Context, msg *queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := q.find(msg); i >= 0 {
		q.messages = slices.Delete(q.messages, i, i+1)
	}
	return nil
}

func (q *memoryQueues) SetVisibility(_ context.Context, msg *queue.Message, d time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := q.find(msg); i >= 0 {
		q.messages[i].hiddenUntil = q.clock.Now().Add(d)
	}
	return nil
}

func (q *memoryQueues) DeadLetter(ctx context.Context, msg *queue.Message, reason string) error {
	q.mu.Lock()
	q.deadLetters = append(q.deadLetters, reason)
	q.mu.Unlock()
	return q.Delete(ctx, msg)
}

func (q *memoryQueues) Enqueue(_ context.Context, j *job.Job) error {
	q.send(j.Priority, fmt.Sprintf(`{"job_id":%q}`, j.ID))
	return nil
}

func (q *memoryQueues) Wake(_ context.Context, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.wakes = append(q.wakes, delay)
	return nil
}

func (q *memoryQueues) DropStaleWakes(context.Context, time.Time) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.dropped++
	return 0, nil
}
