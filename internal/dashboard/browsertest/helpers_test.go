// Package browsertest drives the dashboards in headless Chromium against the
// whole local system: the real API handler over HTTP, a real worker behind
// the local event source mapping, the emulators. It asserts what a viewer
// sees. `make test` installs Chromium (`make browser`).
//
// The job types are the real ones: the Shopify and Akeneo imports run
// against the sandbox's fakes of those systems (package sandbox), as in
// `make dev`, the Amazon and eBay exports against its marketplaces, AI
// model and credits ledger, and system:cleanup and dev:simulate as
// deployed.
//
// The tests do not run in parallel: each starts a browser, and two cores
// cannot run several next to the system under test without making every
// wait flaky. No test waits out a stretch of time: a job the test looks at
// holds at a step gate until the test lets it go on (a simulation between
// its steps, an import before each page it reads, an export before each
// answer of the AI model), and an absence (no more polling) is watched on
// Chrome's virtual time.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// patience bounds every wait on the page. It guards against a hang on a
// loaded machine; it does not measure speed.
const patience = 90 * time.Second

// testBundle is one test's system and browser tab.
type testBundle struct {
	t    *testing.T
	app  *app.App
	base string
	// api sits in front of the system: it counts the API requests the page
	// makes and can make the API unreachable.
	api *apiSwitch
	// box is the sandbox the imports read: its Shopify shop and Akeneo PIM.
	box *sandbox.Sandbox
	tab context.Context
	// simulations paces the steps of dev:simulate; pages, the pages the
	// imports read from Shopify and Akeneo; ai, the AI model's answers to
	// the exports. Each is open until a test holds it.
	simulations, pages, ai *stepGate
}

// catalogSize sizes the sandbox's catalogs: Shopify's products come in
// pages of 10, Akeneo's in pages of 100, so both imports take several
// pages. The shop's cost bucket refills fast, so that no page waits for it.
var catalogSize = sandbox.Options{
	ShopifyProducts: 60, ShopifyCollections: 4, AkeneoProducts: 120, AkeneoCategories: 4,
	ShopifyBucket: shopifyfake.Bucket{Max: 2000, RestoreRate: 1000},
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	env := testenv.New(t)
	// A failed attempt is retried a second later, so that a retry's whole
	// story fits in a test.
	env.Config.RetryDelays = []time.Duration{time.Second, time.Second, time.Second}
	// An export asks the AI model about one product at a time, so that one
	// held at the AI gate after n answers says it optimizes product n+1.
	env.Config.ExportAIConcurrency = 1
	simulations, pages, ai := newStepGate(), newStepGate(), newStepGate()
	box := startSandbox(t, env, ai)
	marketplaces := marketplace.NewHTTPClient(env.Config.AllowPrivateEndpoints, time.Minute)
	marketplaces.Transport = gatedPages{next: marketplaces.Transport, gate: pages}
	// The job types need the app's stores and clients, and the app its job
	// types: a first app, never served, lends them.
	parts := env.App(t, app.Overrides{JobTypes: jobtype.NewRegistry(), MarketplaceHTTP: marketplaces})
	types := jobTypes(parts, simulations)
	a := env.App(t, app.Overrides{JobTypes: types, MarketplaceHTTP: marketplaces})
	sw := &apiSwitch{next: a.HTTP}
	a.HTTP = sw
	b := &testBundle{t: t, app: a, api: sw, box: box, simulations: simulations, pages: pages, ai: ai}
	b.base = testenv.Serve(t, a)
	b.tab = startBrowser(t)
	return b
}

// startSandbox serves the fakes of the outside systems for one test and
// points the test's configuration at them, as `make dev` does. The AI
// model answers each call at once, once the call has passed the gate.
func startSandbox(t *testing.T, env *testenv.Env, ai *stepGate) *sandbox.Sandbox {
	t.Helper()
	o := catalogSize
	// The latency is the fake's only hook inside a call: the AI model is
	// reached through the AWS SDK's own HTTP client, not the marketplaces'.
	o.AILatency = func() time.Duration {
		_ = ai.pass(context.Background())
		return 0
	}
	box := sandbox.New(o)
	server := httptest.NewServer(box)
	t.Cleanup(server.Close)
	// A call held when the test ends goes on, so that the server can close.
	t.Cleanup(ai.release)
	box.SetBaseURL(server.URL)
	box.Endpoints().Configure(&env.Config)
	return box
}

// connect connects a store to the sandbox's shop, PIM and marketplaces
// through the API, as its owner does in the Marketplace Hub.
func (b *testBundle) connect(storeID string) {
	b.t.Helper()
	creds := b.box.Credentials()
	for _, name := range []string{marketplace.Shopify, marketplace.Akeneo, marketplace.Amazon, marketplace.Ebay} {
		if status, out := b.call(http.MethodPut, "/api/marketplace/connections/"+name, testenv.StoreToken(b.t, storeID), creds[name]); status != http.StatusOK {
			b.t.Fatalf("connect %s for %s: %d %v", name, storeID, status, out)
		}
	}
}

// chromium is the browser binary: JOBS_CHROMIUM, or Debian's chromium.
func chromium(t *testing.T) string {
	if path := os.Getenv("JOBS_CHROMIUM"); path != "" {
		return path
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	t.Fatal("Chromium is not installed: run `make browser` (or set JOBS_CHROMIUM to a Chromium binary)")
	return ""
}

func startBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocator, cancelAllocator := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAllocator)
	return openTab(t, allocator)
}

// openTab opens a tab: in a new browser from an allocator, or next to the
// tab it is given.
func openTab(t *testing.T, parent context.Context) context.Context {
	t.Helper()
	tab, cancelTab := chromedp.NewContext(parent)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return tab
}

// newTab goes on in a new tab of the same browser, with nothing in its
// session storage.
func (b *testBundle) newTab() {
	b.t.Helper()
	b.tab = openTab(b.t, b.tab)
}

// open loads a dashboard page with a token in its fragment, as the links
// the local process prints do.
func (b *testBundle) open(path, token string) {
	b.t.Helper()
	// From a blank page, so that a link differing only in its fragment
	// still loads the page anew.
	b.do(chromedp.Navigate("about:blank"), chromedp.Navigate(b.base+path+"#token="+token))
}

// evalAction runs a JavaScript statement on the page.
func evalAction(statement string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](statement)
}

func (b *testBundle) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, patience)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression on the page.
func eval[T any](b *testBundle, expression string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, patience)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}

// waitUntil waits for a JavaScript condition on the page to hold. On
// failure it says what it waited for and what the page showed.
func (b *testBundle) waitUntil(what, condition string) {
	b.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		ctx, cancel := context.WithTimeout(b.tab, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+condition+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			page := eval[string](b, `document.querySelector("main") ? document.querySelector("main").innerText : document.body.innerText`)
			b.t.Fatalf("waited %s for %s (%s; last error %v); the page shows:\n%s", patience, what, condition, err, page)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is the visible text of the first element a selector matches.
func (b *testBundle) text(selector string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, selector))
}

func (b *testBundle) click(selector string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(selector)))
}

func (b *testBundle) setValue(selector, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(selector), value))
}

// screenshot saves the page as docs/screenshots/<name>.png when
// JOBS_UPDATE_SCREENSHOTS is set, so routine runs leave the tree alone.
func (b *testBundle) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, patience)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if os.Getenv("JOBS_UPDATE_SCREENSHOTS") == "" {
		return
	}
	path := filepath.Join("..", "..", "..", "docs", "screenshots", name+".png")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("wrote %s", path)
}

// call sends a request to the API as the given token and decodes its answer.
func (b *testBundle) call(method, path, token string, body any) (int, map[string]any) {
	b.t.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.base+path, reader)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		b.t.Fatalf("%s %s: %d, body is not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// createJob creates a job through the API and returns its id.
func (b *testBundle) createJob(token string, body map[string]any) string {
	b.t.Helper()
	status, out := b.call(http.MethodPost, "/api/background-jobs", token, body)
	if status != http.StatusCreated {
		b.t.Fatalf("create job %v: %d %v", body, status, out)
	}
	return out["job"].(map[string]any)["id"].(string)
}

// waitForJob waits until the API reports the job in the wanted status.
func (b *testBundle) waitForJob(id, want string) {
	b.t.Helper()
	b.waitForJobField(id, "status", want)
}

// waitForProgress waits until the API reports the job's progress message.
func (b *testBundle) waitForProgress(id, message string) {
	b.t.Helper()
	b.waitForJobField(id, "progress_message", message)
}

func (b *testBundle) waitForJobField(id, field, want string) {
	b.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		_, out := b.call(http.MethodGet, "/api/background-jobs/"+id+"/status", testenv.OperatorToken(b.t), nil)
		job, _ := out["job"].(map[string]any)
		if job[field] == want {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("job %s has %s %v, want %s: %v", id, field, job[field], want, job)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// requestsOverVirtualTime lets the page's clock run ahead by d at once, on
// Chrome's virtual time, and returns how many API requests the page made
// meanwhile. Each of its timers that comes due in d fires, and a request
// holds the virtual clock until it is answered, so a request the page makes
// in d is counted, however slow the machine. The tab's timers stay stopped
// afterwards (virtual time cannot be handed back to the real clock): go on
// in a new tab.
func (b *testBundle) requestsOverVirtualTime(d time.Duration) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.tab, patience)
	defer cancel()
	expired := chromedp.Events(ctx, emulation.VirtualTimeBudgetExpired)
	before := b.api.requests.Load()
	pageTimeBefore := eval[float64](b, `Date.now()`)
	budget := float64(d.Milliseconds())
	if _, err := chromedp.Call(ctx, emulation.SetVirtualTimePolicy, emulation.SetVirtualTimePolicyParams{
		Policy: emulation.VirtualTimePolicyPauseIfNetworkFetchesPending,
		Budget: &budget,
	}); err != nil {
		b.t.Fatalf("start virtual time: %v", err)
	}
	passed := false
	for _, err := range expired {
		if err != nil {
			b.t.Fatalf("waited for %s of virtual time to pass: %v", d, err)
		}
		passed = true
		break
	}
	if !passed {
		b.t.Fatalf("waited %s for %s of virtual time to pass", patience, d)
	}
	requests := b.api.requests.Load() - before
	// A clock that did not move would prove nothing.
	if moved := eval[float64](b, `Date.now()`) - pageTimeBefore; moved < budget {
		b.t.Fatalf("the page's clock moved %.0f ms on virtual time, want at least %s", moved, d)
	}
	return requests
}

// waitForCancelRequest waits until the API has recorded that the job is
// to be cancelled.
func (b *testBundle) waitForCancelRequest(id string) {
	b.t.Helper()
	deadline := time.Now().Add(patience)
	for {
		_, out := b.call(http.MethodGet, "/api/background-jobs/"+id, testenv.OperatorToken(b.t), nil)
		job, _ := out["job"].(map[string]any)
		if job["cancel_requested"] == true {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("job %s was not asked to cancel: %v", id, job)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// apiSwitch counts the API requests and, while offline, drops them the way
// an unreachable API does: the connection closes without an answer.
type apiSwitch struct {
	next     http.Handler
	offline  atomic.Bool
	requests atomic.Int64
}

func (s *apiSwitch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		s.next.ServeHTTP(w, r)
		return
	}
	s.requests.Add(1)
	if s.offline.Load() {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return
		}
		panic(http.ErrAbortHandler)
	}
	s.next.ServeHTTP(w, r)
}

// connectionRow is a CSS selector: the Marketplace Hub's row of a marketplace.
func connectionRow(name string) string {
	return `#connections .connection[data-marketplace="` + name + `"]`
}

// connectionIs is a JavaScript condition: the hub shows the marketplace in
// the given state (connected, invalid, not_connected).
func connectionIs(name, state string) string {
	return `document.querySelector(` + strconv.Quote(connectionRow(name)) + `)?.dataset.state === ` + strconv.Quote(state)
}

// fillConnectionForm types credentials into a marketplace's open form in
// the hub, by field name, and submits them.
func (b *testBundle) fillConnectionForm(name string, fields map[string]string) {
	b.t.Helper()
	for field, value := range fields {
		b.setValue("#connect-"+name+"-"+field, value)
	}
	b.click(connectionRow(name) + ` form button[type="submit"]`)
}

// productEntry is a JavaScript expression: the catalog's entry of a product.
func productEntry(id string) string {
	return `[...document.querySelectorAll("#catalog-products .product")].find(p => p.dataset.id === ` + strconv.Quote(id) + `)`
}

// chooseToStart opens the store view's "Start a job" form, if it is
// closed, and chooses a job type in it.
func (b *testBundle) chooseToStart(jobType string) {
	b.t.Helper()
	if eval[bool](b, `document.getElementById("start-form").hidden`) {
		b.click("#start-toggle")
	}
	b.setValue("#start-type", jobType)
}

// submitStart submits the "Start a job" form and returns the id of the
// job it started, whose title starts with the given words. The result
// line is emptied first, so that an earlier job's is not taken for it.
func (b *testBundle) submitStart(title string) string {
	b.t.Helper()
	b.do(evalAction(`document.getElementById("start-result").textContent = ""`))
	b.click("#start-submit")
	return b.startedJob(title)
}

// startedJob waits for the store view's result line to say a job started,
// and returns the id its link leads to.
func (b *testBundle) startedJob(title string) string {
	b.t.Helper()
	b.waitUntil(title+" to start", `document.getElementById("start-result").textContent.startsWith(`+strconv.Quote("Started "+title+" #")+`)`)
	return eval[string](b, `decodeURIComponent(document.querySelector("#start-result a").getAttribute("href").split("/").pop())`)
}

// jobOf is a job as the API gives it to the given token.
func (b *testBundle) jobOf(token, id string) map[string]any {
	b.t.Helper()
	status, out := b.call(http.MethodGet, "/api/background-jobs/"+id, token, nil)
	job, _ := out["job"].(map[string]any)
	if status != http.StatusOK || job == nil {
		b.t.Fatalf("get job %s: %d %v", id, status, out)
	}
	return job
}

// cardOf is a JavaScript expression: the store view's card of a job, in
// its active jobs or its recent activity (list is "active" or "recent").
func cardOf(list, id string) string {
	return `document.querySelector(` + strconv.Quote("#"+list+"-jobs .job-card[data-key=\""+id+"\"]") + `)`
}
