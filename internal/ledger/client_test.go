package ledger_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/ledger"
	"github.com/dainostore/jobs/internal/sandbox/ledgerfake"
)

const token = "ledger-secret"

type testBundle struct {
	fake   *ledgerfake.Server
	client *ledger.Client
}

// setup serves the fake under a prefix, as the sandbox mounts it, so the
// client's paths are checked to be relative to its URL.
func setup(t *testing.T, opts ledgerfake.Options) *testBundle {
	t.Helper()
	opts.Token = token
	fake := ledgerfake.New(opts)
	server := httptest.NewServer(http.StripPrefix("/ledger", fake))
	t.Cleanup(server.Close)
	return &testBundle{fake: fake, client: &ledger.Client{URL: server.URL + "/ledger", Token: token, HTTP: server.Client()}}
}

func debitOf(credits int64, key string) ledger.Debit {
	return ledger.Debit{StoreID: "store-1", Credits: credits, Reason: "ai_text", Reference: "job-1/sku-1", IdempotencyKey: key}
}

func TestDebitChargesOnceAndReplaysItsAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 10)
	ctx := context.Background()

	first, err := b.client.Debit(ctx, debitOf(3, "job-1:sku-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.client.Debit(ctx, debitOf(3, "job-1:sku-1"))
	if err != nil {
		t.Fatal(err)
	}

	if first.DebitID == "" || first.Balance != 7 || first.Replayed {
		t.Errorf("first debit = %+v, want an id, balance 7, not replayed", first)
	}
	if want := (ledger.DebitResult{DebitID: first.DebitID, Balance: 7, Replayed: true}); again != want {
		t.Errorf("replayed debit = %+v, want %+v", again, want)
	}
	if balance, err := b.client.Balance(ctx, "store-1"); err != nil || balance != 7 {
		t.Errorf("balance = %d (%v), want 7: the replay must charge nothing", balance, err)
	}
	debits := b.fake.Debits("store-1")
	if len(debits) != 1 || debits[0].ID != first.DebitID || debits[0].Key != "job-1:sku-1" || debits[0].Credits != 3 ||
		debits[0].Reason != "ai_text" || debits[0].Reference != "job-1/sku-1" || debits[0].BalanceAfter != 7 {
		t.Errorf("debits made = %+v", debits)
	}
}

func TestDebitWithAReusedKeyAndAnotherBodyIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 10)
	ctx := context.Background()
	if _, err := b.client.Debit(ctx, debitOf(3, "job-1:sku-1")); err != nil {
		t.Fatal(err)
	}

	_, err := b.client.Debit(ctx, debitOf(4, "job-1:sku-1"))

	var refused *ledger.RefusedError
	if !errors.As(err, &refused) || refused.Status != http.StatusUnprocessableEntity ||
		refused.Code != ledger.CodeIdempotencyKeyReused || refused.Unauthorized() {
		t.Fatalf("err = %v, want a 422 idempotency_key_reused refusal", err)
	}
	if balance := b.fake.Balance("store-1"); balance != 7 {
		t.Errorf("balance = %d, want 7", balance)
	}
}

// A debit the balance cannot cover charges nothing and leaves its key
// unspent: after a top-up, the very same debit goes through.
func TestInsufficientCreditsLeaveTheKeyForAfterATopUp(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 2)
	ctx := context.Background()

	_, err := b.client.Debit(ctx, debitOf(5, "job-1:sku-1"))

	var insufficient *ledger.InsufficientCreditsError
	if !errors.As(err, &insufficient) || *insufficient != (ledger.InsufficientCreditsError{StoreID: "store-1", Balance: 2, Needed: 5}) {
		t.Fatalf("err = %v, want insufficient credits: balance 2, 5 needed", err)
	}
	if balance := b.fake.Balance("store-1"); balance != 2 {
		t.Errorf("balance after the refusal = %d, want 2", balance)
	}

	b.fake.TopUp("store-1", 10)
	result, err := b.client.Debit(ctx, debitOf(5, "job-1:sku-1"))
	if err != nil || result.Balance != 7 || result.Replayed {
		t.Errorf("debit after the top-up = %+v (%v), want balance 7, not replayed", result, err)
	}
}

func TestBalance(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 40)
	b.fake.SetBalance("shop/eu 1", 12) // a store id the path must escape
	ctx := context.Background()

	for store, want := range map[string]int64{"store-1": 40, "shop/eu 1": 12, "store-unknown": 0} {
		if got, err := b.client.Balance(ctx, store); err != nil || got != want {
			t.Errorf("Balance(%q) = %d (%v), want %d", store, got, err, want)
		}
	}
}

// A wrong token is the operator's to fix: every call says so, and nothing
// is charged.
func TestWrongTokenIsUnauthorized(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 10)
	client := *b.client
	client.Token = "stale-token"
	ctx := context.Background()

	_, debitErr := client.Debit(ctx, debitOf(1, "job-1:sku-1"))
	_, balanceErr := client.Balance(ctx, "store-1")
	_, deductErr := client.DeductDay(ctx, "2026-11-29", "")

	for name, err := range map[string]error{"debit": debitErr, "balance": balanceErr, "deduction": deductErr} {
		var refused *ledger.RefusedError
		if !errors.As(err, &refused) || !refused.Unauthorized() || refused.Status != http.StatusUnauthorized {
			t.Errorf("%s: err = %v, want an unauthorized refusal", name, err)
		}
	}
	if balance := b.fake.Balance("store-1"); balance != 10 {
		t.Errorf("balance = %d, want 10", balance)
	}
}

func TestBusyLedgerSaysWhenToRetry(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 10)
	b.fake.SetFaults(ledgerfake.Faults{ServerErrorsNext: 1, UnavailableNext: 1, RetryAfter: 1500 * time.Millisecond})
	ctx := context.Background()

	_, serverErr := b.client.Debit(ctx, debitOf(1, "job-1:sku-1"))
	_, busyErr := b.client.Debit(ctx, debitOf(1, "job-1:sku-1"))
	result, err := b.client.Debit(ctx, debitOf(1, "job-1:sku-1"))

	var unavailable *ledger.UnavailableError
	var refused *ledger.RefusedError
	if errors.As(serverErr, &unavailable) || errors.As(serverErr, &refused) || !strings.Contains(serverErr.Error(), "HTTP 500") {
		t.Errorf("500: err = %v, want a transient error", serverErr)
	}
	if !errors.As(busyErr, &unavailable) || unavailable.Status != http.StatusServiceUnavailable || unavailable.RetryAfter != 2*time.Second {
		t.Errorf("503: err = %v, want unavailable, retry after 2s", busyErr)
	}
	if err != nil || result.Balance != 9 || result.Replayed {
		t.Errorf("debit once the ledger is back = %+v (%v), want balance 9, charged now", result, err)
	}
}

// The day's deduction goes through the stores a page at a time; a page
// asked again is answered as before and charges nothing.
func TestDeductDayPagesAndReplays(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{DailyCharge: 3, PageSize: 2})
	for store, balance := range map[string]int64{"store-a": 10, "store-b": 1, "store-c": 0, "store-d": 5, "store-e": 7} {
		b.fake.SetBalance(store, balance)
	}
	ctx := context.Background()

	var pages []ledger.DeductionPage
	for cursor := ""; ; {
		page, err := b.client.DeductDay(ctx, "2026-11-29", cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	replay, err := b.client.DeductDay(ctx, "2026-11-29", "store-b")
	if err != nil {
		t.Fatal(err)
	}

	want := []ledger.DeductionPage{
		{StoresCharged: 2, CreditsDeducted: 4, StoresTotal: 5, NextCursor: "store-b"}, // b had 1 credit
		{StoresCharged: 1, CreditsDeducted: 3, StoresTotal: 5, NextCursor: "store-d"}, // c had none
		{StoresCharged: 1, CreditsDeducted: 3, StoresTotal: 5},
	}
	if len(pages) != len(want) {
		t.Fatalf("pages = %+v, want %+v", pages, want)
	}
	for i := range want {
		if pages[i] != want[i] {
			t.Errorf("page %d = %+v, want %+v", i+1, pages[i], want[i])
		}
	}
	if replay != want[1] {
		t.Errorf("replayed page 2 = %+v, want %+v", replay, want[1])
	}
	wantBalances := map[string]int64{"store-a": 7, "store-b": 0, "store-c": 0, "store-d": 2, "store-e": 4}
	for store, balance := range b.fake.Balances() {
		if wantBalances[store] != balance {
			t.Errorf("balance of %s = %d, want %d", store, balance, wantBalances[store])
		}
	}
}

// recorded is what a ledger received.
type recorded struct {
	method, path, rawPath, body string
	header                      http.Header
}

// recordingLedger answers every request with status, header and body, and
// records what it received.
func recordingLedger(t *testing.T, status int, header http.Header, body string) (*ledger.Client, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var requests []recorded
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		mu.Lock()
		requests = append(requests, recorded{r.Method, r.URL.Path, r.URL.RawPath, string(data), r.Header.Clone()})
		mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(server.Close)
	return &ledger.Client{URL: server.URL + "/v1/ledger/", Token: token}, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), requests...)
	}
}

// The deduction's wire format is what platforms implemented: it must not
// change.
func TestDeductDaySpeaksTheProtocol(t *testing.T) {
	t.Parallel()
	client, requests := recordingLedger(t, http.StatusOK, nil,
		`{"stores_charged": 100, "credits_deducted": 2500, "stores_total": 1200, "next_cursor": "store-0100"}`)

	page, err := client.DeductDay(context.Background(), "2026-11-29", "store-0000")

	if want := (ledger.DeductionPage{StoresCharged: 100, CreditsDeducted: 2500, StoresTotal: 1200, NextCursor: "store-0100"}); err != nil || page != want {
		t.Fatalf("page = %+v (%v), want %+v", page, err, want)
	}
	got := requests()
	if len(got) != 1 {
		t.Fatalf("requests = %d, want 1", len(got))
	}
	req := got[0]
	if req.method != http.MethodPost || req.path != "/v1/ledger/" ||
		req.header.Get("Authorization") != "Bearer "+token ||
		req.header.Get("Idempotency-Key") != "daily-credit-deduction:2026-11-29:store-0000" ||
		req.header.Get("Content-Type") != "application/json" {
		t.Errorf("request = %s %s %v", req.method, req.path, req.header)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(req.body), &body); err != nil || len(body) != 2 || body["date"] != "2026-11-29" || body["cursor"] != "store-0000" {
		t.Errorf("body = %s, want {date, cursor}", req.body)
	}
}

func TestDebitAndBalanceSpeakTheProtocol(t *testing.T) {
	t.Parallel()
	client, requests := recordingLedger(t, http.StatusOK, nil,
		`{"debit_id": "d-1", "store_id": "shop/1", "credits": 3, "balance": 9, "replayed": false}`)
	ctx := context.Background()

	if _, err := client.Debit(ctx, ledger.Debit{StoreID: "shop/1", Credits: 3, Reason: "ai_text", Reference: "job-1", IdempotencyKey: "k-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Balance(ctx, "shop/1"); err != nil {
		t.Fatal(err)
	}

	got := requests()
	if len(got) != 2 {
		t.Fatalf("requests = %d, want 2", len(got))
	}
	debit, balance := got[0], got[1]
	if debit.method != http.MethodPost || debit.path != "/v1/ledger/debits" || debit.header.Get("Idempotency-Key") != "k-1" ||
		debit.header.Get("Authorization") != "Bearer "+token {
		t.Errorf("debit request = %s %s %v", debit.method, debit.path, debit.header)
	}
	if want := `{"store_id":"shop/1","credits":3,"reason":"ai_text","reference":"job-1"}`; debit.body != want {
		t.Errorf("debit body = %s, want %s", debit.body, want)
	}
	if balance.method != http.MethodGet || balance.rawPath != "/v1/ledger/balances/shop%2F1" || balance.header.Get("Idempotency-Key") != "" {
		t.Errorf("balance request = %s %s %v", balance.method, balance.rawPath, balance.header)
	}
}

// Answers the fake does not give, from ledgers a platform wrote.
func TestAnswersBecomeErrorKinds(t *testing.T) {
	t.Parallel()
	inAnHour := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		check  func(error) bool
	}{
		{"403 is unauthorized", http.StatusForbidden, nil, `{"error":"forbidden","message":"token revoked"}`, func(err error) bool {
			var refused *ledger.RefusedError
			return errors.As(err, &refused) && refused.Unauthorized() && refused.Message == "token revoked"
		}},
		{"429 without Retry-After", http.StatusTooManyRequests, nil, `slow down`, func(err error) bool {
			var unavailable *ledger.UnavailableError
			return errors.As(err, &unavailable) && unavailable.RetryAfter == 0 && unavailable.Message == "slow down"
		}},
		{"Retry-After as a date", http.StatusServiceUnavailable, http.Header{"Retry-After": {inAnHour}}, ``, func(err error) bool {
			var unavailable *ledger.UnavailableError
			return errors.As(err, &unavailable) && unavailable.RetryAfter > 58*time.Minute && unavailable.RetryAfter <= time.Hour
		}},
		{"Retry-After of a year is bounded", http.StatusTooManyRequests, http.Header{"Retry-After": {"31536000"}}, ``, func(err error) bool {
			var unavailable *ledger.UnavailableError
			return errors.As(err, &unavailable) && unavailable.RetryAfter == 24*time.Hour
		}},
		{"text 400", http.StatusBadRequest, nil, "cursor unknown\n", func(err error) bool {
			var refused *ledger.RefusedError
			return errors.As(err, &refused) && !refused.Unauthorized() && refused.Code == "" && refused.Message == "cursor unknown"
		}},
		{"402 of another kind", http.StatusPaymentRequired, nil, `{"error":"account_suspended","message":"pay the invoice"}`, func(err error) bool {
			var refused *ledger.RefusedError
			var insufficient *ledger.InsufficientCreditsError
			return errors.As(err, &refused) && refused.Code == "account_suspended" && !errors.As(err, &insufficient)
		}},
		{"502 is transient", http.StatusBadGateway, nil, `<html>bad gateway</html>`, func(err error) bool {
			var refused *ledger.RefusedError
			var unavailable *ledger.UnavailableError
			return !errors.As(err, &refused) && !errors.As(err, &unavailable) && strings.Contains(err.Error(), "HTTP 502")
		}},
		{"200 that is not JSON", http.StatusOK, nil, `<html>login</html>`, func(err error) bool {
			return strings.Contains(err.Error(), "not the expected JSON")
		}},
		{"200 over a megabyte", http.StatusOK, nil, `{"next_cursor":"` + strings.Repeat("x", 1<<20) + `"}`, func(err error) bool {
			return strings.Contains(err.Error(), "over 1048576 bytes")
		}},
	}
	for _, tt := range tests {
		client, _ := recordingLedger(t, tt.status, tt.header, tt.body)
		_, err := client.DeductDay(context.Background(), "2026-11-29", "")
		if err == nil || !tt.check(err) {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
}

// A debit without a debit_id may or may not have charged: the client does
// not pretend it did.
func TestDebitAnswerWithoutAnIDIsAnError(t *testing.T) {
	t.Parallel()
	client, _ := recordingLedger(t, http.StatusOK, nil, `{}`)
	if _, err := client.Debit(context.Background(), debitOf(1, "k-1")); err == nil || !strings.Contains(err.Error(), "no debit_id") {
		t.Errorf("err = %v, want it to name the missing debit_id", err)
	}
}

func TestRequestsThatCannotSucceedAreNotSent(t *testing.T) {
	t.Parallel()
	client, requests := recordingLedger(t, http.StatusOK, nil, `{}`)
	ctx := context.Background()
	noURL := &ledger.Client{URL: "ledger.example.com/deductions", Token: token}
	calls := map[string]func() error{
		"no credits":       func() error { _, err := client.Debit(ctx, debitOf(0, "k")); return err },
		"negative credits": func() error { _, err := client.Debit(ctx, debitOf(-3, "k")); return err },
		"no key":           func() error { _, err := client.Debit(ctx, debitOf(1, " ")); return err },
		"no store": func() error {
			_, err := client.Debit(ctx, ledger.Debit{Credits: 1, IdempotencyKey: "k"})
			return err
		},
		"balance of no store": func() error { _, err := client.Balance(ctx, ""); return err },
		"not a day":           func() error { _, err := client.DeductDay(ctx, "yesterday", ""); return err },
		"URL without scheme":  func() error { _, err := noURL.DeductDay(ctx, "2026-11-29", ""); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ledger.ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	if n := len(requests()); n != 0 {
		t.Errorf("requests sent = %d, want none", n)
	}
}
