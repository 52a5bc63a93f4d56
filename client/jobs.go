package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Status is where a job is in its life.
type Status string

// The statuses, as the guide names them.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusRetrying  Status = "retrying"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Finished says whether the job has ended: completed, failed or cancelled.
func (s Status) Finished() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Priority decides which queue a job waits in; urgent jobs are taken first.
type Priority string

// The priorities, most urgent first.
const (
	PriorityUrgent Priority = "urgent"
	PriorityHigh   Priority = "high"
	PriorityNormal Priority = "normal"
	PriorityLow    Priority = "low"
)

// Job is a job as the API shows it. Credential fields of its payload and
// result read "[redacted]".
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
	CreatedAt       time.Time       `json:"created_at"`
	StartedAt       *time.Time      `json:"started_at"`
	FinishedAt      *time.Time      `json:"finished_at"`
	// NextAttemptAt is when a retrying job runs again.
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	// RunAt is when a delayed job may start.
	RunAt *time.Time `json:"run_at,omitempty"`
	Error string     `json:"error,omitempty"`
	// Result is what the job type returned (a failed job may have one too).
	Result            json.RawMessage `json:"result,omitempty"`
	CancelRequested   bool            `json:"cancel_requested,omitempty"`
	ProgressChangedAt *time.Time      `json:"progress_changed_at,omitempty"`
	// PausedAt is when a worker set the job aside because its type or the
	// queue was paused.
	PausedAt *time.Time `json:"paused_at,omitempty"`
}

// jobEnvelope and jobStatusEnvelope are the API's answers that carry one
// job.
type (
	jobEnvelope struct {
		Job *Job `json:"job"`
	}
	jobStatusEnvelope struct {
		Job *JobStatus `json:"job"`
	}
)

// JobStatus is the light view of a job that progress bars poll.
type JobStatus struct {
	ID              string     `json:"id"`
	Type            string     `json:"type"`
	Status          Status     `json:"status"`
	Progress        int        `json:"progress"`
	ProgressMessage string     `json:"progress_message"`
	Attempts        int        `json:"attempts,omitempty"`
	Error           string     `json:"error,omitempty"`
	NextAttemptAt   *time.Time `json:"next_attempt_at,omitempty"`
	PausedAt        *time.Time `json:"paused_at,omitempty"`
	// Waiting says why a job that is not running has not started.
	Waiting *Waiting `json:"waiting,omitempty"`
	// Estimate says when a running job should end.
	Estimate *Estimate `json:"estimate,omitempty"`
}

// Waiting is why a job has not started yet.
type Waiting struct {
	// Reason is one of scheduled, queue_paused, type_paused, rate_limited,
	// retry_scheduled, queued, workers_busy, starting.
	Reason string `json:"reason"`
	// Message is the reason in words, such as "3 jobs ahead of it (1
	// urgent, 2 normal)".
	Message             string           `json:"message"`
	JobsAhead           *int             `json:"jobs_ahead,omitempty"`
	JobsAheadByPriority map[Priority]int `json:"jobs_ahead_by_priority,omitempty"`
	// JobsAheadAtLeast says JobsAhead is a lower bound.
	JobsAheadAtLeast bool `json:"jobs_ahead_at_least,omitempty"`
	// Until is when a delayed job starts, or a scheduled retry is due.
	Until       *time.Time `json:"until,omitempty"`
	Marketplace string     `json:"marketplace,omitempty"`
}

// Estimate is when a running job should end, at the pace it has kept.
type Estimate struct {
	SecondsLeft *int       `json:"seconds_left,omitempty"`
	FinishAt    *time.Time `json:"finish_at,omitempty"`
	// Message is the estimate in words ("about 4 min left"), or why there
	// is none yet.
	Message string `json:"message"`
}

// CreateRequest is a job to create.
type CreateRequest struct {
	// Type is a registered job type, such as "amazon:export:products".
	Type string `json:"type"`
	// StoreID is required with an operator token; a store token may leave
	// it empty (its own store).
	StoreID string `json:"store_id,omitempty"`
	// Priority defaults to normal.
	Priority Priority `json:"priority,omitempty"`
	// Payload is the job type's arguments: anything that encodes to a JSON
	// object (a struct, a map, a json.RawMessage), or nil.
	Payload any `json:"payload,omitempty"`
	// RunAt delays the job until a time; RunIn by a duration in Go's
	// syntax, such as "90m" or "48h". At most one of them.
	RunAt *time.Time `json:"run_at,omitempty"`
	RunIn string     `json:"run_in,omitempty"`
	// IdempotencyKey makes the create safe to send again: the same key
	// with the same request answers the job it created. Empty, the client
	// makes one for this call and its retries.
	IdempotencyKey string `json:"-"`
}

// Create creates a job. A job of the same store and type that is still
// active makes it fail with ErrJobAlreadyActive, naming that job.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*Job, error) {
	key := req.IdempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	}
	var out jobEnvelope
	_, err := c.do(ctx, request{
		method: http.MethodPost, path: "/api/background-jobs", body: req,
		header: http.Header{"Idempotency-Key": {key}}, idempotent: true,
	}, &out)
	return out.Job, err
}

// Get reads a job with its payload and result.
func (c *Client) Get(ctx context.Context, id string) (*Job, error) {
	var out jobEnvelope
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/" + escape(id), idempotent: true}, &out)
	return out.Job, err
}

// Status reads a job's progress, why it waits, and when it should end.
func (c *Client) Status(ctx context.Context, id string) (*JobStatus, error) {
	var out jobStatusEnvelope
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/" + escape(id) + "/status", idempotent: true}, &out)
	return out.Job, err
}

// Cancel asks for a job to stop. A pending or retrying job is cancelled at
// once; a running one stops at its next checkpoint (CancelRequested).
func (c *Client) Cancel(ctx context.Context, id string) (*Job, error) {
	var out jobEnvelope
	// Cancelling twice is cancelling once.
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/api/background-jobs/" + escape(id) + "/cancel", idempotent: true}, &out)
	return out.Job, err
}

// RetryOptions are the options of Retry.
type RetryOptions struct {
	// FromStart discards the checkpoint and progress.
	FromStart bool `json:"from_start,omitempty"`
}

// Retry runs a failed or cancelled job again, from its last checkpoint
// unless FromStart. It is sent once: a second retry would run the job a
// second time.
func (c *Client) Retry(ctx context.Context, id string, opts RetryOptions) (*Job, error) {
	var out jobEnvelope
	_, err := c.do(ctx, request{method: http.MethodPost, path: "/api/background-jobs/" + escape(id) + "/retry", body: opts}, &out)
	return out.Job, err
}

// ListOptions filter and page the job listing.
type ListOptions struct {
	// StoreID filters an operator's listing to one store; a store token
	// always lists its own.
	StoreID string
	Type    string
	// Status keeps jobs of any of these statuses.
	Status []Status
	// From and To bound the creation time (or, ordered by finished, the
	// finish time).
	From, To time.Time
	// Order is "created" (the default, newest first) or "finished".
	Order string
	// Limit is the page size (the server's default when zero).
	Limit int
	// Cursor is the page to read, from JobPage.NextCursor.
	Cursor string
}

func (o ListOptions) query() url.Values {
	q := storeQuery(o.StoreID)
	set := func(name, value string) {
		if value != "" {
			q.Set(name, value)
		}
	}
	set("type", o.Type)
	statuses := make([]string, len(o.Status))
	for i, s := range o.Status {
		statuses[i] = string(s)
	}
	set("status", strings.Join(statuses, ","))
	if !o.From.IsZero() {
		q.Set("from", o.From.UTC().Format(time.RFC3339))
	}
	if !o.To.IsZero() {
		q.Set("to", o.To.UTC().Format(time.RFC3339))
	}
	set("order", o.Order)
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	set("cursor", o.Cursor)
	return q
}

// JobPage is one page of the job listing.
type JobPage struct {
	Jobs []Job `json:"jobs"`
	// NextCursor reads the next page; empty on the last.
	NextCursor string `json:"next_cursor"`
}

// ListPage reads one page of jobs.
func (c *Client) ListPage(ctx context.Context, opts ListOptions) (*JobPage, error) {
	var out JobPage
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs", query: opts.query(), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// List yields every job that opts selects, reading page after page as the
// loop goes on; it stops at the first error, which it yields.
//
//	for job, err := range c.List(ctx, client.ListOptions{Status: []client.Status{client.StatusFailed}}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(job.ID, job.Error)
//	}
func (c *Client) List(ctx context.Context, opts ListOptions) iter.Seq2[Job, error] {
	return pages(ctx, opts.Cursor, func(cursor string) ([]Job, string, error) {
		opts.Cursor = cursor
		page, err := c.ListPage(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		return page.Jobs, page.NextCursor, nil
	})
}

// pages walks a cursor-paged listing.
func pages[T any](ctx context.Context, cursor string, read func(cursor string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			items, next, err := read(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			if next == "" || ctx.Err() != nil {
				return
			}
			cursor = next
		}
	}
}

// LogEntry is one line of a job's log.
type LogEntry struct {
	At time.Time `json:"at"`
	// Level is debug, info, warn or error.
	Level string `json:"level"`
	// Event is the lifecycle event, for lines the system wrote.
	Event   string            `json:"event,omitempty"`
	Message string            `json:"message"`
	Attempt int               `json:"attempt"`
	Worker  string            `json:"worker,omitempty"`
	Attrs   map[string]string `json:"attrs,omitempty"`
}

// LogOptions filter and page a job's log.
type LogOptions struct {
	// Level is the lowest level shown: debug, info, warn or error; empty
	// shows every level.
	Level  string
	Limit  int
	Cursor string
}

// LogPage is one page of a job's log, oldest first.
type LogPage struct {
	Entries []LogEntry `json:"entries"`
	// NextCursor reads on; on the last page it is empty.
	NextCursor string `json:"next_cursor"`
}

// Logs reads a page of a job's log.
func (c *Client) Logs(ctx context.Context, id string, opts LogOptions) (*LogPage, error) {
	q := url.Values{}
	if opts.Level != "" {
		q.Set("level", opts.Level)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var out LogPage
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/" + escape(id) + "/logs", query: q, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
