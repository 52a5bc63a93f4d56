package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dainostore/jobs/docs"
	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/ledgerfake"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// openAPIDoc is the parts of the OpenAPI document the contract test reads.
type openAPIDoc struct {
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		Responses map[string]openAPIResponse `json:"responses"`
	} `json:"components"`
}

type openAPIOperation struct {
	Parameters []struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Greedy bool   `json:"x-greedy"`
	} `json:"parameters"`
	Responses map[string]openAPIResponse `json:"responses"`
}

type openAPIResponse struct {
	Ref     string                     `json:"$ref"`
	Content map[string]json.RawMessage `json:"content"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(docs.OpenAPI, &doc); err != nil {
		t.Fatalf("docs/openapi.json: %v", err)
	}
	return doc
}

func TestRouterAndOpenAPIDocumentAgree(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	doc := loadOpenAPI(t)
	routed := map[string]bool{}
	for _, route := range a.API.Routes() {
		method, path, _ := strings.Cut(route.Pattern, " ")
		greedy := map[string]bool{}
		for _, match := range greedyWildcard.FindAllStringSubmatch(path, -1) {
			greedy[match[1]] = true
		}
		path = documentPath(path)
		routed[strings.ToLower(method)+" "+path] = true
		op, ok := doc.Paths[path][strings.ToLower(method)]
		if !ok {
			t.Errorf("route %s is not in docs/openapi.json", route.Pattern)
		}
		for _, p := range op.Parameters {
			if p.In == "path" && p.Greedy != greedy[p.Name] {
				t.Errorf("route %s: the document's path parameter %s has x-greedy %v, want %v", route.Pattern, p.Name, p.Greedy, greedy[p.Name])
			}
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if !routed[method+" "+path] {
				t.Errorf("docs/openapi.json documents %s %s, which the API does not serve", strings.ToUpper(method), path)
			}
		}
	}
}

// documentPath is a route's path as the document writes it: a wildcard of
// several segments, net/http's {key...}, is a parameter {key} that the
// document marks x-greedy (and the stack deploys as API Gateway's {key+}).
func documentPath(routePath string) string {
	return greedyWildcard.ReplaceAllString(routePath, "{$1}")
}

var greedyWildcard = regexp.MustCompile(`\{(\w+)\.\.\.\}`)

// recordedResponse is one response the API gave during the contract test.
type recordedResponse struct {
	pattern string
	status  int
	body    []byte
}

// responseRecorder wraps the API and keeps every response with the route it matched.
type responseRecorder struct {
	api    http.Handler
	routes *http.ServeMux
	mu     sync.Mutex
	seen   []recordedResponse
}

func (rec *responseRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := rec.routes.Handler(r)
	out := httptest.NewRecorder()
	rec.api.ServeHTTP(out, r)
	rec.mu.Lock()
	rec.seen = append(rec.seen, recordedResponse{pattern: pattern, status: out.Code, body: out.Body.Bytes()})
	rec.mu.Unlock()
	for k, v := range out.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(out.Code)
	_, _ = io.Copy(w, out.Body)
}

// Real responses of every route, in their success and error cases, match the
// schemas of docs/openapi.json.
func TestResponsesMatchTheOpenAPISchemas(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.CreateRateLimit = 4
	box := startSandbox(t, env, sandbox.Options{ShopifyProducts: 3, ShopifyCollections: 1, AkeneoProducts: 2, AkeneoCategories: 2})
	a := env.App(t, app.Overrides{})
	rec := &responseRecorder{api: a.API, routes: http.NewServeMux()}
	for _, route := range a.API.Routes() {
		rec.routes.HandleFunc(route.Pattern, func(http.ResponseWriter, *http.Request) {})
	}
	a.HTTP = rec
	base := testenv.Serve(t, a)
	store := bearer(testenv.StoreToken(t, "contract"))

	call(t, http.MethodGet, base+"/healthz", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/openapi.json", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/status", nil, "Authorization", "Bearer nope")
	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "contract", "payload": map[string]any{"steps": 1}})
	waitForStatus(t, base, id, "completed")
	call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "store_id": "contract", "payload": map[string]any{"steps": 1, "fail_attempts": 1, "fail_with": "permanent", "api_key": "k"}}, "Idempotency-Key", "contract-1")
	call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "store_id": "contract", "payload": map[string]any{"steps": 1, "fail_attempts": 1, "fail_with": "permanent", "api_key": "k"}}, "Idempotency-Key", "contract-1")
	call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "store_id": "contract", "payload": map[string]any{"steps": 3}}, "Idempotency-Key", "contract-1")
	call(t, http.MethodPost, base+"/api/background-jobs", `{"type": "nope", "store_id": "contract"}`)
	call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "system:cleanup"}, store...)
	call(t, http.MethodPost, base+"/api/background-jobs", `{"type": "dev:simulate", "store_id": "x", "payload": {"a": "`+strings.Repeat("a", 300<<10)+`"}}`)
	long := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "contract-long", "payload": map[string]any{"steps": 1000, "step_ms": 50}})
	call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "store_id": "contract-long"})
	for range 5 {
		call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "dev:simulate", "store_id": "contract-long"})
	}
	call(t, http.MethodGet, base+"/api/background-jobs?store_id=contract&limit=1", nil)
	call(t, http.MethodGet, base+"/api/background-jobs?store_id=contract&limit=0", nil)
	call(t, http.MethodGet, base+"/api/background-jobs?store_id=other", nil, store...)
	call(t, http.MethodGet, base+"/api/background-jobs/status?store_id=contract", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/metrics?days=2", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/metrics?days=0", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/metrics?store_id=other", nil, store...)
	call(t, http.MethodGet, base+"/api/background-jobs/status?store_id=other", nil, store...)
	call(t, http.MethodGet, base+"/api/background-jobs/"+id, nil)
	call(t, http.MethodGet, base+"/api/background-jobs/missing", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/status", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/logs?level=info&limit=2", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/logs?level=loud", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/missing/logs", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/missing/status", nil)
	call(t, http.MethodPost, base+"/api/background-jobs/"+long+"/cancel", nil)
	call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil)
	waitForStatus(t, base, long, "cancelled")
	call(t, http.MethodPost, base+"/api/background-jobs/"+long+"/retry", map[string]any{"from_start": true})
	call(t, http.MethodPost, base+"/api/background-jobs/"+long+"/cancel", nil)
	call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", nil)
	call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/retry", `{"from_start": "yes"}`)
	call(t, http.MethodPost, base+"/api/background-jobs/pause", map[string]any{"type": "dev:simulate"})
	call(t, http.MethodPost, base+"/api/background-jobs/pause", map[string]any{"type": "nope"})
	call(t, http.MethodPost, base+"/api/background-jobs/resume", map[string]any{"type": "dev:simulate"})
	call(t, http.MethodPost, base+"/api/background-jobs/resume", nil, store...)
	call(t, http.MethodGet, base+"/api/background-jobs/dead-letters", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/dead-letters", nil, store...)
	if err := a.Cron.Run(context.Background(), "sweep"); err != nil {
		t.Fatal(err)
	}
	call(t, http.MethodGet, base+"/api/background-jobs/alerts", nil)
	call(t, http.MethodGet, base+"/api/background-jobs/alerts", nil, store...)

	// Schedules, run by hand and by the sweep.
	// (A store of their own: the creation limit of "contract" is spoken for.)
	owner := bearer(testenv.StoreToken(t, "contract-schedules"))
	schedules := base + "/api/schedules"
	status, created := call(t, http.MethodPost, schedules, map[string]any{"type": "dev:simulate", "name": "Nightly", "payload": map[string]any{"steps": 1},
		"every": "week", "at": "02:00", "weekday": "sunday", "time_zone": "Europe/Berlin"}, owner...)
	if status != http.StatusCreated {
		t.Fatalf("create schedule: %d %v", status, created)
	}
	scheduleID := created["schedule"].(map[string]any)["id"].(string)
	call(t, http.MethodPost, schedules, map[string]any{"type": "dev:simulate", "cron": "61 * * * *", "time_zone": "Mars/Olympus"}, owner...)
	call(t, http.MethodPost, schedules, map[string]any{"type": "system:cleanup", "store_id": "platform", "cron": "0 * * * *", "time_zone": "UTC"})
	call(t, http.MethodGet, schedules, nil, owner...)
	call(t, http.MethodGet, schedules+"?store_id=contract-schedules", nil)
	call(t, http.MethodGet, schedules+"/"+scheduleID, nil, owner...)
	call(t, http.MethodGet, schedules+"/missing", nil, owner...)
	call(t, http.MethodPost, schedules+"/"+scheduleID+"/run", nil, owner...)
	call(t, http.MethodPost, schedules+"/"+scheduleID+"/run", nil, owner...)
	call(t, http.MethodPatch, schedules+"/"+scheduleID, map[string]any{"enabled": false}, owner...)
	call(t, http.MethodPatch, schedules+"/"+scheduleID, map[string]any{"cron": "*/5 * * * *", "enabled": true}, owner...)
	call(t, http.MethodPatch, schedules+"/"+scheduleID, map[string]any{}, owner...)
	call(t, http.MethodGet, schedules+"/"+scheduleID, nil, owner...)
	defer call(t, http.MethodDelete, schedules+"/"+scheduleID, nil, owner...)
	call(t, http.MethodDelete, schedules+"/missing", nil, owner...)

	// Connections and the catalog.
	connections := base + "/api/marketplace/connections"
	call(t, http.MethodGet, connections, nil, store...)
	call(t, http.MethodGet, connections, nil)
	call(t, http.MethodPut, connections+"/shopify", map[string]any{"shop_domain": sandbox.ShopDomain, "access_token": "wrong"}, store...)
	call(t, http.MethodPut, connections+"/shopify", `{"shop_domain": "nope"}`, store...)
	call(t, http.MethodPut, connections+"/etsy", `{}`, store...)
	call(t, http.MethodPut, connections+"/shopify", strings.Repeat(" ", 20<<10), store...)
	call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "shopify:import:all"}, store...)
	box.Shopify.SetFaults(shopifyfake.Faults{ServerErrorsNext: 1})
	call(t, http.MethodPut, connections+"/shopify", box.Credentials()["shopify"], store...)
	for name, creds := range box.Credentials() {
		call(t, http.MethodPut, connections+"/"+name, creds, store...)
	}
	call(t, http.MethodDelete, connections+"/ebay", nil, store...)
	call(t, http.MethodDelete, connections+"/ebay?store_id=other", nil, store...)
	imported := createJob(t, base, map[string]any{"type": "shopify:import:all", "store_id": "contract"})
	waitForStatus(t, base, imported, "completed")
	waitForStatus(t, base, createJob(t, base, map[string]any{"type": "akeneo:import:all", "store_id": "contract"}), "completed")
	for _, list := range []string{"products", "collections", "categories"} {
		call(t, http.MethodGet, base+"/api/catalog/"+list+"?limit=2", nil, store...)
		call(t, http.MethodGet, base+"/api/catalog/"+list+"?store_id=contract&cursor=%25%25", nil)
		call(t, http.MethodGet, base+"/api/catalog/"+list, nil)
	}
	status, page := call(t, http.MethodGet, base+"/api/catalog/products?source=shopify", nil, store...)
	if status != http.StatusOK || len(page["products"].([]any)) == 0 {
		t.Fatalf("no imported products: %d %v", status, page)
	}
	productID := page["products"].([]any)[0].(map[string]any)["id"].(string)
	call(t, http.MethodGet, base+"/api/catalog/products/"+productID, nil, store...)
	// Exported (as an export records it): the product's listing comes with it.
	if err := a.Catalog.PutListing(context.Background(), "contract", catalog.Listing{
		Marketplace: "amazon", ProductID: productID, SKU: "CONTRACT-1", Status: catalog.ListingInvalid, ExportHash: "e1", ProductHash: "p1",
		Issues: []catalog.ListingIssue{{Field: "externally_assigned_product_identifier", Code: "90220", Severity: "ERROR",
			Message: "'externally_assigned_product_identifier' is required but not supplied.", Source: "amazon"}},
		JobID: "01a22dff-f58c-7958-9f93-5ee745e1b6ba", ExportedAt: "2026-11-30T19:47:59.061Z",
	}); err != nil {
		t.Fatal(err)
	}
	if status, body := call(t, http.MethodGet, base+"/api/catalog/products/"+productID, nil, store...); status != http.StatusOK || len(body["listings"].([]any)) != 1 {
		t.Fatalf("the exported product: %d %v", status, body)
	}
	call(t, http.MethodGet, base+"/api/catalog/products/"+productID+"?store_id=other", nil, store...)
	call(t, http.MethodGet, base+"/api/catalog/products/missing", nil, store...)
	// Its images: a signed URL as JSON, a redirect to one, and the refusals
	// (another store's key, no store named by an operator).
	imageKey := firstImageKey(t, page)
	call(t, http.MethodGet, base+"/api/catalog/images/"+imageKey, nil, append(store, "Accept", "application/json")...)
	if status := redirectStatus(t, base+"/api/catalog/images/"+imageKey, store...); status != http.StatusFound {
		t.Errorf("GET of an image without Accept: JSON answered %d, want a redirect", status)
	}
	call(t, http.MethodGet, base+"/api/catalog/images/"+strings.Replace(imageKey, "/contract/", "/other/", 1), nil, store...)
	call(t, http.MethodGet, base+"/api/catalog/images/"+imageKey, nil)
	// Credits: the ledger's balance, its outage, an operator without a store.
	box.Ledger.SetBalance("contract", 42)
	call(t, http.MethodGet, base+"/api/credits", nil, store...)
	box.Ledger.SetFaults(ledgerfake.Faults{UnavailableNext: 1})
	call(t, http.MethodGet, base+"/api/credits", nil, store...)
	call(t, http.MethodGet, base+"/api/credits", nil)
	call(t, http.MethodGet, base+"/api/credits?store_id=other", nil, store...)
	// UI labels: none yet, the source texts, a translation of one, and the
	// refusals (a translation that lost its markup, an unknown language, a
	// body too large, a bad cursor, another store).
	labels := base + "/api/catalog/ui-labels"
	call(t, http.MethodGet, labels, nil, store...)
	call(t, http.MethodPut, labels+"?language=en", map[string]any{"labels": []map[string]string{
		{"key": "cart.items", "text": "<strong>{count}</strong> items"}, {"key": "cart.title", "text": "Your cart"}}}, store...)
	call(t, http.MethodPut, labels+"?language=de", map[string]any{"labels": []map[string]string{{"key": "cart.title", "text": "Ihr Warenkorb"}}}, store...)
	call(t, http.MethodPut, labels+"?language=de", map[string]any{"labels": []map[string]string{{"key": "cart.items", "text": "Artikel"}}}, store...)
	call(t, http.MethodPut, labels+"?language=xx", `{"labels": []}`, store...)
	call(t, http.MethodPut, labels+"?language=en", strings.Repeat(" ", 2<<20), store...)
	call(t, http.MethodGet, labels+"?language=de", nil, store...)
	call(t, http.MethodGet, labels+"?limit=1", nil, store...)
	call(t, http.MethodGet, labels+"?store_id=contract&cursor=%25%25", nil)
	call(t, http.MethodGet, labels, nil)
	call(t, http.MethodGet, labels+"?store_id=other", nil, store...)

	validate := compileResponseSchemas(t, loadOpenAPI(t))
	covered := map[string]bool{}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, resp := range rec.seen {
		covered[resp.pattern] = true
		if err := validate(resp.pattern, resp.status, resp.body); err != nil {
			t.Errorf("%s answered %d: %v\n%s", resp.pattern, resp.status, err, truncate(string(resp.body), 300))
		}
	}
	for _, route := range a.API.Routes() {
		if !covered[route.Pattern] {
			t.Errorf("the contract test did not exercise %s", route.Pattern)
		}
	}
}

// compileResponseSchemas returns a check of a response against the schema the
// document gives for its route and status.
func compileResponseSchemas(t *testing.T, doc openAPIDoc) func(pattern string, status int, body []byte) error {
	t.Helper()
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(docs.OpenAPI))
	if err != nil {
		t.Fatal(err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.DefaultDraft(jsonschema.Draft2020)
	if err := compiler.AddResource("openapi.json", raw); err != nil {
		t.Fatal(err)
	}
	pointer := func(parts ...string) string {
		for i, p := range parts {
			parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
		}
		return "openapi.json#/" + strings.Join(parts, "/")
	}
	return func(pattern string, status int, body []byte) error {
		method, path, _ := strings.Cut(pattern, " ")
		method, path = strings.ToLower(method), documentPath(path)
		op, ok := doc.Paths[path][method]
		if !ok {
			return fmt.Errorf("no such operation in the document")
		}
		code := strconv.Itoa(status)
		response, ok := op.Responses[code]
		if !ok {
			return fmt.Errorf("status %d is not documented", status)
		}
		location := []string{"paths", path, method, "responses", code}
		if response.Ref != "" {
			name := strings.TrimPrefix(response.Ref, "#/components/responses/")
			response = doc.Components.Responses[name]
			location = []string{"components", "responses", name}
		}
		if _, ok := response.Content["application/json"]; !ok {
			return fmt.Errorf("status %d has no JSON schema", status)
		}
		schema, err := compiler.Compile(pointer(append(location, "content", "application/json", "schema")...))
		if err != nil {
			return fmt.Errorf("compile schema: %w", err)
		}
		value, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("body is not JSON: %w", err)
		}
		return schema.Validate(value)
	}
}

// firstImageKey is the key of the first stored image of a page of products.
func firstImageKey(t *testing.T, page map[string]any) string {
	t.Helper()
	for _, product := range page["products"].([]any) {
		images, _ := product.(map[string]any)["images"].([]any)
		for _, img := range images {
			if key, _ := img.(map[string]any)["key"].(string); key != "" {
				return key
			}
		}
	}
	t.Fatalf("no product of the page has a stored image: %v", page)
	return ""
}

// redirectStatus sends a GET and answers its status without following a
// redirect: the contract test checks the API's answer, not where it points.
func redirectStatus(t *testing.T, url string, headers ...string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
