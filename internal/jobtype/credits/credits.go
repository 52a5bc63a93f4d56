// Package credits is the system job system:daily_credit_deduction, created
// once a day by the schedules. The credits ledger belongs to the store
// platform, not to this service: the job asks the ledger to deduct one day's
// charges, page by page, and checkpoints after each page so a long run
// survives crashes, deploys and the Lambda time limit without charging any
// store twice.
//
// The ledger's protocol, which a platform implements to receive the job:
//
//	POST <JOBS_CREDITS_LEDGER_URL>
//	Authorization: Bearer <JOBS_CREDITS_LEDGER_TOKEN>
//	Idempotency-Key: daily-credit-deduction:<date>:<cursor>
//	{"date": "2026-11-29", "cursor": ""}
//
//	200 {"stores_charged": 100, "credits_deducted": 2500, "stores_total": 1200, "next_cursor": "..."}
//
// An empty next_cursor ends the run. The ledger must treat a repeated
// Idempotency-Key as a replay of the same page (answer as before, charge
// nothing): a page whose answer was lost is asked again. 429 and 503 are
// retried after the server's Retry-After; 401 and 403 fail at once as invalid
// credentials; other 4xx fail at once; 5xx and network errors retry on the
// schedule.
package credits

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
)

// Kind is the job type's name.
const Kind = "system:daily_credit_deduction"

// Args is the payload: the day whose charges are deducted.
type Args struct {
	Date string `json:"date"` // YYYY-MM-DD, UTC
}

// Kind names the job type.
func (Args) Kind() string { return Kind }

// Validate checks the date.
func (a Args) Validate() error {
	if _, err := time.Parse(time.DateOnly, a.Date); err != nil {
		return fmt.Errorf("date %q is not a day such as 2026-11-29", a.Date)
	}
	return nil
}

// Ledger is how the job reaches the platform's credits ledger.
type Ledger struct {
	URL    string
	Token  string
	Client *http.Client // nil: a client with a 30 s timeout
}

// Handler runs system:daily_credit_deduction.
type Handler struct{ Ledger Ledger }

// Result is what the job reports when it ends, and its checkpoint.
type Result struct {
	Date            string `json:"date"`
	Pages           int    `json:"pages"`
	StoresCharged   int    `json:"stores_charged"`
	CreditsDeducted int64  `json:"credits_deducted"`
	// Cursor is where the next page starts; only meaningful in a checkpoint.
	Cursor string `json:"cursor,omitempty"`
}

type pageRequest struct {
	Date   string `json:"date"`
	Cursor string `json:"cursor"`
}

type pageResponse struct {
	StoresCharged   int    `json:"stores_charged"`
	CreditsDeducted int64  `json:"credits_deducted"`
	StoresTotal     int    `json:"stores_total"`
	NextCursor      string `json:"next_cursor"`
}

// Run deducts the day's charges from where the last checkpoint left off.
func (h Handler) Run(ctx context.Context, rt jobtype.Runtime, args Args) (any, error) {
	state := Result{Date: args.Date}
	if resumed, err := rt.Resume(&state); err != nil {
		return nil, err
	} else if resumed {
		rt.Log(slog.LevelInfo, "resuming the deduction", slog.Int("pages_done", state.Pages), slog.String("cursor", state.Cursor))
	}
	for {
		page, err := h.deductPage(ctx, args.Date, state.Cursor)
		if err != nil {
			return nil, err
		}
		state.Pages++
		state.StoresCharged += page.StoresCharged
		state.CreditsDeducted += page.CreditsDeducted
		state.Cursor = page.NextCursor
		percent := 99
		if page.StoresTotal > 0 {
			percent = min(99, 100*state.StoresCharged/page.StoresTotal)
		}
		rt.Progress(percent, fmt.Sprintf("Deducting credits for %s: %d stores charged", args.Date, state.StoresCharged))
		if state.Cursor == "" {
			rt.Log(slog.LevelInfo, "deduction done", slog.Int("stores_charged", state.StoresCharged), slog.Int64("credits_deducted", state.CreditsDeducted))
			return state, nil
		}
		// The page is charged: a crash from here on must not ask for it again
		// under a new key.
		if err := rt.Checkpoint(state); err != nil {
			return nil, err
		}
	}
}

// deductPage asks the ledger for one page of the day's deduction.
func (h Handler) deductPage(ctx context.Context, date, cursor string) (pageResponse, error) {
	var page pageResponse
	body, err := json.Marshal(pageRequest{Date: date, Cursor: cursor})
	if err != nil {
		return page, jobtype.Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.Ledger.URL, bytes.NewReader(body))
	if err != nil {
		return page, jobtype.Permanent(fmt.Errorf("credits ledger request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+h.Ledger.Token)
	req.Header.Set("Idempotency-Key", "daily-credit-deduction:"+date+":"+cursor)
	client := h.Ledger.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return page, fmt.Errorf("credits ledger unreachable: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return page, fmt.Errorf("read the credits ledger's answer: %w", err)
	}
	if err := statusError(resp, data); err != nil {
		return page, err
	}
	if err := json.Unmarshal(data, &page); err != nil {
		return page, fmt.Errorf("the credits ledger's answer is not the expected JSON: %w", err)
	}
	return page, nil
}

// statusError says what an unsuccessful answer means for the job.
func statusError(resp *http.Response, body []byte) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err := fmt.Errorf("credits ledger answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		return jobtype.RateLimited(retryAfter(resp.Header.Get("Retry-After")), err)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return jobtype.Permanent(errors.Join(errors.New("invalid credentials for the credits ledger"), err))
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return jobtype.Permanent(err)
	}
	return err
}

// retryAfter reads a Retry-After header given in seconds; 0 means "use the
// retry schedule".
func retryAfter(v string) time.Duration {
	seconds, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || seconds < 0 {
		return 0
	}
	return time.Duration(seconds) * time.Second
}
