package credits_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/ledger"
	"github.com/dainostore/jobs/internal/sandbox/ledgerfake"
)

const token = "ledger-secret"

// runtime records the checkpoints and resumes from resume, when set.
type runtime struct {
	jobtype.Runtime
	resume      *credits.Result
	checkpoints []credits.Result
}

func (r *runtime) Resume(state any) (bool, error) {
	if r.resume == nil {
		return false, nil
	}
	*state.(*credits.Result) = *r.resume
	return true, nil
}

func (r *runtime) Checkpoint(state any) error {
	r.checkpoints = append(r.checkpoints, state.(credits.Result))
	return nil
}

func (*runtime) Progress(int, string)                 {}
func (*runtime) Log(slog.Level, string, ...slog.Attr) {}

type testBundle struct {
	fake    *ledgerfake.Server
	handler credits.Handler
}

// setup serves a ledger of five stores with 10 credits each, charged 2 a
// day, two stores a page.
func setup(t *testing.T) *testBundle {
	t.Helper()
	fake := ledgerfake.New(ledgerfake.Options{Token: token, DailyCharge: 2, PageSize: 2})
	for i := 1; i <= 5; i++ {
		fake.SetBalance(fmt.Sprintf("store-%d", i), 10)
	}
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &testBundle{fake: fake, handler: credits.Handler{Ledger: &ledger.Client{URL: server.URL, Token: token}}}
}

func TestRunDeductsEveryPageAndCheckpointsBetween(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rt := &runtime{}

	result, err := b.handler.Run(context.Background(), rt, credits.Args{Date: "2026-11-29"})

	if err != nil {
		t.Fatal(err)
	}
	if want := (credits.Result{Date: "2026-11-29", Pages: 3, StoresCharged: 5, CreditsDeducted: 10}); result != want {
		t.Errorf("result = %+v, want %+v", result, want)
	}
	wantCheckpoints := []credits.Result{
		{Date: "2026-11-29", Pages: 1, StoresCharged: 2, CreditsDeducted: 4, Cursor: "store-2"},
		{Date: "2026-11-29", Pages: 2, StoresCharged: 4, CreditsDeducted: 8, Cursor: "store-4"},
	}
	if fmt.Sprint(rt.checkpoints) != fmt.Sprint(wantCheckpoints) {
		t.Errorf("checkpoints = %+v, want %+v", rt.checkpoints, wantCheckpoints)
	}
	for store, balance := range b.fake.Balances() {
		if balance != 8 {
			t.Errorf("balance of %s = %d, want 8", store, balance)
		}
	}
}

// A run that resumes asks only for the pages after its checkpoint.
func TestRunResumesAfterItsCheckpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rt := &runtime{resume: &credits.Result{Date: "2026-11-29", Pages: 1, StoresCharged: 2, CreditsDeducted: 4, Cursor: "store-2"}}

	result, err := b.handler.Run(context.Background(), rt, credits.Args{Date: "2026-11-29"})

	if err != nil {
		t.Fatal(err)
	}
	if want := (credits.Result{Date: "2026-11-29", Pages: 3, StoresCharged: 5, CreditsDeducted: 10}); result != want {
		t.Errorf("result = %+v, want %+v", result, want)
	}
	if c := b.fake.Counters(); c.DeductionRequests != 2 {
		t.Errorf("deduction requests = %d, want 2 (pages 2 and 3)", c.DeductionRequests)
	}
	if got := b.fake.Balance("store-1"); got != 10 {
		t.Errorf("balance of store-1 = %d, want 10: its page was done before the checkpoint", got)
	}
}

// What the ledger answers decides how the job retries, as the package doc
// says.
func TestLedgerErrorsDecideTheRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		retryAfter string
		check      func(error) bool
	}{
		{"503 waits for Retry-After", http.StatusServiceUnavailable, "7", func(err error) bool {
			var limited *jobtype.RateLimitedError
			return errors.As(err, &limited) && limited.RetryAfter == 7*time.Second
		}},
		{"429 waits for Retry-After", http.StatusTooManyRequests, "3", func(err error) bool {
			var limited *jobtype.RateLimitedError
			return errors.As(err, &limited) && limited.RetryAfter == 3*time.Second
		}},
		{"401 is invalid credentials", http.StatusUnauthorized, "", func(err error) bool {
			var permanent *jobtype.PermanentError
			return errors.As(err, &permanent) && strings.Contains(err.Error(), "invalid credentials for the credits ledger")
		}},
		{"403 is invalid credentials", http.StatusForbidden, "", func(err error) bool {
			var permanent *jobtype.PermanentError
			return errors.As(err, &permanent) && strings.Contains(err.Error(), "invalid credentials for the credits ledger")
		}},
		{"other 4xx fail at once", http.StatusBadRequest, "", func(err error) bool {
			var permanent *jobtype.PermanentError
			return errors.As(err, &permanent) && !strings.Contains(err.Error(), "invalid credentials")
		}},
		{"5xx retry on the schedule", http.StatusInternalServerError, "", func(err error) bool {
			var permanent *jobtype.PermanentError
			var limited *jobtype.RateLimitedError
			return !errors.As(err, &permanent) && !errors.As(err, &limited)
		}},
	}
	for _, tt := range tests {
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if tt.retryAfter != "" {
				w.Header().Set("Retry-After", tt.retryAfter)
			}
			http.Error(w, "ledger says no", tt.status)
		}))
		handler := credits.Handler{Ledger: &ledger.Client{URL: server.URL, Token: token}}
		_, err := handler.Run(context.Background(), &runtime{}, credits.Args{Date: "2026-11-29"})
		server.Close()
		if err == nil || !tt.check(err) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}
