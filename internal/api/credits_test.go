package api_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/sandbox/ledgerfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// serveWithLedger serves the API with a credits ledger (the sandbox's fake),
// where an AI-optimized product costs 3 credits.
func serveWithLedger(t *testing.T) (*ledgerfake.Server, *httptest.Server) {
	t.Helper()
	ledger := ledgerfake.New(ledgerfake.Options{Token: "ledger-token"})
	ledgerServer := httptest.NewServer(ledger)
	t.Cleanup(ledgerServer.Close)
	env := testenv.New(t)
	env.Config.CreditsLedgerURL = ledgerServer.URL
	env.Config.CreditsLedgerToken = "ledger-token"
	env.Config.AICreditsPerProduct = 3
	a := env.App(t, app.Overrides{})
	server := httptest.NewServer(a.API)
	t.Cleanup(server.Close)
	return ledger, server
}

func TestCreditsAreTheLedgersBalanceOfTheStore(t *testing.T) {
	t.Parallel()
	ledger, server := serveWithLedger(t)
	ledger.SetBalance("north", 120)
	operator := testenv.OperatorToken(t)

	tests := []struct {
		name, path, token string
		status            int
		want              map[string]any
	}{
		{"a store's own", "/api/credits", testenv.StoreToken(t, "north"), http.StatusOK,
			map[string]any{"store_id": "north", "balance": 120.0, "credits_per_product": 3.0}},
		{"a store the ledger does not know", "/api/credits", testenv.StoreToken(t, "new"), http.StatusOK,
			map[string]any{"store_id": "new", "balance": 0.0, "credits_per_product": 3.0}},
		{"an operator names the store", "/api/credits?store_id=north", operator, http.StatusOK,
			map[string]any{"store_id": "north", "balance": 120.0, "credits_per_product": 3.0}},
		{"an operator without a store", "/api/credits", operator, http.StatusBadRequest, nil},
		{"another store's", "/api/credits?store_id=north", testenv.StoreToken(t, "south"), http.StatusNotFound, nil},
	}
	for _, tt := range tests {
		status, out := get(t, server.URL, tt.path, tt.token)
		if status != tt.status {
			t.Errorf("%s: %d %v, want %d", tt.name, status, out, tt.status)
			continue
		}
		if tt.want != nil && !maps.Equal(out, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, out, tt.want)
		}
	}
}

// A balance the ledger does not tell is never made up: 503, with the
// ledger's Retry-After when it gave one.
func TestCreditsAreUnavailableWithoutAnAnsweringLedger(t *testing.T) {
	t.Parallel()
	ledger, server := serveWithLedger(t)
	store := testenv.StoreToken(t, "north")

	ledger.SetFaults(ledgerfake.Faults{UnavailableNext: 1, RetryAfter: 30 * time.Second})
	req, _ := http.NewRequest(http.MethodGet, server.URL+"/api/credits", nil)
	req.Header.Set("Authorization", "Bearer "+store)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" {
		t.Errorf("a ledger answering 503: %d with Retry-After %q, want 503 with 30", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	ledger.SetFaults(ledgerfake.Faults{ServerErrorsNext: 1})
	if status, out := get(t, server.URL, "/api/credits", store); status != http.StatusServiceUnavailable || codeOf(out) != "ledger_unavailable" {
		t.Errorf("a ledger failing: %d %v, want 503 ledger_unavailable", status, out)
	}
	if status, out := get(t, server.URL, "/api/credits", store); status != http.StatusOK {
		t.Errorf("once the ledger answers again: %d %v", status, out)
	}

	// A deployment without a ledger says so.
	_, unconfigured := serveAPI(t)
	status, out := get(t, unconfigured.URL, "/api/credits", store)
	if status != http.StatusServiceUnavailable || codeOf(out) != "ledger_unavailable" {
		t.Fatalf("without a ledger: %d %v, want 503 ledger_unavailable", status, out)
	}
	if message := out["error"].(map[string]any)["message"].(string); message != "no credits ledger is configured for this deployment (JOBS_CREDITS_LEDGER_URL), so there is no balance to show" {
		t.Errorf("without a ledger the API says %q", message)
	}
}

// codeOf is the code of an API error answer.
func codeOf(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}
