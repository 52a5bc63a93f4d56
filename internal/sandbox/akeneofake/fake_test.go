package akeneofake_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/sandbox/akeneofake"
	"github.com/dainostore/jobs/internal/sandbox/imagegen"
)

// testBundle is a fake PIM mounted under /pim, as the sandbox mounts it.
type testBundle struct {
	fake   *akeneofake.Fake
	clock  *clock.Fake
	server *httptest.Server
	base   string
}

func setup(t *testing.T, opts akeneofake.Options, catalog akeneofake.Catalog) *testBundle {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	fake := akeneofake.New(opts)
	fake.AddClient("client", "secret", "user", "password")
	fake.SetCatalog(catalog)
	mux := http.NewServeMux()
	mux.Handle("/pim/", http.StripPrefix("/pim", fake))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	fake.SetPublicURL(server.URL + "/pim")
	return &testBundle{fake: fake, clock: clk, server: server, base: server.URL + "/pim"}
}

// response is an answer of the fake, its body decoded.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (r response) message() string {
	m, _ := r.body["message"].(string)
	return m
}

func (b *testBundle) do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("body %s: %v", raw, err)
		}
	}
	return out
}

func (b *testBundle) grant(t *testing.T, clientID, secret, contentType, body string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+"/api/oauth/v1/token", strings.NewReader(body))
	req.SetBasicAuth(clientID, secret)
	req.Header.Set("Content-Type", contentType)
	return b.do(t, req)
}

func (b *testBundle) token(t *testing.T) string {
	t.Helper()
	resp := b.grant(t, "client", "secret", "application/json", `{"grant_type":"password","username":"user","password":"password"}`)
	if resp.status != http.StatusOK {
		t.Fatalf("password grant: %d %s", resp.status, resp.raw)
	}
	return resp.body["access_token"].(string)
}

func (b *testBundle) get(t *testing.T, token, link string) response {
	t.Helper()
	if !strings.HasPrefix(link, "http") {
		link = b.base + link
	}
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return b.do(t, req)
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Options{}, akeneofake.Catalog{})

	ok := b.grant(t, "client", "secret", "application/x-www-form-urlencoded", "grant_type=password&username=user&password=password")
	if ok.status != http.StatusOK || ok.body["token_type"] != "bearer" || ok.body["expires_in"] != float64(3600) || ok.body["refresh_token"] == "" {
		t.Fatalf("form password grant: %d %s", ok.status, ok.raw)
	}
	refreshBody := fmt.Sprintf(`{"grant_type":"refresh_token","refresh_token":%q}`, ok.body["refresh_token"])
	if resp := b.grant(t, "client", "secret", "application/json", refreshBody); resp.status != http.StatusOK {
		t.Fatalf("refresh grant: %d %s", resp.status, resp.raw)
	}

	refusals := map[string]struct {
		clientID, secret, body string
		message                string
	}{
		"unknown client": {"other", "secret", `{"grant_type":"password","username":"user","password":"password"}`,
			`Parameter "client_id" is missing or does not match any client, or secret is invalid`},
		"wrong secret": {"client", "nope", `{"grant_type":"password","username":"user","password":"password"}`,
			`Parameter "client_id" is missing or does not match any client, or secret is invalid`},
		"wrong password": {"client", "secret", `{"grant_type":"password","username":"user","password":"nope"}`,
			"No user found for the given username and password"},
		"missing username": {"client", "secret", `{"grant_type":"password","password":"password"}`,
			`Parameter "grant_type", "username" or "password" is missing, empty or invalid`},
		"used refresh token": {"client", "secret", refreshBody, "Refresh token is invalid or has expired"},
	}
	for name, tc := range refusals {
		resp := b.grant(t, tc.clientID, tc.secret, "application/json", tc.body)
		if resp.status != http.StatusUnprocessableEntity || resp.message() != tc.message || resp.body["code"] != float64(422) {
			t.Errorf("%s: %d %s, want 422 %q", name, resp.status, resp.raw, tc.message)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, b.base+"/api/oauth/v1/token", nil)
	if resp := b.do(t, req); resp.status != http.StatusMethodNotAllowed {
		t.Errorf("GET token: %d, want 405", resp.status)
	}
	counters := b.fake.Counters()
	if counters.PasswordGrants != 1 || counters.RefreshGrants != 1 || counters.TokenRequests != 7 {
		t.Errorf("counters %+v, want 1 password grant, 1 refresh, 7 token requests", counters)
	}
}

func TestResourceCallsNeedAValidToken(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Options{}, akeneofake.Seed(1, 3, 3))
	token := b.token(t)

	tests := []struct {
		name    string
		token   string
		prepare func()
		message string
	}{
		{"no token", "", nil, "Authentication is required"},
		{"unknown token", "forged", nil, "The access token provided is invalid."},
		{"expired token", token, func() { b.clock.Advance(time.Hour) }, "The access token provided has expired."},
	}
	for _, tc := range tests {
		if tc.prepare != nil {
			tc.prepare()
		}
		resp := b.get(t, tc.token, "/api/rest/v1/categories")
		if resp.status != http.StatusUnauthorized || resp.message() != tc.message {
			t.Errorf("%s: %d %s, want 401 %q", tc.name, resp.status, resp.raw, tc.message)
		}
	}

	// ExpireTokens expires the tokens issued so far, not the next ones.
	fresh := b.token(t)
	b.fake.SetFaults(akeneofake.Faults{ExpireTokens: true})
	if resp := b.get(t, fresh, "/api/rest/v1/categories"); resp.message() != "The access token provided has expired." {
		t.Errorf("after ExpireTokens: %d %s", resp.status, resp.raw)
	}
	if resp := b.get(t, b.token(t), "/api/rest/v1/categories"); resp.status != http.StatusOK {
		t.Errorf("token issued after ExpireTokens: %d %s", resp.status, resp.raw)
	}
	if b.fake.Faults().ExpireTokens {
		t.Error("ExpireTokens reads back true; it acts once")
	}

	// Revoked credentials: no grant, no token.
	issued := b.token(t)
	b.fake.SetFaults(akeneofake.Faults{RevokedCredentials: true})
	if resp := b.get(t, issued, "/api/rest/v1/categories"); resp.message() != "The access token provided is invalid." {
		t.Errorf("revoked: %d %s", resp.status, resp.raw)
	}
	resp := b.grant(t, "client", "secret", "application/json", `{"grant_type":"password","username":"user","password":"password"}`)
	if resp.message() != "No user found for the given username and password" {
		t.Errorf("grant while revoked: %d %s", resp.status, resp.raw)
	}
}

func TestProductsSearchAfterPagination(t *testing.T) {
	t.Parallel()
	catalog := akeneofake.Seed(2, 45, 10)
	b := setup(t, akeneofake.Options{}, catalog)
	token := b.token(t)

	var uuids []string
	link, pages := "/api/rest/v1/products-uuid?pagination_type=search_after&limit=15", 0
	for link != "" {
		resp := b.get(t, token, link)
		if resp.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", link, resp.status, resp.raw)
		}
		pages++
		for _, item := range resp.body["_embedded"].(map[string]any)["items"].([]any) {
			uuids = append(uuids, item.(map[string]any)["uuid"].(string))
		}
		link = ""
		if next, ok := resp.body["_links"].(map[string]any)["next"].(map[string]any); ok {
			link = next["href"].(string)
			if !strings.HasPrefix(link, b.base+"/api/rest/v1/products-uuid?") {
				t.Fatalf("next link %q is not an absolute link to the fake", link)
			}
		}
	}
	// 45 = 3 full pages, and the full third page links to an empty fourth.
	if pages != 4 || len(uuids) != 45 {
		t.Errorf("%d products in %d pages, want 45 in 4", len(uuids), pages)
	}
	for i := 1; i < len(uuids); i++ {
		if uuids[i-1] >= uuids[i] {
			t.Fatalf("products not in uuid order at %d", i)
		}
	}
	if n := b.fake.Counters().ProductPages; n != 4 {
		t.Errorf("fake counted %d product pages, want 4", n)
	}
}

func TestProductItemShape(t *testing.T) {
	t.Parallel()
	catalog := akeneofake.Seed(2, 20, 10)
	b := setup(t, akeneofake.Options{}, catalog)
	seeded := catalog.Products[13] // its image is broken, its back image is not
	resp := b.get(t, b.token(t), "/api/rest/v1/products-uuid/"+seeded.UUID)
	if resp.status != http.StatusOK {
		t.Fatalf("%d %s", resp.status, resp.raw)
	}
	for _, key := range []string{"uuid", "enabled", "family", "categories", "groups", "parent", "values", "created", "updated", "associations", "_links"} {
		if _, ok := resp.body[key]; !ok {
			t.Errorf("product has no %q", key)
		}
	}
	values := resp.body["values"].(map[string]any)
	image := values["image"].([]any)[0].(map[string]any)
	href := image["_links"].(map[string]any)["download"].(map[string]any)["href"].(string)
	if want := b.base + "/api/rest/v1/media-files/" + image["data"].(string) + "/download"; href != want || image["locale"] != nil || image["scope"] != nil {
		t.Errorf("image value %v, want download link %s", image, want)
	}
	if _, ok := values["sku"].([]any)[0].(map[string]any)["_links"]; ok {
		t.Error("a text value has a download link")
	}
	if updated := resp.body["updated"].(string); updated != seeded.Updated.Format("2006-01-02T15:04:05+00:00") {
		t.Errorf("updated %q", updated)
	}
	if resp := b.get(t, b.token(t), "/api/rest/v1/products-uuid/no-such-uuid"); resp.status != http.StatusNotFound {
		t.Errorf("unknown product: %d", resp.status)
	}
}

func TestProductQueries(t *testing.T) {
	t.Parallel()
	catalog := akeneofake.Seed(2, 60, 10)
	b := setup(t, akeneofake.Options{}, catalog)
	token := b.token(t)
	since := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	var updatedAfter, enabled int
	for _, p := range catalog.Products {
		if p.Updated.After(since) {
			updatedAfter++
		}
		if p.Enabled {
			enabled++
		}
	}

	count := func(search string) response {
		q := url.Values{"limit": {"1"}, "with_count": {"true"}}
		if search != "" {
			q.Set("search", search)
		}
		return b.get(t, token, "/api/rest/v1/products-uuid?"+q.Encode())
	}
	for search, want := range map[string]int{
		"": len(catalog.Products),
		`{"updated":[{"operator":">","value":"2025-11-01 00:00:00"}]}`:                                           updatedAfter,
		`{"enabled":[{"operator":"=","value":true}]}`:                                                            enabled,
		`{"enabled":[{"operator":"=","value":true}],"updated":[{"operator":">","value":"2099-01-01 00:00:00"}]}`: 0,
	} {
		resp := count(search)
		if resp.status != http.StatusOK || resp.body["items_count"] != float64(want) {
			t.Errorf("count %s: %d %v, want %d", search, resp.status, resp.body["items_count"], want)
		}
	}

	for query, want := range map[string]struct {
		status  int
		message string
	}{
		"limit=101":              {422, "You cannot request more than 100 items."},
		"limit=0":                {422, `"0" is not a valid limit number.`},
		"pagination_type=cursor": {422, "Pagination type does not exist."},
		"search=" + url.QueryEscape(`{"updated":`): {400, "Search query parameter should be valid JSON."},
		"search=" + url.QueryEscape(`{"updated":{"operator":">"}}`): {422,
			`Structure of filter "updated" should respect this structure: {"updated":[{"operator": "my_operator", "value": "my_value"}]}`},
		"search=" + url.QueryEscape(`{"completeness":[{"operator":">","value":70,"scope":"ecommerce"}]}`): {422,
			`Filter on property "completeness" with operator ">" is not supported by the sandbox`},
		"page=101&limit=100": {422, `You have reached the maximum number of pages you can retrieve with the "page" pagination type. Please use the search after pagination type instead`},
	} {
		resp := b.get(t, token, "/api/rest/v1/products-uuid?"+query)
		if resp.status != want.status || resp.message() != want.message {
			t.Errorf("%s: %d %q, want %d %q", query, resp.status, resp.message(), want.status, want.message)
		}
	}
}

func TestCategoriesInTreeOrder(t *testing.T) {
	t.Parallel()
	catalog := akeneofake.Seed(2, 0, 30)
	b := setup(t, akeneofake.Options{}, catalog)
	token := b.token(t)

	resp := b.get(t, token, "/api/rest/v1/categories?limit=20&page=1&with_position=true&with_count=true")
	if resp.status != http.StatusOK || resp.body["items_count"] != float64(30) || resp.body["current_page"] != float64(1) {
		t.Fatalf("%d %s", resp.status, resp.raw)
	}
	next := resp.body["_links"].(map[string]any)["next"].(map[string]any)["href"].(string)
	items := resp.body["_embedded"].(map[string]any)["items"].([]any)
	second := b.get(t, token, next)
	items = append(items, second.body["_embedded"].(map[string]any)["items"].([]any)...)
	if _, ok := second.body["_links"].(map[string]any)["next"]; ok || len(items) != 30 {
		t.Fatalf("%d categories, next link on the last page: %v", len(items), ok)
	}
	seen := map[string]bool{}
	for i, item := range items {
		c := item.(map[string]any)
		if c["code"] != catalog.Categories[i].Code {
			t.Errorf("category %d is %v, want %s", i, c["code"], catalog.Categories[i].Code)
		}
		if parent, ok := c["parent"].(string); ok && !seen[parent] {
			t.Errorf("category %v comes before its parent %s", c["code"], parent)
		}
		if c["position"] == nil || c["labels"].(map[string]any)["fr_FR"] == "" {
			t.Errorf("category %v lacks its position or labels", c)
		}
		seen[c["code"].(string)] = true
	}
	if roots := catalog.Categories[0]; roots.Code != "master" || roots.Parent != "" {
		t.Errorf("first category %+v, want the master root", roots)
	}
}

func TestMediaDownload(t *testing.T) {
	t.Parallel()
	catalog := akeneofake.Seed(2, 20, 10)
	b := setup(t, akeneofake.Options{}, catalog)
	token := b.token(t)

	var stored string
	for code := range catalog.MediaFiles {
		stored = code
		break
	}
	resp := b.get(t, token, "/api/rest/v1/media-files/"+stored+"/download")
	if resp.status != http.StatusOK || resp.header.Get("Content-Type") != "image/png" || string(resp.raw) != string(imagegen.PNG(stored, 64, 64)) {
		t.Errorf("download %s: %d %s, %d bytes", stored, resp.status, resp.header.Get("Content-Type"), len(resp.raw))
	}

	var broken string
	_ = json.Unmarshal(catalog.Products[13].Values["image"][0].Data, &broken)
	if _, ok := catalog.MediaFiles[broken]; ok {
		t.Fatal("product 13's image is stored; the seed breaks it on purpose")
	}
	resp = b.get(t, token, "/api/rest/v1/media-files/"+broken+"/download")
	if resp.status != http.StatusNotFound || resp.message() != fmt.Sprintf("Media file %q does not exist.", broken) {
		t.Errorf("broken image: %d %s", resp.status, resp.raw)
	}
	if n := b.fake.Counters().MediaDownloads[broken]; n != 1 {
		t.Errorf("fake counted %d downloads of the broken image", n)
	}
}

func TestInjectedFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Options{}, akeneofake.Seed(1, 3, 3))
	token := b.token(t)

	req, _ := http.NewRequest(http.MethodPost, b.base+"/_faults", strings.NewReader(`{"rate_limit_next":1,"retry_after_seconds":9,"server_errors_next":2}`))
	if resp := b.do(t, req); resp.status != http.StatusOK {
		t.Fatalf("POST /_faults: %d %s", resp.status, resp.raw)
	}
	var statuses []int
	for range 4 {
		resp := b.get(t, token, "/api/rest/v1/categories")
		statuses = append(statuses, resp.status)
		if resp.status == http.StatusTooManyRequests && resp.header.Get("Retry-After") != "9" {
			t.Errorf("Retry-After %q, want 9", resp.header.Get("Retry-After"))
		}
	}
	if want := []int{429, 500, 503, 200}; !reflect.DeepEqual(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	if resp := b.get(t, "", "/_faults"); resp.body["rate_limit_next"] != float64(0) {
		t.Errorf("GET /_faults: %s", resp.raw)
	}
}

func TestRequestsPerSecond(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Options{RequestsPerSecond: 2}, akeneofake.Seed(1, 3, 3))
	token := b.token(t)
	for i := range 2 {
		if resp := b.get(t, token, "/api/rest/v1/categories"); resp.status != http.StatusOK {
			t.Fatalf("call %d: %d", i, resp.status)
		}
	}
	resp := b.get(t, token, "/api/rest/v1/categories")
	if resp.status != http.StatusTooManyRequests || resp.header.Get("Retry-After") != "1" {
		t.Errorf("third call in the second: %d, Retry-After %q", resp.status, resp.header.Get("Retry-After"))
	}
	b.clock.Advance(time.Second)
	if resp := b.get(t, token, "/api/rest/v1/categories"); resp.status != http.StatusOK {
		t.Errorf("a second later: %d", resp.status)
	}
}

func TestConcurrentCallsBeyondTheLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Options{MaxConcurrent: 1}, akeneofake.Seed(1, 3, 3))
	token := b.token(t)
	// The first call stays in flight until cancelled.
	b.fake.SetFaults(akeneofake.Faults{LatencyMS: 60_000})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.base+"/api/rest/v1/categories", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := b.server.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for b.fake.Counters().InFlight < 1 {
		time.Sleep(time.Millisecond)
	}
	// Bounded, should the fake let it in to wait the latency too.
	second, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	req, _ := http.NewRequestWithContext(second, http.MethodGet, b.base+"/api/rest/v1/categories", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp := b.do(t, req)
	cancel()
	<-done
	if resp.status != http.StatusTooManyRequests || resp.header.Get("Retry-After") == "" {
		t.Errorf("second call in flight: %d %s", resp.status, resp.raw)
	}
}

func TestUpdateProduct(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Options{}, akeneofake.Seed(1, 5, 3))
	uuid := b.fake.Catalog().Products[2].UUID
	b.clock.Advance(time.Hour)
	if err := b.fake.UpdateProduct(uuid, func(p *akeneofake.Product) { p.Family = "shoes" }); err != nil {
		t.Fatal(err)
	}
	p := b.fake.Catalog().Products[2]
	if p.Family != "shoes" || !p.Updated.Equal(b.clock.Now()) {
		t.Errorf("edited product %+v", p)
	}
	if err := b.fake.UpdateProduct("missing", nil); !errors.Is(err, akeneofake.ErrNoProduct) {
		t.Errorf("UpdateProduct of a missing product: %v", err)
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	catalog := akeneofake.Seed(1, 2000, 150)
	if !reflect.DeepEqual(catalog, akeneofake.Seed(1, 2000, 150)) {
		t.Fatal("the same seed gave two catalogs")
	}
	if reflect.DeepEqual(catalog.Products[0], akeneofake.Seed(2, 2000, 150).Products[0]) {
		t.Error("another seed gave the same products")
	}
	if len(catalog.Products) != 2000 || len(catalog.Categories) != 150 {
		t.Fatalf("%d products, %d categories", len(catalog.Products), len(catalog.Categories))
	}

	var withoutSKU, broken []int
	families, uuids := map[string]int{}, map[string]bool{}
	for i, p := range catalog.Products {
		if p.SKU() == "" {
			withoutSKU = append(withoutSKU, i)
		}
		for _, v := range p.Values["image"] {
			var code string
			_ = json.Unmarshal(v.Data, &code)
			if _, ok := catalog.MediaFiles[code]; !ok {
				broken = append(broken, i)
			}
		}
		families[p.Family]++
		uuids[p.UUID] = true
		if len(p.Categories) == 0 || len(p.Categories) > 3 {
			t.Errorf("product %d is in %d categories", i, len(p.Categories))
		}
	}
	if len(withoutSKU) != 19 || withoutSKU[0] != 100 || withoutSKU[1] != 201 {
		t.Errorf("products without SKU: %v", withoutSKU)
	}
	if want := []int{13, 513, 1013, 1513}; !reflect.DeepEqual(broken, want) {
		t.Errorf("broken images: %v, want %v", broken, want)
	}
	if len(uuids) != 2000 || len(families) != 3 {
		t.Errorf("%d distinct uuids, families %v", len(uuids), families)
	}
	depth := map[string]int{}
	maxDepth := 0
	for _, c := range catalog.Categories {
		if c.Parent != "" {
			depth[c.Code] = depth[c.Parent] + 1
		}
		maxDepth = max(maxDepth, depth[c.Code])
		if len(c.Labels) != 3 {
			t.Errorf("category %s has labels %v", c.Code, c.Labels)
		}
	}
	if maxDepth != 3 {
		t.Errorf("category tree is %d levels deep, want 3", maxDepth)
	}
}
