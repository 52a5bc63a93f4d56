// Package job is the domain of the queue: what a job is, its statuses,
// priorities and the transitions allowed between statuses. It has no I/O.
package job

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is where a job is in its life.
type Status string

const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusRetrying  Status = "retrying"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status, in the order the API reports them.
var Statuses = []Status{StatusPending, StatusRunning, StatusRetrying, StatusCompleted, StatusFailed, StatusCancelled}

// Terminal reports whether a job in this status will never run again on its own.
func (s Status) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, known := range Statuses {
		if s == known {
			return true
		}
	}
	return false
}

// CanTransition reports whether a job may move from one status to another.
// It is the single source of truth for the state machine; the store writes
// every transition conditionally on the status it read, so this table and
// the database cannot disagree.
//
//	pending  → running (claimed) | cancelled | failed (its type cannot run here)
//	running  → running (taken over after a lost lease, or continued after a deadline)
//	         | completed | failed | retrying | cancelled
//	retrying → running (next attempt) | cancelled | failed (its type cannot run here)
//	failed, cancelled → pending (retried by a user)
//	completed → nothing
func CanTransition(from, to Status) bool {
	switch from {
	case StatusPending, StatusRetrying:
		return to == StatusRunning || to == StatusCancelled || to == StatusFailed
	case StatusRunning:
		switch to {
		case StatusRunning, StatusCompleted, StatusFailed, StatusRetrying, StatusCancelled:
			return true
		}
	case StatusFailed, StatusCancelled:
		return to == StatusPending
	}
	return false
}

// PlatformStore is the store id of system jobs: the platform's own work,
// created by its schedules, not by a merchant's store.
const PlatformStore = "platform"

// Priority orders jobs: a lower number runs first.
type Priority int

const (
	PriorityUrgent Priority = 1
	PriorityHigh   Priority = 2
	PriorityNormal Priority = 3
	PriorityLow    Priority = 10
)

// Priorities lists every priority, most urgent first: the order in which
// workers look for work.
var Priorities = []Priority{PriorityUrgent, PriorityHigh, PriorityNormal, PriorityLow}

var priorityNames = map[Priority]string{
	PriorityUrgent: "urgent",
	PriorityHigh:   "high",
	PriorityNormal: "normal",
	PriorityLow:    "low",
}

// String returns the priority's name, such as "normal".
func (p Priority) String() string {
	if name, ok := priorityNames[p]; ok {
		return name
	}
	return strconv.Itoa(int(p))
}

// Valid reports whether p is one of the four priorities.
func (p Priority) Valid() bool {
	_, ok := priorityNames[p]
	return ok
}

// ParsePriority accepts a priority's name ("urgent") or number ("1").
func ParsePriority(s string) (Priority, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	for p, name := range priorityNames {
		if s == name {
			return p, nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && Priority(n).Valid() {
		return Priority(n), nil
	}
	return 0, fmt.Errorf("priority %q is not one of urgent (1), high (2), normal (3), low (10)", s)
}

// UnmarshalJSON accepts a name or a number, so clients may send either.
func (p *Priority) UnmarshalJSON(data []byte) error {
	var raw any
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	var text string
	switch v := raw.(type) {
	case string:
		text = v
	case float64:
		if v != float64(int(v)) {
			return fmt.Errorf("priority %v is not one of urgent (1), high (2), normal (3), low (10)", v)
		}
		text = strconv.Itoa(int(v))
	default:
		return fmt.Errorf("priority must be a name or a number")
	}
	parsed, err := ParsePriority(text)
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}

// MarshalJSON writes the priority's name; PriorityLevel carries the number.
func (p Priority) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// Job is one unit of background work and everything known about its run.
type Job struct {
	ID              string          `json:"id"`
	StoreID         string          `json:"store_id"`
	Type            string          `json:"type"`
	Status          Status          `json:"status"`
	Priority        Priority        `json:"priority"`
	PriorityLevel   int             `json:"priority_level"`
	Payload         json.RawMessage `json:"payload"`
	Progress        int             `json:"progress"`
	ProgressMessage string          `json:"progress_message"`
	Attempts        int             `json:"attempts"`
	MaxAttempts     int             `json:"max_attempts"`
	CreatedAt       Time            `json:"created_at"`
	StartedAt       *Time           `json:"started_at"`
	FinishedAt      *Time           `json:"finished_at"`
	NextAttemptAt   *Time           `json:"next_attempt_at,omitempty"`
	// RunAt is when a delayed job may start: it is pending, and no worker
	// takes it, before then.
	RunAt *Time `json:"run_at,omitempty"`
	// ProgressChangedAt is when the progress last moved.
	ProgressChangedAt *Time `json:"progress_changed_at,omitempty"`
	// PausedAt is when a worker set the job aside because its type (or the
	// queue) was paused; it waits, without a message, until the pause ends.
	PausedAt        *Time           `json:"paused_at,omitempty"`
	Error           string          `json:"error,omitempty"`
	Result          json.RawMessage `json:"result,omitempty"`
	CancelRequested bool            `json:"cancel_requested,omitempty"`

	// Fields the worker uses and the API does not show.
	Checkpoint json.RawMessage `json:"-"`
	// RetryDelays is the retry schedule the job was created with: it keeps
	// it whatever the configuration says later. Empty on jobs saved before
	// jobs kept their schedule.
	RetryDelays []time.Duration `json:"-"`
	// ReadyAt is when the job last became ready to run (created, retried,
	// due for its next attempt, handed on, resumed after a pause): the
	// starvation guard measures its wait from there.
	ReadyAt        *Time     `json:"-"`
	LeaseToken     string    `json:"-"`
	LeaseExpiresAt time.Time `json:"-"`
	Continuation   bool      `json:"-"`
	Version        int64     `json:"-"`
	// ExpiresAt is when a finished job is deleted; zero while it is active.
	ExpiresAt time.Time `json:"-"`
}

// TimeLayout is RFC 3339 with milliseconds, in UTC, as every time in the API.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time marshals as RFC 3339 with milliseconds.
type Time struct{ time.Time }

// NewTime truncates t to milliseconds, the precision the API shows.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Millisecond)} }

// Ptr returns a pointer to NewTime(t).
func TimePtr(t time.Time) *Time { v := NewTime(t); return &v }

// String formats the time as the API does.
func (t Time) String() string { return t.UTC().Format(TimeLayout) }

func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

func (t *Time) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	parsed, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = parsed.UTC()
	return nil
}
