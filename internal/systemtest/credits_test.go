package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/testenv"
)

// fakeLedger is the store platform's credits ledger at the protocol level:
// three pages of stores, each charged once per Idempotency-Key.
type fakeLedger struct {
	mu       sync.Mutex
	charged  map[string]int // Idempotency-Key → times a page was charged
	requests []string       // Idempotency-Keys in arrival order
	// failOnce answers the first request for this cursor with this status.
	failOnce map[string]int
}

var ledgerPages = map[string]struct {
	next    string
	charged int
}{"": {"p2", 40}, "p2": {"p3", 40}, "p3": {"", 20}}

func (l *fakeLedger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer ledger-secret" {
		http.Error(w, "unknown token", http.StatusUnauthorized)
		return
	}
	var req struct{ Date, Cursor string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	l.requests = append(l.requests, key)
	if status, ok := l.failOnce[req.Cursor]; ok {
		delete(l.failOnce, req.Cursor)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "ledger busy", status)
		return
	}
	page := ledgerPages[req.Cursor]
	if l.charged[key] == 0 { // a replayed key charges nothing again
		l.charged[key]++
	}
	json.NewEncoder(w).Encode(map[string]any{"stores_charged": page.charged, "credits_deducted": 25 * page.charged, "stores_total": 100, "next_cursor": page.next})
}

func newLedgerApp(t *testing.T, ledger *fakeLedger, token string) (*app.App, string) {
	server := httptest.NewServer(ledger)
	t.Cleanup(server.Close)
	env := testenv.New(t)
	env.Config.CreditsLedgerURL = server.URL
	env.Config.CreditsLedgerToken = token
	a := env.App(t, app.Overrides{})
	return a, testenv.Serve(t, a)
}

// The daily schedule creates one deduction job a day, which walks the
// ledger's pages, waits out a busy ledger and resumes from its checkpoint:
// every page is charged exactly once.
func TestDailyCreditDeductionChargesEachPageOnce(t *testing.T) {
	t.Parallel()
	ledger := &fakeLedger{charged: map[string]int{}, failOnce: map[string]int{"p2": http.StatusServiceUnavailable}}
	a, _ := newLedgerApp(t, ledger, "ledger-secret")
	ctx := withTimeout(t, 2*time.Minute)

	// EventBridge may deliver a rule twice: the second finds the first job.
	for range 2 {
		if err := a.Cron.Run(ctx, cron.TaskDailyCreditDeduction); err != nil {
			t.Fatal(err)
		}
	}
	page, err := a.Jobs.ListByStore(ctx, job.PlatformStore, 10, "")
	if err != nil || len(page.Jobs) != 1 {
		t.Fatalf("deduction jobs after two deliveries: %d (%v), want 1", len(page.Jobs), err)
	}
	id := page.Jobs[0].ID
	var j *job.Job
	eventually(t, 90*time.Second, func() error {
		j, err = a.Jobs.Get(ctx, id)
		if err == nil && j.Status != job.StatusCompleted {
			err = fmt.Errorf("the deduction job is %s (%s)", j.Status, j.Error)
		}
		return err
	})
	var result credits.Result
	if err := json.Unmarshal(j.Result, &result); err != nil {
		t.Fatal(err)
	}
	today := a.Dispatcher.Now().UTC().Format(time.DateOnly)
	if want := (credits.Result{Date: today, Pages: 3, StoresCharged: 100, CreditsDeducted: 2500}); result != want {
		t.Errorf("result = %+v, want %+v", result, want)
	}
	if j.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (one wait for the busy ledger)", j.Attempts)
	}
	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	prefix := "daily-credit-deduction:" + today + ":"
	want := []string{prefix, prefix + "p2", prefix + "p2", prefix + "p3"}
	if strings.Join(ledger.requests, " ") != strings.Join(want, " ") {
		t.Errorf("ledger requests = %q, want %q: the retry must resume at the page that failed", ledger.requests, want)
	}
	if len(ledger.charged) != 3 {
		t.Errorf("pages charged = %v, want each of the 3 once", ledger.charged)
	}
}

// Wrong credentials cannot heal by waiting: the job fails at once and says so.
func TestDailyCreditDeductionWithWrongCredentialsFailsAtOnce(t *testing.T) {
	t.Parallel()
	a, base := newLedgerApp(t, &fakeLedger{charged: map[string]int{}}, "stale-token")
	ctx := withTimeout(t, 2*time.Minute)
	if err := a.Cron.Run(ctx, cron.TaskDailyCreditDeduction); err != nil {
		t.Fatal(err)
	}
	page, err := a.Jobs.ListByStore(ctx, job.PlatformStore, 10, "")
	if err != nil || len(page.Jobs) != 1 {
		t.Fatalf("deduction jobs: %d (%v), want 1", len(page.Jobs), err)
	}
	status := waitForStatus(t, base, page.Jobs[0].ID, "failed")
	if msg, _ := status["error"].(string); !strings.Contains(msg, "invalid credentials") {
		t.Errorf("error = %q, want it to name invalid credentials", msg)
	}
	if attempts, _ := status["attempts"].(float64); attempts != 1 {
		t.Errorf("attempts = %v, want 1", status["attempts"])
	}
}

// A deployment without a credits ledger does not run the deduction.
func TestDailyCreditDeductionIsSkippedWithoutALedger(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	ctx := context.Background()
	if err := a.Cron.Run(ctx, cron.TaskDailyCreditDeduction); err != nil {
		t.Fatal(err)
	}
	page, err := a.Jobs.ListByStore(ctx, job.PlatformStore, 10, "")
	if err != nil || len(page.Jobs) != 0 {
		t.Fatalf("jobs without a ledger: %d (%v), want none", len(page.Jobs), err)
	}
}
