// Package credits is the system job system:daily_credit_deduction, created
// once a day by the schedules. The credits ledger belongs to the store
// platform, not to this service: the job asks the ledger to deduct one day's
// charges, page by page, and checkpoints after each page so a long run
// survives crashes, deploys and the Lambda time limit without charging any
// store twice. DebitError is shared with the job types that pay for their
// work on the same ledger.
//
// The ledger's protocol is documented in package ledger, whose client the
// job calls. Each page of the deduction is
//
//	POST <JOBS_CREDITS_LEDGER_URL>
//	Idempotency-Key: daily-credit-deduction:<date>:<cursor>
//	{"date": "2026-11-29", "cursor": ""}
//
// and an empty next_cursor in the answer ends the run. The ledger treats a
// repeated Idempotency-Key as a replay of the same page (answers as
// before, charges nothing): a page whose answer was lost is asked again.
// 429 and 503 are retried after the server's Retry-After; 401 and 403 fail
// at once as invalid credentials; other 4xx fail at once; 5xx and network
// errors retry on the schedule.
package credits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
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
		return jobtype.InvalidField("date", "date %q is not a day such as 2026-11-29", a.Date)
	}
	return nil
}

// Handler runs system:daily_credit_deduction.
type Handler struct{ Ledger *ledger.Client }

// Result is what the job reports when it ends, and its checkpoint.
type Result struct {
	Date            string `json:"date"`
	Pages           int    `json:"pages"`
	StoresCharged   int    `json:"stores_charged"`
	CreditsDeducted int64  `json:"credits_deducted"`
	// Cursor is where the next page starts; only meaningful in a checkpoint.
	Cursor string `json:"cursor,omitempty"`
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
		page, err := h.Ledger.DeductDay(ctx, args.Date, state.Cursor)
		if err != nil {
			return nil, jobError(err)
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

// jobError says what a failed page means for the job.
func jobError(err error) error {
	var unavailable *ledger.UnavailableError
	var refused *ledger.RefusedError
	var insufficient *ledger.InsufficientCreditsError
	switch {
	case errors.As(err, &unavailable):
		return jobtype.RateLimited(unavailable.RetryAfter, err)
	case errors.As(err, &refused) && refused.Unauthorized():
		return jobtype.Permanent(errors.Join(errors.New("invalid credentials for the credits ledger"), err))
	case errors.As(err, &refused), errors.As(err, &insufficient), errors.Is(err, ledger.ErrInvalidRequest):
		return jobtype.Permanent(err)
	}
	return err
}
