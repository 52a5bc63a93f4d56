package ledgerfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/ledgerfake"
)

const token = "ledger-secret"

var start = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

type testBundle struct {
	fake   *ledgerfake.Server
	server *httptest.Server
}

func setup(t *testing.T, opts ledgerfake.Options) *testBundle {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	opts.Now = func() time.Time { return start }
	fake := ledgerfake.New(opts)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &testBundle{fake: fake, server: server}
}

// answer is what a test reads of a response.
type answer struct {
	status int
	header http.Header
	body   string
}

// call sends a request with the ledger's token; headers adds or, with an
// empty value, removes headers.
func (b *testBundle) call(t *testing.T, method, path, body string, headers ...string) answer {
	t.Helper()
	req, _ := http.NewRequest(method, b.server.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: strings.TrimSpace(string(data))}
}

func (b *testBundle) debit(t *testing.T, key, body string) answer {
	t.Helper()
	return b.call(t, http.MethodPost, "/debits", body, "Idempotency-Key", key)
}

func TestDebitAnswersAsTheProtocolSays(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 10)
	const body = `{"store_id":"store-1","credits":4,"reason":"ai_text","reference":"job-1/sku-1"}`

	steps := []struct {
		name       string
		got        func() answer
		wantStatus int
		wantBody   string
	}{
		{"debit", func() answer { return b.debit(t, "k-1", body) }, http.StatusOK,
			`{"debit_id":"debit_000001","store_id":"store-1","credits":4,"balance":6,"replayed":false}`},
		{"replay", func() answer { return b.debit(t, "k-1", body) }, http.StatusOK,
			`{"debit_id":"debit_000001","store_id":"store-1","credits":4,"balance":6,"replayed":true}`},
		{"same key, another body", func() answer { return b.debit(t, "k-1", strings.Replace(body, `"credits":4`, `"credits":5`, 1)) }, http.StatusUnprocessableEntity,
			`{"error":"idempotency_key_reused","message":"this Idempotency-Key was used with another request"}`},
		{"over the balance", func() answer { return b.debit(t, "k-2", strings.Replace(body, `"credits":4`, `"credits":7`, 1)) }, http.StatusPaymentRequired,
			`{"error":"insufficient_credits","message":"store store-1 has 6 credits, 7 needed","balance":6,"needed":7}`},
		{"unknown store", func() answer { return b.debit(t, "k-3", strings.Replace(body, "store-1", "store-9", 1)) }, http.StatusPaymentRequired,
			`{"error":"insufficient_credits","message":"store store-9 has 0 credits, 4 needed","balance":0,"needed":4}`},
		{"no key", func() answer { return b.debit(t, "", body) }, http.StatusBadRequest,
			`{"error":"invalid_request","message":"an Idempotency-Key header is required"}`},
		{"no credits", func() answer { return b.debit(t, "k-4", `{"store_id":"store-1","credits":0}`) }, http.StatusBadRequest,
			`{"error":"invalid_request","message":"credits must be a whole number above 0"}`},
		{"no store", func() answer { return b.debit(t, "k-4", `{"credits":1}`) }, http.StatusBadRequest,
			`{"error":"invalid_request","message":"store_id is required"}`},
		{"no token", func() answer {
			return b.call(t, http.MethodPost, "/debits", body, "Idempotency-Key", "k-5", "Authorization", "")
		},
			http.StatusUnauthorized, `{"error":"unauthorized","message":"missing or unknown ledger token"}`},
	}
	for _, step := range steps {
		if got := step.got(); got.status != step.wantStatus || got.body != step.wantBody {
			t.Errorf("%s: answer = %d %s\nwant %d %s", step.name, got.status, got.body, step.wantStatus, step.wantBody)
		}
	}
	if got := b.debit(t, "k-4", `{"store_id":"store-1","credits":1.5}`); got.status != http.StatusBadRequest || !strings.Contains(got.body, `"invalid_request"`) {
		t.Errorf("fractional credits: answer = %d %s", got.status, got.body)
	}

	if balance := b.fake.Balance("store-1"); balance != 6 {
		t.Errorf("balance = %d, want 6", balance)
	}
	want := []ledgerfake.DebitRecord{{ID: "debit_000001", Key: "k-1", Credits: 4, Reason: "ai_text", Reference: "job-1/sku-1", BalanceAfter: 6, At: start}}
	if got := b.fake.Debits("store-1"); len(got) != 1 || got[0] != want[0] {
		t.Errorf("debits = %+v, want %+v", got, want)
	}
	if c := b.fake.Counters(); c.DebitRequests != len(steps)+1 || c.Debits != 1 || c.Replays != 1 || c.Insufficient != 2 {
		t.Errorf("counters = %+v", c)
	}
}

// Concurrent debits from one store never spend the same credits twice.
func TestConcurrentDebitsNeverOverdraw(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 5)
	const debits = 8
	statuses := make([]int, debits)
	errs := make([]error, debits)
	var wg sync.WaitGroup
	for i := range debits {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/debits", strings.NewReader(`{"store_id":"store-1","credits":5}`))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("k-%d", i))
			resp, err := b.server.Client().Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()

	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	counts := map[int]int{}
	for _, status := range statuses {
		counts[status]++
	}
	if counts[http.StatusOK] != 1 || counts[http.StatusPaymentRequired] != debits-1 {
		t.Errorf("answers = %v, want one 200 and %d 402", counts, debits-1)
	}
	if balance := b.fake.Balance("store-1"); balance != 0 {
		t.Errorf("balance = %d, want 0", balance)
	}
}

func TestDeductionAnswersAsTheProtocolSays(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{PageSize: 2})
	b.fake.SetBalance("store-2", 3)
	b.fake.SetBalance("store-1", 0)
	b.fake.SetBalance("store-3", 1)
	deduct := func(key, body string) answer {
		return b.call(t, http.MethodPost, "/", body, "Idempotency-Key", key)
	}

	first := deduct("daily-credit-deduction:2026-11-29:", `{"date":"2026-11-29","cursor":""}`)
	replay := deduct("daily-credit-deduction:2026-11-29:", `{"date":"2026-11-29","cursor":""}`)
	last := deduct("daily-credit-deduction:2026-11-29:store-2", `{"date":"2026-11-29","cursor":"store-2"}`)
	reused := deduct("daily-credit-deduction:2026-11-29:", `{"date":"2026-11-30","cursor":""}`)
	notADay := deduct("k", `{"date":"2026-13-01","cursor":""}`)

	const firstPage = `{"stores_charged":1,"credits_deducted":1,"stores_total":3,"next_cursor":"store-2"}`
	if first.status != http.StatusOK || first.body != firstPage {
		t.Errorf("first page = %d %s, want %s", first.status, first.body, firstPage)
	}
	if replay.status != http.StatusOK || replay.body != firstPage {
		t.Errorf("replayed page = %d %s, want %s", replay.status, replay.body, firstPage)
	}
	if want := `{"stores_charged":1,"credits_deducted":1,"stores_total":3,"next_cursor":""}`; last.status != http.StatusOK || last.body != want {
		t.Errorf("last page = %d %s, want %s", last.status, last.body, want)
	}
	if reused.status != http.StatusUnprocessableEntity || !strings.Contains(reused.body, `"idempotency_key_reused"`) {
		t.Errorf("a page's key with another day = %d %s", reused.status, reused.body)
	}
	if notADay.status != http.StatusBadRequest {
		t.Errorf("not a day = %d %s", notADay.status, notADay.body)
	}
	if got := b.fake.Balances(); got["store-1"] != 0 || got["store-2"] != 2 || got["store-3"] != 0 {
		t.Errorf("balances = %v, want store-2 charged once and store-3 down to 0", got)
	}
	// A debit cannot spend a key a deduction page charged under.
	if got := b.debit(t, "daily-credit-deduction:2026-11-29:", `{"store_id":"store-2","credits":1}`); got.status != http.StatusUnprocessableEntity {
		t.Errorf("debit with a page's key = %d %s", got.status, got.body)
	}
	if c := b.fake.Counters(); c.DeductionRequests != 5 || c.DeductionPages != 2 || c.Replays != 1 {
		t.Errorf("counters = %+v", c)
	}
}

// Mounted under a prefix, the ledger's URL itself is the deduction.
func TestDeductionAtTheMountedURL(t *testing.T) {
	t.Parallel()
	fake := ledgerfake.New(ledgerfake.Options{})
	fake.SetBalance("store-1", 5)
	server := httptest.NewServer(http.StripPrefix("/ledger", fake))
	t.Cleanup(server.Close)
	req, _ := http.NewRequest(http.MethodPost, server.URL+"/ledger", strings.NewReader(`{"date":"2026-11-29","cursor":""}`))
	req.Header.Set("Authorization", "Bearer any-token")
	req.Header.Set("Idempotency-Key", "daily-credit-deduction:2026-11-29:")

	resp, err := server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusOK || fake.Balance("store-1") != 4 {
		t.Errorf("deduction at the URL = %d, balance %d; want 200 and 4", resp.StatusCode, fake.Balance("store-1"))
	}
}

func TestBalanceAnswersAsTheProtocolSays(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetBalance("store-1", 12)

	known := b.call(t, http.MethodGet, "/balances/store-1", "")
	unknown := b.call(t, http.MethodGet, "/balances/store-9", "")

	if want := `{"store_id":"store-1","balance":12}`; known.status != http.StatusOK || known.body != want {
		t.Errorf("known store = %d %s, want %s", known.status, known.body, want)
	}
	if want := `{"store_id":"store-9","balance":0}`; unknown.status != http.StatusOK || unknown.body != want {
		t.Errorf("unknown store = %d %s, want %s", unknown.status, unknown.body, want)
	}
	if got := b.call(t, http.MethodGet, "/balances/store-1", "", "Authorization", "Bearer guess"); got.status != http.StatusUnauthorized {
		t.Errorf("wrong token = %d %s", got.status, got.body)
	}
}

func TestWithoutATokenAnyBearerIsAccepted(t *testing.T) {
	t.Parallel()
	fake := ledgerfake.New(ledgerfake.Options{})
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	for authorization, want := range map[string]int{"Bearer anything": http.StatusOK, "": http.StatusUnauthorized, "Basic dTpw": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, server.URL+"/balances/store-1", nil)
		req.Header.Set("Authorization", authorization)
		resp, err := server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Authorization %q = %d, want %d", authorization, resp.StatusCode, want)
		}
	}
}

func TestFaultsComeAfterTheToken(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetFaults(ledgerfake.Faults{ServerErrorsNext: 1, UnavailableNext: 1, RetryAfter: 1500 * time.Millisecond})

	wrongToken := b.call(t, http.MethodGet, "/balances/store-1", "", "Authorization", "Bearer guess")
	serverError := b.call(t, http.MethodGet, "/balances/store-1", "")
	busy := b.call(t, http.MethodGet, "/balances/store-1", "")
	back := b.call(t, http.MethodGet, "/balances/store-1", "")

	if wrongToken.status != http.StatusUnauthorized {
		t.Errorf("wrong token = %d, want 401 before any fault", wrongToken.status)
	}
	if serverError.status != http.StatusInternalServerError || !strings.Contains(serverError.body, `"internal_error"`) {
		t.Errorf("first = %d %s, want 500", serverError.status, serverError.body)
	}
	if busy.status != http.StatusServiceUnavailable || busy.header.Get("Retry-After") != "2" {
		t.Errorf("second = %d Retry-After %q, want 503 with Retry-After 2", busy.status, busy.header.Get("Retry-After"))
	}
	if back.status != http.StatusOK {
		t.Errorf("third = %d, want 200", back.status)
	}
	if f := b.fake.Faults(); f.ServerErrorsNext != 0 || f.UnavailableNext != 0 {
		t.Errorf("faults left = %+v", f)
	}
}

// A person tops a store up, reads the counters and sets faults over HTTP.
func TestControls(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetPublicURL("http://localhost:8090/ledger/")

	set := b.call(t, http.MethodPost, "/_balances", `{"store_id":"store-1","balance":500}`, "Authorization", "")
	if want := `{"store_id":"store-1","balance":500}`; set.status != http.StatusOK || set.body != want {
		t.Errorf("POST /_balances = %d %s, want %s", set.status, set.body, want)
	}
	for _, bad := range []string{`{"store_id":"store-1"}`, `{"store_id":"store-1","balance":-1}`, `{"balance":5}`, `{"store_id":"store-1","balance":5,"extra":1}`} {
		if got := b.call(t, http.MethodPost, "/_balances", bad); got.status != http.StatusBadRequest {
			t.Errorf("POST /_balances %s = %d %s, want 400", bad, got.status, got.body)
		}
	}
	if got := b.call(t, http.MethodGet, "/_balances", ""); got.body != `{"balances":{"store-1":500}}` {
		t.Errorf("GET /_balances = %d %s", got.status, got.body)
	}
	b.debit(t, "k-1", `{"store_id":"store-1","credits":5}`)
	if got := b.call(t, http.MethodGet, "/_counters", ""); got.body != `{"debit_requests":1,"debits":1,"replays":0,"insufficient":0,"deduction_requests":0,"deduction_pages":0,"balance_requests":0}` {
		t.Errorf("GET /_counters = %d %s", got.status, got.body)
	}

	faults := `{"server_errors_next":1,"unavailable_next":2,"retry_after":"30s","latency":"0s"}`
	if got := b.call(t, http.MethodPost, "/_faults", faults); got.status != http.StatusOK || got.body != faults {
		t.Errorf("POST /_faults = %d %s", got.status, got.body)
	}
	if f := b.fake.Faults(); f != (ledgerfake.Faults{ServerErrorsNext: 1, UnavailableNext: 2, RetryAfter: 30 * time.Second}) {
		t.Errorf("faults = %+v", f)
	}
	for _, bad := range []string{`{"unavailable_next":-1}`, `{"retry_after":"soon"}`, `{"latency":"2h"}`, `{"rate_limit_next":1}`} {
		if got := b.call(t, http.MethodPost, "/_faults", bad); got.status != http.StatusBadRequest {
			t.Errorf("POST /_faults %s = %d %s, want 400", bad, got.status, got.body)
		}
	}
	if got := b.call(t, http.MethodPost, "/_faults", `{}`); got.status != http.StatusOK || b.fake.Faults() != (ledgerfake.Faults{}) {
		t.Errorf("POST /_faults {} = %d %s, want the faults cleared", got.status, got.body)
	}

	var index map[string]string
	if got := b.call(t, http.MethodGet, "/", ""); json.Unmarshal([]byte(got.body), &index) != nil ||
		index["ledger_url"] != "http://localhost:8090/ledger" || index["debits_url"] != "http://localhost:8090/ledger/debits" ||
		index["balances_url"] != "http://localhost:8090/ledger/_balances" {
		t.Errorf("GET / = %d %s", got.status, got.body)
	}
}

// Latency holds the protocol, never the controls, so a person can always
// take it back.
func TestLatencySparesTheControls(t *testing.T) {
	t.Parallel()
	b := setup(t, ledgerfake.Options{})
	b.fake.SetFaults(ledgerfake.Faults{Latency: 5 * time.Minute})
	client := &http.Client{Timeout: 30 * time.Second}

	for _, path := range []string{"/", "/_counters", "/_faults", "/_balances"} {
		resp, err := client.Get(b.server.URL + path)
		if err != nil {
			t.Fatalf("GET %s under latency: %v", path, err)
		}
		resp.Body.Close()
	}

	// The deduction shares the index's path but is the protocol: it waits.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.server.URL+"/", strings.NewReader(`{"date":"2026-11-29","cursor":""}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", "daily-credit-deduction:2026-11-29:")
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deduction under 5 minutes of latency = %v, want it still waiting", err)
	}
	if c := b.fake.Counters(); c.DeductionRequests != 0 {
		t.Errorf("counters = %+v, want the deduction not served", c)
	}
}

func TestSetupMistakesPanic(t *testing.T) {
	t.Parallel()
	fake := ledgerfake.New(ledgerfake.Options{})
	for name, call := range map[string]func(){
		"SetBalance without a store": func() { fake.SetBalance("", 1) },
		"negative balance":           func() { fake.SetBalance("store-1", -1) },
		"negative top-up":            func() { fake.TopUp("store-1", -1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			call()
		}()
	}
}
