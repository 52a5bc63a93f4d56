package client

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// QueueStatus is the queue as the guide's "queue status" shows it.
type QueueStatus struct {
	Status struct {
		// IsRunning is false while the whole queue is paused.
		IsRunning           bool     `json:"is_running"`
		CurrentlyProcessing int      `json:"currently_processing"`
		MaxConcurrentJobs   int      `json:"max_concurrent_jobs"`
		PausedTypes         []string `json:"paused_types,omitempty"`
	} `json:"status"`
	Statistics struct {
		Total     int `json:"total"`
		Completed int `json:"completed"`
		Failed    int `json:"failed"`
		Pending   int `json:"pending"`
		Running   int `json:"running"`
		Retrying  int `json:"retrying,omitempty"`
		Cancelled int `json:"cancelled,omitempty"`
		// SuccessRate reads like "97.50%".
		SuccessRate string `json:"success_rate"`
	} `json:"statistics"`
	Health struct {
		SuccessRate struct {
			Percent float64 `json:"percent"`
			// Rating is excellent, good, poor or no_data.
			Rating string `json:"rating"`
		} `json:"success_rate"`
		QueueDepth struct {
			Pending int `json:"pending"`
			// Rating is healthy, busy or high_load.
			Rating     string `json:"rating"`
			ByPriority *struct {
				Urgent PriorityQueue `json:"urgent"`
				High   PriorityQueue `json:"high"`
				Normal PriorityQueue `json:"normal"`
				Low    PriorityQueue `json:"low"`
			} `json:"by_priority,omitempty"`
		} `json:"queue_depth"`
	} `json:"health"`
}

// PriorityQueue is one priority's queue of messages.
type PriorityQueue struct {
	Waiting  int `json:"waiting"`
	InFlight int `json:"in_flight"`
	Delayed  int `json:"delayed"`
}

// QueueStatus reads the queue's state, statistics and health: a store
// token sees its own store's statistics; an operator sees every store's,
// or storeID's.
func (c *Client) QueueStatus(ctx context.Context, storeID string) (*QueueStatus, error) {
	var out QueueStatus
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/status", query: storeQuery(storeID), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Pauses are what is paused.
type Pauses struct {
	Paused      bool     `json:"paused"`
	PausedTypes []string `json:"paused_types"`
}

// Pause stops workers from starting jobs (operators only): of jobType, or
// of every type when it is empty. Running jobs stop at their next
// checkpoint and go on once resumed.
func (c *Client) Pause(ctx context.Context, jobType string) (*Pauses, error) {
	return c.pause(ctx, "/api/background-jobs/pause", jobType)
}

// Resume ends a pause (operators only): of jobType, or of the whole queue
// when it is empty.
func (c *Client) Resume(ctx context.Context, jobType string) (*Pauses, error) {
	return c.pause(ctx, "/api/background-jobs/resume", jobType)
}

// pauseRequest names the type to pause or resume; none is the whole queue.
type pauseRequest struct {
	Type string `json:"type,omitempty"`
}

func (c *Client) pause(ctx context.Context, path, jobType string) (*Pauses, error) {
	body := pauseRequest{jobType}
	var out Pauses
	// Pausing what is paused changes nothing, so both may be retried.
	_, err := c.do(ctx, request{method: http.MethodPost, path: path, body: body, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeadLetters are the messages the queues gave up on.
type DeadLetters struct {
	Count    int `json:"count"`
	Messages []struct {
		JobID  string    `json:"job_id,omitempty"`
		Reason string    `json:"reason"`
		Body   string    `json:"body"`
		SentAt time.Time `json:"sent_at"`
	} `json:"messages"`
}

// DeadLetters reads the dead-letter queue without taking its messages
// (operators only).
func (c *Client) DeadLetters(ctx context.Context) (*DeadLetters, error) {
	var out DeadLetters
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/dead-letters", idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// MetricsOptions choose the metrics.
type MetricsOptions struct {
	// Days back from today (the server's default when zero).
	Days    int
	StoreID string
	Type    string
}

// Metrics are the job counts and timings per day and per type.
type Metrics struct {
	Days    int          `json:"days"`
	StoreID string       `json:"store_id"`
	Type    string       `json:"type"`
	Series  []MetricsRow `json:"series"`
	ByType  []MetricsRow `json:"by_type"`
}

// MetricsRow is one day's (Series) or one type's (ByType) numbers.
type MetricsRow struct {
	Date      string `json:"date,omitempty"`
	Type      string `json:"type"`
	Created   int    `json:"created"`
	Completed int    `json:"completed"`
	Failed    int    `json:"failed"`
	Cancelled int    `json:"cancelled"`
	Retried   int    `json:"retried"`
	// SuccessRate is a percentage, nil before anything finished.
	SuccessRate *float64    `json:"success_rate"`
	RunTimeMS   Percentiles `json:"run_time_ms"`
	QueueWaitMS Percentiles `json:"queue_wait_ms"`
}

// Percentiles of a duration in milliseconds.
type Percentiles struct {
	Count int `json:"count"`
	P50   int `json:"p50"`
	P95   int `json:"p95"`
}

// Metrics reads the job metrics.
func (c *Client) Metrics(ctx context.Context, opts MetricsOptions) (*Metrics, error) {
	q := storeQuery(opts.StoreID)
	if opts.Days > 0 {
		q.Set("days", strconv.Itoa(opts.Days))
	}
	if opts.Type != "" {
		q.Set("type", opts.Type)
	}
	var out Metrics
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/metrics", query: q, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Alerts are the queue's alerts and its failures grouped by cause.
type Alerts struct {
	Open          []Alert        `json:"open"`
	Resolved      []Alert        `json:"resolved"`
	FailureGroups []FailureGroup `json:"failure_groups"`
}

// Alert is one alert rule that fired.
type Alert struct {
	Key string `json:"key"`
	// Kind is failure_rate, stuck_job, dead_letters or high_load.
	Kind       string     `json:"kind"`
	Subject    string     `json:"subject"`
	Message    string     `json:"message"`
	Value      float64    `json:"value"`
	Status     string     `json:"status"`
	OpenedAt   time.Time  `json:"opened_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// FailureGroup counts one day's failures of a type with the same cause.
type FailureGroup struct {
	Date    string    `json:"date"`
	Type    string    `json:"type"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Count   int       `json:"count"`
	LastAt  time.Time `json:"last_at"`
}

// Alerts reads the open and recently resolved alerts.
func (c *Client) Alerts(ctx context.Context) (*Alerts, error) {
	var out Alerts
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/alerts", idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Healthz checks that the API answers.
func (c *Client) Healthz(ctx context.Context) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/healthz", idempotent: true}, nil)
	return err
}

// OpenAPI reads the API's OpenAPI document.
func (c *Client) OpenAPI(ctx context.Context) (map[string]any, error) {
	var out map[string]any
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/background-jobs/openapi.json", idempotent: true}, &out)
	return out, err
}
