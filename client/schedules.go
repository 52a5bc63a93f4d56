package client

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Schedule is a store's recurring schedule: each time it is due, it
// creates an ordinary job of its type, with its payload and priority, in
// the store's time zone.
type Schedule struct {
	ID       string          `json:"id"`
	StoreID  string          `json:"store_id"`
	Name     string          `json:"name,omitempty"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
	Priority Priority        `json:"priority"`
	// Cron is the schedule's 5-field expression, also for the simple ones
	// (Every with At), which it is derived from.
	Cron string `json:"cron"`
	// Every is "day" or "week" for a simple schedule, empty for a cron one;
	// At is its time of day (HH:MM) and Weekday its day of a week, such as
	// "monday".
	Every   string `json:"every,omitempty"`
	At      string `json:"at,omitempty"`
	Weekday string `json:"weekday,omitempty"`
	// TimeZone is the IANA zone whose wall clock the schedule follows.
	TimeZone string `json:"time_zone"`
	// Description is when it runs, in words: "every day at 02:30
	// (Europe/Berlin)".
	Description string `json:"description"`
	Enabled     bool   `json:"enabled"`
	// PausedReason says why a schedule disabled itself after failed runs;
	// enabling it again clears it.
	PausedReason        string `json:"paused_reason,omitempty"`
	ConsecutiveFailures int    `json:"consecutive_failures"`
	// NextRunAt is when it is next due; nil while it is disabled.
	NextRunAt *time.Time `json:"next_run_at,omitempty"`
	// LastRuns are its latest due times, newest first, at most 10.
	LastRuns  []ScheduleRun `json:"last_runs"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// The outcomes of a schedule's due time.
const (
	// RunStarted: the schedule created its job.
	RunStarted = "started"
	// RunSkipped: the store's job of the type was still active, so nothing
	// was created; ScheduleRun.JobID names that job.
	RunSkipped = "skipped"
	// RunCaughtUp: after an outage the schedule ran once for the latest of
	// the due times it missed.
	RunCaughtUp = "caught_up"
	// RunNow: someone ran the schedule by hand (RunSchedule).
	RunNow = "run_now"
)

// ScheduleRun is what happened at one due time of a schedule.
type ScheduleRun struct {
	DueAt     time.Time `json:"due_at"`
	HandledAt time.Time `json:"handled_at"`
	// Outcome is RunStarted, RunSkipped, RunCaughtUp or RunNow.
	Outcome string `json:"outcome"`
	// JobID is the job created, or for a skipped run the active job that
	// made it skip.
	JobID string `json:"job_id,omitempty"`
	// JobStatus is that job's status when the schedule was read; empty
	// once the job is gone.
	JobStatus Status `json:"job_status,omitempty"`
	Message   string `json:"message,omitempty"`
}

// ScheduleRequest is a schedule to create. It runs either on Cron, or
// Every "day" At a time, or Every "week" on a Weekday At a time.
type ScheduleRequest struct {
	// Type is a registered job type, such as "amazon:export:products";
	// system job types keep their own schedules and are refused.
	Type string `json:"type"`
	// StoreID is required with an operator token; a store token may leave
	// it empty (its own store).
	StoreID string `json:"store_id,omitempty"`
	// Name is a label of up to 100 characters.
	Name string `json:"name,omitempty"`
	// Payload is the job type's arguments, validated as a job's are.
	Payload any `json:"payload,omitempty"`
	// Priority of the jobs it creates; normal when empty.
	Priority Priority `json:"priority,omitempty"`
	// Cron is a 5-field expression such as "30 2 * * *", or a descriptor
	// such as "@daily".
	Cron string `json:"cron,omitempty"`
	// Every is "day" or "week"; At is the time of day (24-hour HH:MM) and
	// Weekday the day of a week ("monday"), for "week" only.
	Every   string `json:"every,omitempty"`
	At      string `json:"at,omitempty"`
	Weekday string `json:"weekday,omitempty"`
	// TimeZone is an IANA zone, such as "Europe/Berlin"; required.
	TimeZone string `json:"time_zone"`
	// Enabled defaults to true.
	Enabled *bool `json:"enabled,omitempty"`
}

// SchedulePatch changes a schedule: each field that is not nil. Giving
// Cron replaces a simple schedule's Every, At and Weekday, and giving
// Every replaces a cron expression.
type SchedulePatch struct {
	Name *string `json:"name,omitempty"`
	// Payload replaces the payload when not nil.
	Payload  any       `json:"payload,omitempty"`
	Priority *Priority `json:"priority,omitempty"`
	Cron     *string   `json:"cron,omitempty"`
	Every    *string   `json:"every,omitempty"`
	At       *string   `json:"at,omitempty"`
	Weekday  *string   `json:"weekday,omitempty"`
	TimeZone *string   `json:"time_zone,omitempty"`
	// Enabled false stops the schedule; true starts it again, clears why
	// it paused itself and its failure count, and plans its next run from
	// now.
	Enabled *bool `json:"enabled,omitempty"`
}

// The API's answers that carry schedules.
type (
	scheduleEnvelope struct {
		Schedule *Schedule `json:"schedule"`
	}
	scheduleList struct {
		Schedules []Schedule `json:"schedules"`
	}
)

const schedulesPath = "/api/schedules"

// CreateSchedule creates a recurring schedule. It is sent once: the server
// takes no Idempotency-Key for schedules, so a create sent again after a
// lost answer would make a second schedule.
func (c *Client) CreateSchedule(ctx context.Context, req ScheduleRequest) (*Schedule, error) {
	var out scheduleEnvelope
	_, err := c.do(ctx, request{method: http.MethodPost, path: schedulesPath, body: req}, &out)
	return out.Schedule, err
}

// Schedules lists schedules, by store and then by creation: a store
// token's own, or for an operator every store's unless storeID names one.
func (c *Client) Schedules(ctx context.Context, storeID string) ([]Schedule, error) {
	var out scheduleList
	_, err := c.do(ctx, request{method: http.MethodGet, path: schedulesPath, query: storeQuery(storeID), idempotent: true}, &out)
	return out.Schedules, err
}

// Schedule reads a schedule with its last runs. Another store's schedule
// is ErrNotFound; an operator reads any.
func (c *Client) Schedule(ctx context.Context, id string) (*Schedule, error) {
	var out scheduleEnvelope
	_, err := c.do(ctx, request{method: http.MethodGet, path: schedulesPath + "/" + escape(id), idempotent: true}, &out)
	return out.Schedule, err
}

// UpdateSchedule changes the fields of a schedule that patch sets, and
// returns it as it now is.
func (c *Client) UpdateSchedule(ctx context.Context, id string, patch SchedulePatch) (*Schedule, error) {
	var out scheduleEnvelope
	// A patch sets values, so applying it twice is applying it once.
	_, err := c.do(ctx, request{method: http.MethodPatch, path: schedulesPath + "/" + escape(id), body: patch, idempotent: true}, &out)
	return out.Schedule, err
}

// DeleteSchedule deletes a schedule and returns it as it was; the jobs it
// created stay. A delete retried after its first answer was lost finds
// the schedule gone and returns ErrNotFound.
func (c *Client) DeleteSchedule(ctx context.Context, id string) (*Schedule, error) {
	var out scheduleEnvelope
	_, err := c.do(ctx, request{method: http.MethodDelete, path: schedulesPath + "/" + escape(id), idempotent: true}, &out)
	return out.Schedule, err
}

// RunSchedule creates the schedule's job now, as if it were due, and
// leaves its next run as it was. A job of the store and type that is still
// active makes it fail with ErrJobAlreadyActive, naming that job. It is
// sent once: sent again, it would run the job a second time.
func (c *Client) RunSchedule(ctx context.Context, id string) (*Job, error) {
	var out jobEnvelope
	_, err := c.do(ctx, request{method: http.MethodPost, path: schedulesPath + "/" + escape(id) + "/run"}, &out)
	return out.Job, err
}
