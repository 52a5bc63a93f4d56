package amazonfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/sandbox/amazonfake"
)

type testBundle struct {
	fake   *amazonfake.Server
	clock  *clock.Fake
	server *httptest.Server
	seller amazonfake.Seller
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	fake := amazonfake.New(amazonfake.Options{Now: clk.Now})
	seller := amazonfake.SandboxSeller()
	fake.AddSeller(seller)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	return &testBundle{fake: fake, clock: clk, server: server, seller: seller}
}

// answer is what a test reads of a response.
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

func (b *testBundle) grant(t *testing.T, form url.Values) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/auth/o2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	return b.do(t, req)
}

func (b *testBundle) goodGrant() url.Values {
	return url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {b.seller.RefreshToken},
		"client_id":     {b.seller.ClientID},
		"client_secret": {b.seller.ClientSecret},
	}
}

func (b *testBundle) accessToken(t *testing.T) string {
	t.Helper()
	got := b.grant(t, b.goodGrant())
	var token struct {
		AccessToken string `json:"access_token"`
	}
	if got.status != http.StatusOK || json.Unmarshal([]byte(got.body), &token) != nil {
		t.Fatalf("grant = %d %s", got.status, got.body)
	}
	return token.AccessToken
}

func (b *testBundle) participations(t *testing.T, accessToken string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.server.URL+"/sellers/v1/marketplaceParticipations", nil)
	req.Header.Set("x-amz-access-token", accessToken)
	return b.do(t, req)
}

func TestTokenGrantAnswersAsLWA(t *testing.T) {
	t.Parallel()
	b := setup(t)

	got := b.grant(t, b.goodGrant())

	if got.status != http.StatusOK || got.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("grant = %d %v", got.status, got.header)
	}
	var token map[string]any
	if err := json.Unmarshal([]byte(got.body), &token); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token["access_token"].(string), "Atza|") || token["token_type"] != "bearer" ||
		token["expires_in"] != 3600.0 || token["refresh_token"] != b.seller.RefreshToken {
		t.Errorf("token = %v", token)
	}
}

func TestTokenErrorsAnswerAsLWA(t *testing.T) {
	t.Parallel()
	b := setup(t)
	with := func(key, value string) url.Values {
		form := b.goodGrant()
		form.Set(key, value)
		return form
	}
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantBody   string
	}{
		{"unknown refresh token", with("refresh_token", "Atzr|other"), http.StatusBadRequest,
			`{"error_description":"The request has an invalid grant parameter : refresh_token","error":"invalid_grant"}`},
		{"wrong secret", with("client_secret", "guess"), http.StatusUnauthorized,
			`{"error_description":"Client authentication failed","error":"invalid_client"}`},
		{"unknown client", with("client_id", "amzn1.application-oa2-client.other"), http.StatusUnauthorized,
			`{"error_description":"Client authentication failed","error":"invalid_client"}`},
		{"other grant type", with("grant_type", "client_credentials"), http.StatusBadRequest,
			`{"error_description":"The authorization grant type is not supported by the authorization server","error":"unsupported_grant_type"}`},
	}
	for _, tt := range tests {
		got := b.grant(t, tt.form)
		if got.status != tt.wantStatus || got.body != tt.wantBody {
			t.Errorf("%s: grant = %d %s\nwant %d %s", tt.name, got.status, got.body, tt.wantStatus, tt.wantBody)
		}
	}

	b.fake.SetFaults(amazonfake.Faults{RevokedRefreshTokens: []string{b.seller.RefreshToken}})
	got := b.grant(t, b.goodGrant())
	const revoked = `{"error_description":"The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.","error":"invalid_grant"}`
	if got.status != http.StatusBadRequest || got.body != revoked {
		t.Errorf("revoked: grant = %d %s", got.status, got.body)
	}
	if c := b.fake.Counters(); c.TokenRequests != len(tests)+1 || c.TokenGrants != 0 {
		t.Errorf("counters = %+v", c)
	}
}

func TestMalformedGrantIsInvalidRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/auth/o2/token", strings.NewReader(`{"grant_type":"refresh_token"}`))
	req.Header.Set("Content-Type", "application/json")

	got := b.do(t, req)

	var body map[string]string
	_ = json.Unmarshal([]byte(got.body), &body)
	if got.status != http.StatusBadRequest || body["error"] != "invalid_request" || body["error_description"] != "Malformed request" || body["error_index"] == "" {
		t.Errorf("grant = %d %s", got.status, got.body)
	}
}

func TestMarketplaceParticipations(t *testing.T) {
	t.Parallel()
	b := setup(t)

	got := b.participations(t, b.accessToken(t))

	if got.status != http.StatusOK || got.header.Get("x-amzn-RateLimit-Limit") != "0.016" || got.header.Get("x-amzn-RequestId") == "" {
		t.Fatalf("answer = %d %v", got.status, got.header)
	}
	const want = `{"payload":[` +
		`{"marketplace":{"id":"ATVPDKIKX0DER","name":"Amazon.com","countryCode":"US","defaultCurrencyCode":"USD","defaultLanguageCode":"en_US","domainName":"www.amazon.com"},"participation":{"isParticipating":true,"hasSuspendedListings":false}},` +
		`{"marketplace":{"id":"A2EUQ1WTGCTBG2","name":"Amazon.ca","countryCode":"CA","defaultCurrencyCode":"CAD","defaultLanguageCode":"en_CA","domainName":"www.amazon.ca"},"participation":{"isParticipating":true,"hasSuspendedListings":false}}]}`
	if got.body != want {
		t.Errorf("body = %s\nwant   %s", got.body, want)
	}
}

func TestSPAPIRefusesTokensThatAreNotCurrent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const denied = `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}`
	token := b.accessToken(t)

	for name, accessToken := range map[string]string{"missing": "", "unknown": "Atza|forged"} {
		if got := b.participations(t, accessToken); got.status != http.StatusForbidden || got.body != denied {
			t.Errorf("%s token: answer = %d %s", name, got.status, got.body)
		}
	}

	b.clock.Advance(time.Hour)
	if got := b.participations(t, token); got.status != http.StatusForbidden {
		t.Errorf("expired token: answer = %d %s", got.status, got.body)
	}

	fresh := b.accessToken(t)
	b.fake.SetFaults(amazonfake.Faults{RevokedRefreshTokens: []string{b.seller.RefreshToken}})
	if got := b.participations(t, fresh); got.status != http.StatusForbidden {
		t.Errorf("token of a revoked authorization: answer = %d %s", got.status, got.body)
	}
}

func TestUsagePlanLimitsTheSeller(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	const quotaExceeded = `{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`

	for i := range 15 { // the burst
		if got := b.participations(t, token); got.status != http.StatusOK {
			t.Fatalf("call %d of the burst = %d %s", i+1, got.status, got.body)
		}
	}
	got := b.participations(t, token)
	if got.status != http.StatusTooManyRequests || got.body != quotaExceeded {
		t.Fatalf("call past the burst = %d %s", got.status, got.body)
	}
	if got.header.Get("Retry-After") != "" || got.header.Get("x-amzn-RateLimit-Limit") != "" {
		t.Errorf("429 carries %v; SP-API sends neither Retry-After nor a rate limit", got.header)
	}

	b.clock.Advance(63 * time.Second) // one request back at 0.016 per second
	if got := b.participations(t, token); got.status != http.StatusOK {
		t.Errorf("call after the refill = %d %s", got.status, got.body)
	}
	if got := b.participations(t, token); got.status != http.StatusTooManyRequests {
		t.Errorf("second call after the refill = %d", got.status)
	}
}

func TestInjectedFaultsCountDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	b.fake.SetFaults(amazonfake.Faults{ServerErrorsNext: 1, RateLimitNext: 1})

	const internalFailure = `{"errors":[{"code":"InternalFailure","message":"We encountered an internal error. Please try again.","details":""}]}`
	if got := b.participations(t, token); got.status != http.StatusInternalServerError || got.body != internalFailure {
		t.Errorf("first call = %d %s", got.status, got.body)
	}
	if got := b.participations(t, token); got.status != http.StatusTooManyRequests {
		t.Errorf("second call = %d %s", got.status, got.body)
	}
	if got := b.participations(t, token); got.status != http.StatusOK {
		t.Errorf("third call = %d %s", got.status, got.body)
	}
	if f := b.fake.Faults(); f.ServerErrorsNext != 0 || f.RateLimitNext != 0 {
		t.Errorf("faults left = %+v", f)
	}
}

func TestFaultsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := func(body string) answer {
		req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/_faults", strings.NewReader(body))
		return b.do(t, req)
	}

	got := post(`{"revoked_refresh_tokens":["Atzr|sandbox"],"rate_limit_next":2,"latency":"1.5s"}`)
	const want = `{"revoked_refresh_tokens":["Atzr|sandbox"],"rate_limit_next":2,"server_errors_next":0,"latency":"1.5s"}`
	if got.status != http.StatusOK || got.body != want {
		t.Fatalf("POST /_faults = %d %s", got.status, got.body)
	}
	if f := b.fake.Faults(); f.RateLimitNext != 2 || f.Latency != 1500*time.Millisecond || len(f.RevokedRefreshTokens) != 1 {
		t.Errorf("Faults() = %+v", f)
	}
	req, _ := http.NewRequest(http.MethodGet, b.server.URL+"/_faults", nil)
	if got := b.do(t, req); got.body != want {
		t.Errorf("GET /_faults = %s", got.body)
	}

	for _, bad := range []string{`{"rate_limit_next":-1}`, `{"latency":"soon"}`, `{"latency":"2h"}`, `{"rate_limits":1}`} {
		if got := post(bad); got.status != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", bad, got.status)
		}
	}
	if got := post(`{}`); got.status != http.StatusOK || b.fake.Faults().RateLimitNext != 0 {
		t.Errorf("POST {} did not clear the faults: %d %s", got.status, got.body)
	}
}

func TestIndexUsesThePublicURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.SetPublicURL("http://127.0.0.1:8080/_sandbox/amazon/")
	req, _ := http.NewRequest(http.MethodGet, b.server.URL+"/", nil)

	got := b.do(t, req)

	var index map[string]string
	_ = json.Unmarshal([]byte(got.body), &index)
	if index["lwa_url"] != "http://127.0.0.1:8080/_sandbox/amazon/auth/o2/token" || index["spapi_url"] != "http://127.0.0.1:8080/_sandbox/amazon" {
		t.Errorf("index = %s", got.body)
	}
}

func TestAddSellerRejectsAnUnknownMarketplace(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Errorf("AddSeller accepted an unknown marketplace")
		}
	}()
	seller := amazonfake.SandboxSeller()
	seller.MarketplaceIDs = []string{"A0NOTAMARKET"}
	amazonfake.New(amazonfake.Options{}).AddSeller(seller)
}
