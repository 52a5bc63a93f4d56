package ebayfake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the quota day is Pacific time on any machine

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/sandbox/ebayfake"
)

type testBundle struct {
	fake   *ebayfake.Server
	clock  *clock.Fake
	server *httptest.Server
	base   string // where the fake is served
	seller ebayfake.Seller
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, ebayfake.Options{})
}

// setupWith serves a fake with opts, on a clock standing at 09:00 UTC
// (01:00 in Los Angeles), for the sandbox seller.
func setupWith(t *testing.T, opts ebayfake.Options) *testBundle {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	opts.Now = clk.Now
	fake := ebayfake.New(opts)
	seller := ebayfake.SandboxSeller()
	fake.AddSeller(seller)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &testBundle{fake: fake, clock: clk, server: server, base: server.URL, seller: seller}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *testBundle) do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: strings.TrimSpace(string(body))}
}

func (b *testBundle) grant(t *testing.T, clientID, clientSecret string, form url.Values) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/identity/v1/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, clientSecret)
	return b.do(t, req)
}

func (b *testBundle) refreshForm(scopes ...string) url.Values {
	return url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {b.seller.RefreshToken},
		"scope":         {strings.Join(scopes, " ")},
	}
}

func (b *testBundle) accessToken(t *testing.T) string {
	t.Helper()
	got := b.grant(t, b.seller.ClientID, b.seller.ClientSecret, b.refreshForm(ebayfake.ScopeSellInventory))
	var token struct {
		AccessToken string `json:"access_token"`
	}
	if got.status != http.StatusOK || json.Unmarshal([]byte(got.body), &token) != nil {
		t.Fatalf("grant = %d %s", got.status, got.body)
	}
	return token.AccessToken
}

func (b *testBundle) inventoryItems(t *testing.T, accessToken, query string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+"/sell/inventory/v1/inventory_item"+query, nil)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return b.do(t, req)
}

func TestTokenGrantAnswersAsEbay(t *testing.T) {
	t.Parallel()
	b := setup(t)

	got := b.grant(t, b.seller.ClientID, b.seller.ClientSecret, b.refreshForm(ebayfake.ScopeSellInventory))

	var token map[string]any
	if err := json.Unmarshal([]byte(got.body), &token); err != nil || got.status != http.StatusOK {
		t.Fatalf("grant = %d %s", got.status, got.body)
	}
	if !strings.HasPrefix(token["access_token"].(string), "v^1.1#") || token["expires_in"] != 7200.0 ||
		token["token_type"] != "User Access Token" || len(token) != 3 {
		t.Errorf("token = %v", token)
	}
}

func TestTokenErrorsAnswerAsEbay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const (
		invalidGrant  = `{"error":"invalid_grant","error_description":"the provided authorization refresh token is invalid or was issued to another client"}`
		invalidClient = `{"error":"invalid_client","error_description":"client authentication failed"}`
	)
	other := b.refreshForm()
	other.Set("refresh_token", "v^1.1#someone-else")
	tests := []struct {
		name               string
		clientID, secret   string
		form               url.Values
		wantStatus         int
		wantBody, wantCode string
	}{
		{"unknown refresh token", b.seller.ClientID, b.seller.ClientSecret, other, http.StatusBadRequest, invalidGrant, ""},
		{"wrong secret", b.seller.ClientID, "guess", b.refreshForm(), http.StatusUnauthorized, invalidClient, ""},
		{"a scope not granted", b.seller.ClientID, b.seller.ClientSecret,
			b.refreshForm("https://api.ebay.com/oauth/api_scope/sell.account"), http.StatusBadRequest, "", "invalid_scope"},
	}
	for _, tt := range tests {
		got := b.grant(t, tt.clientID, tt.secret, tt.form)
		var body map[string]string
		_ = json.Unmarshal([]byte(got.body), &body)
		if got.status != tt.wantStatus || (tt.wantBody != "" && got.body != tt.wantBody) || (tt.wantCode != "" && body["error"] != tt.wantCode) {
			t.Errorf("%s: grant = %d %s", tt.name, got.status, got.body)
		}
	}

	b.fake.SetFaults(ebayfake.Faults{RevokedRefreshTokens: []string{b.seller.RefreshToken}})
	if got := b.grant(t, b.seller.ClientID, b.seller.ClientSecret, b.refreshForm()); got.status != http.StatusBadRequest || got.body != invalidGrant {
		t.Errorf("revoked: grant = %d %s", got.status, got.body)
	}
	if c := b.fake.Counters(); c.TokenRequests != len(tests)+1 || c.TokenGrants != 0 {
		t.Errorf("counters = %+v", c)
	}
}

func TestInventoryItemsListsTheSellersItems(t *testing.T) {
	t.Parallel()
	b := setup(t)

	got := b.inventoryItems(t, b.accessToken(t), "?limit=1")

	var page map[string]any
	if err := json.Unmarshal([]byte(got.body), &page); err != nil || got.status != http.StatusOK {
		t.Fatalf("answer = %d %s", got.status, got.body)
	}
	items := page["inventoryItems"].([]any)
	if page["total"] != 1.0 || page["size"] != 1.0 || page["limit"] != 1.0 || len(items) != 1 ||
		items[0].(map[string]any)["sku"] != "SANDBOX-MUG-001" || page["next"] != nil {
		t.Errorf("page = %s", got.body)
	}
}

func TestInventoryItemsPages(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	fake := ebayfake.New(ebayfake.Options{Now: clk.Now})
	seller := ebayfake.SandboxSeller()
	seller.InventoryItems = nil
	for i := range 5 {
		seller.InventoryItems = append(seller.InventoryItems, ebayfake.InventoryItem{SKU: fmt.Sprintf("SKU-%d", i)})
	}
	fake.AddSeller(seller)
	server := httptest.NewServer(http.StripPrefix("/ebay", fake))
	t.Cleanup(server.Close)
	fake.SetPublicURL(server.URL + "/ebay")
	b := &testBundle{fake: fake, clock: clk, server: server, base: server.URL + "/ebay", seller: seller}

	got := b.inventoryItems(t, b.accessToken(t), "?limit=2&offset=1")

	var page struct {
		Href, Next, Prev   string
		Limit, Size, Total int
		InventoryItems     []ebayfake.InventoryItem
	}
	if err := json.Unmarshal([]byte(got.body), &page); err != nil || got.status != http.StatusOK {
		t.Fatalf("answer = %d %s", got.status, got.body)
	}
	base := server.URL + "/ebay/sell/inventory/v1/inventory_item"
	if page.Href != base+"?limit=2&offset=1" || page.Next != base+"?limit=2&offset=2" || page.Prev != base+"?limit=2&offset=0" {
		t.Errorf("links = %q %q %q", page.Href, page.Next, page.Prev)
	}
	if page.Total != 5 || page.Size != 3 || page.Limit != 2 || len(page.InventoryItems) != 2 || page.InventoryItems[0].SKU != "SKU-2" {
		t.Errorf("page = %s", got.body)
	}

	if got := b.inventoryItems(t, b.accessToken(t), "?limit=201"); got.status != http.StatusBadRequest || !strings.Contains(got.body, `"errorId":25706`) {
		t.Errorf("limit 201: answer = %d %s", got.status, got.body)
	}
}

func TestInventoryItemsOfAnEmptyInventory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seller := b.seller
	seller.RefreshToken = "v^1.1#empty"
	seller.InventoryItems = nil
	b.fake.AddSeller(seller)
	b.seller = seller

	got := b.inventoryItems(t, b.accessToken(t), "?limit=1&offset=0")

	want := `{"href":"` + b.base + `/sell/inventory/v1/inventory_item?limit=1\u0026offset=0","inventoryItems":[],"limit":1,"size":0,"total":0}`
	if got.status != http.StatusOK || got.body != want {
		t.Errorf("answer = %d %s\nwant %s", got.status, got.body, want)
	}
}

func TestAPIRefusalsAnswerAsEbay(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const invalidToken = `{"errors":[{"errorId":1001,"domain":"OAuth","category":"REQUEST","message":"Invalid access token","longMessage":"Invalid access token. Check the value of the Authorization HTTP request header."}]}`
	token := b.accessToken(t)

	for name, accessToken := range map[string]string{"missing": "", "unknown": "v^1.1#forged"} {
		if got := b.inventoryItems(t, accessToken, ""); got.status != http.StatusUnauthorized || got.body != invalidToken {
			t.Errorf("%s token: answer = %d %s", name, got.status, got.body)
		}
	}

	b.fake.SetFaults(ebayfake.Faults{ServerErrorsNext: 1, RateLimitNext: 1, RateLimitRetryAfter: 1500 * time.Millisecond})
	if got := b.inventoryItems(t, token, ""); got.status != http.StatusInternalServerError || !strings.Contains(got.body, `"errorId":25001`) {
		t.Errorf("server error: answer = %d %s", got.status, got.body)
	}
	got := b.inventoryItems(t, token, "")
	const tooMany = `{"errors":[{"errorId":2001,"domain":"ACCESS","category":"REQUEST","message":"Too many requests.","longMessage":"The request limit has been reached for the resource."}]}`
	if got.status != http.StatusTooManyRequests || got.body != tooMany || got.header.Get("Retry-After") != "2" {
		t.Errorf("rate limit: answer = %d %v %s", got.status, got.header, got.body)
	}
	if got := b.inventoryItems(t, token, ""); got.status != http.StatusOK {
		t.Errorf("after the faults: answer = %d %s", got.status, got.body)
	}

	b.clock.Advance(2 * time.Hour)
	if got := b.inventoryItems(t, token, ""); got.status != http.StatusUnauthorized {
		t.Errorf("expired token: answer = %d %s", got.status, got.body)
	}
}

func TestTokenWithoutTheScopeIsDenied(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seller := b.seller
	seller.RefreshToken = "v^1.1#account-only"
	seller.Scopes = []string{"https://api.ebay.com/oauth/api_scope/sell.account"}
	b.fake.AddSeller(seller)
	got := b.grant(t, seller.ClientID, seller.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seller.RefreshToken}})
	var token struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal([]byte(got.body), &token)

	got = b.inventoryItems(t, token.AccessToken, "")

	const denied = `{"errors":[{"errorId":1100,"domain":"ACCESS","category":"REQUEST","message":"Access denied","longMessage":"Insufficient permissions to fulfill the request."}]}`
	if got.status != http.StatusForbidden || got.body != denied {
		t.Errorf("answer = %d %s", got.status, got.body)
	}
}

func TestFaultsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := func(body string) answer {
		req, _ := http.NewRequest(http.MethodPost, b.base+"/_faults", strings.NewReader(body))
		return b.do(t, req)
	}

	got := post(`{"rate_limit_next":1,"rate_limit_retry_after":"30s","revoked_refresh_tokens":["v^1.1#i^1#sandbox"]}`)
	const want = `{"revoked_refresh_tokens":["v^1.1#i^1#sandbox"],"rate_limit_next":1,"rate_limit_retry_after":"30s","server_errors_next":0,"latency":"0s","quota_exhausted":false}`
	if got.status != http.StatusOK || got.body != want {
		t.Fatalf("POST /_faults = %d %s", got.status, got.body)
	}
	if f := b.fake.Faults(); f.RateLimitNext != 1 || f.RateLimitRetryAfter != 30*time.Second || len(f.RevokedRefreshTokens) != 1 {
		t.Errorf("Faults() = %+v", f)
	}
	req, _ := http.NewRequest(http.MethodGet, b.base+"/_faults", nil)
	if got := b.do(t, req); got.body != want {
		t.Errorf("GET /_faults = %s", got.body)
	}
	if got := post(`{"quota_exhausted":true}`); got.status != http.StatusOK || !b.fake.Faults().QuotaExhausted {
		t.Errorf("POST quota_exhausted = %d %s", got.status, got.body)
	}
	for _, bad := range []string{`{"server_errors_next":-2}`, `{"latency":"1 minute"}`, `{"rate_limit_retry_after":"1h"}`, `{"revoked":[]}`} {
		if got := post(bad); got.status != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", bad, got.status)
		}
	}
}

func TestIndexUsesThePublicURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetPublicURL("http://127.0.0.1:8080/_sandbox/ebay")
	req, _ := http.NewRequest(http.MethodGet, b.base+"/", nil)

	got := b.do(t, req)

	var index map[string]string
	_ = json.Unmarshal([]byte(got.body), &index)
	if index["api_url"] != "http://127.0.0.1:8080/_sandbox/ebay" || index["token_url"] != "http://127.0.0.1:8080/_sandbox/ebay/identity/v1/oauth2/token" {
		t.Errorf("index = %s", got.body)
	}
}

const tooManyRequests = `{"errors":[{"errorId":2001,"domain":"ACCESS","category":"REQUEST","message":"Too many requests.","longMessage":"The request limit has been reached for the resource."}]}`

func TestDailyQuotaPerApp(t *testing.T) {
	t.Parallel()
	b := setupWith(t, ebayfake.Options{DailyCallLimit: 2})
	sameApp := b.seller
	sameApp.RefreshToken = "v^1.1#same-app"
	otherApp := b.seller
	otherApp.ClientID, otherApp.RefreshToken = "Other-app-PRD-1", "v^1.1#other-app"
	b.fake.AddSeller(sameApp)
	b.fake.AddSeller(otherApp)
	tokenOf := func(seller ebayfake.Seller) string {
		got := b.grant(t, seller.ClientID, seller.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seller.RefreshToken}})
		var token struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal([]byte(got.body), &token)
		return token.AccessToken
	}
	token, sameAppToken, otherAppToken := b.accessToken(t), tokenOf(sameApp), tokenOf(otherApp)
	for range 2 {
		if got := b.inventoryItems(t, token, ""); got.status != http.StatusOK {
			t.Fatalf("within the quota: answer = %d %s", got.status, got.body)
		}
	}

	got := b.inventoryItems(t, token, "")

	if got.status != http.StatusTooManyRequests || got.body != tooManyRequests || got.header.Get("Retry-After") != "" {
		t.Errorf("over the quota: answer = %d %v %s, want 429 errorId 2001 without Retry-After", got.status, got.header, got.body)
	}
	if got := b.inventoryItems(t, sameAppToken, ""); got.status != http.StatusTooManyRequests {
		t.Errorf("another seller of the app: answer = %d, want the app's quota used up", got.status)
	}
	if got := b.inventoryItems(t, otherAppToken, ""); got.status != http.StatusOK {
		t.Errorf("a seller of another app: answer = %d %s", got.status, got.body)
	}

	b.clock.Advance(22*time.Hour + 59*time.Minute + 59*time.Second) // 23:59:59 in Los Angeles
	if got := b.inventoryItems(t, b.accessToken(t), ""); got.status != http.StatusTooManyRequests {
		t.Errorf("a second before midnight in Los Angeles: answer = %d", got.status)
	}
	b.clock.Advance(time.Second)
	if got := b.inventoryItems(t, b.accessToken(t), ""); got.status != http.StatusOK {
		t.Errorf("at midnight in Los Angeles: answer = %d %s", got.status, got.body)
	}
}

func TestQuotaDayInAnotherZone(t *testing.T) {
	t.Parallel()
	b := setupWith(t, ebayfake.Options{DailyCallLimit: 1, QuotaResetLocation: time.UTC})
	token := b.accessToken(t)
	if got := b.inventoryItems(t, token, ""); got.status != http.StatusOK {
		t.Fatalf("first call: answer = %d %s", got.status, got.body)
	}
	if got := b.inventoryItems(t, token, ""); got.status != http.StatusTooManyRequests {
		t.Fatalf("second call: answer = %d, want 429", got.status)
	}

	b.clock.Advance(14*time.Hour + 59*time.Minute + 59*time.Second)
	if got := b.inventoryItems(t, b.accessToken(t), ""); got.status != http.StatusTooManyRequests {
		t.Errorf("a second before midnight UTC: answer = %d", got.status)
	}
	b.clock.Advance(time.Second)

	if got := b.inventoryItems(t, b.accessToken(t), ""); got.status != http.StatusOK {
		t.Errorf("at midnight UTC: answer = %d %s", got.status, got.body)
	}
}

func TestQuotaExhaustedFault(t *testing.T) {
	t.Parallel()
	b := setup(t) // no daily limit
	token := b.accessToken(t)

	b.fake.SetFaults(ebayfake.Faults{QuotaExhausted: true})

	if got := b.inventoryItems(t, token, ""); got.status != http.StatusTooManyRequests || got.body != tooManyRequests {
		t.Errorf("exhausted: answer = %d %s", got.status, got.body)
	}
	if !b.fake.Faults().QuotaExhausted {
		t.Errorf("Faults().QuotaExhausted = false during the day it was set")
	}
	b.clock.Advance(23 * time.Hour) // 08:00 UTC, midnight in Los Angeles
	if got := b.inventoryItems(t, b.accessToken(t), ""); got.status != http.StatusOK {
		t.Errorf("after the reset: answer = %d %s", got.status, got.body)
	}
	if b.fake.Faults().QuotaExhausted {
		t.Errorf("Faults().QuotaExhausted = true after the reset")
	}
}

func (b *testBundle) applicationToken(t *testing.T) string {
	t.Helper()
	got := b.grant(t, b.seller.ClientID, b.seller.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {ebayfake.ScopeApplication}})
	var token map[string]any
	if err := json.Unmarshal([]byte(got.body), &token); err != nil || got.status != http.StatusOK {
		t.Fatalf("client-credentials grant = %d %s", got.status, got.body)
	}
	if token["token_type"] != "Application Access Token" || token["expires_in"] != 7200.0 {
		t.Errorf("token = %v", token)
	}
	return token["access_token"].(string)
}

func (b *testBundle) rateLimits(t *testing.T, accessToken, path string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return b.do(t, req)
}

func TestRateLimitsAnswerTheInventoryQuota(t *testing.T) {
	t.Parallel()
	b := setupWith(t, ebayfake.Options{DailyCallLimit: 2})
	appToken, userToken := b.applicationToken(t), b.accessToken(t)
	if got := b.inventoryItems(t, userToken, ""); got.status != http.StatusOK {
		t.Fatalf("inventory call: %d %s", got.status, got.body)
	}

	got := b.rateLimits(t, appToken, "/developer/analytics/v1_beta/rate_limit/?api_context=sell&api_name=inventory")

	const want = `{"rateLimits":[{"apiContext":"sell","apiName":"inventory","apiVersion":"v1","resources":[{"name":"sell.inventory","rates":[` +
		`{"count":1,"limit":2,"remaining":1,"reset":"2026-03-03T08:00:00.000Z","timeWindow":86400}]}]}]}`
	if got.status != http.StatusOK || got.body != want {
		t.Errorf("answer = %d %s\nwant 200 %s", got.status, got.body, want)
	}
	if got := b.rateLimits(t, appToken, "/developer/analytics/v1_beta/rate_limit?api_name=browse"); got.status != http.StatusOK || got.body != `{"rateLimits":[]}` {
		t.Errorf("another API, without the trailing slash: answer = %d %s", got.status, got.body)
	}

	b.clock.Advance(121 * 24 * time.Hour) // July: Pacific daylight time
	got = b.rateLimits(t, b.applicationToken(t), "/developer/analytics/v1_beta/rate_limit/")
	if !strings.Contains(got.body, `"count":0,"limit":2,"remaining":2,"reset":"2026-07-02T07:00:00.000Z"`) {
		t.Errorf("in summer: answer = %d %s, want a new day resetting at 07:00 UTC", got.status, got.body)
	}
}

func TestApplicationAndUserTokensAreNotInterchangeable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	appToken, userToken := b.applicationToken(t), b.accessToken(t)

	if got := b.rateLimits(t, userToken, "/developer/analytics/v1_beta/rate_limit/"); got.status != http.StatusUnauthorized || !strings.Contains(got.body, `"errorId":1001`) {
		t.Errorf("getRateLimits with a user token: answer = %d %s", got.status, got.body)
	}
	if got := b.inventoryItems(t, appToken, ""); got.status != http.StatusForbidden || !strings.Contains(got.body, `"errorId":1100`) {
		t.Errorf("Sell Inventory with an application token: answer = %d %s", got.status, got.body)
	}
	got := b.grant(t, b.seller.ClientID, b.seller.ClientSecret, url.Values{"grant_type": {"client_credentials"}, "scope": {ebayfake.ScopeSellInventory}})
	if got.status != http.StatusBadRequest || !strings.Contains(got.body, `"error":"invalid_scope"`) {
		t.Errorf("an application token for a user scope: grant = %d %s", got.status, got.body)
	}
}
