package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/chromedp/chromedp"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/sandbox/akeneofake"
	"github.com/dainostore/jobs/internal/testenv"
)

// activeCard is a JavaScript expression: the store view's card of the
// active job whose title starts with the given words.
func activeCard(title string) string {
	return `[...document.querySelectorAll("#active-jobs .job-card")].find(c => c.querySelector(".job-title").textContent.startsWith(` + strconv.Quote(title) + `))`
}

func recentCard(title string) string {
	return `[...document.querySelectorAll("#recent-jobs .job-card")].find(c => c.querySelector(".job-title").textContent.startsWith(` + strconv.Quote(title) + `))`
}

func TestStoreViewFollowsAJobFromStartToCompleted(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "shop-1")
	b.open("/dashboard/", store)

	// The token left the address bar for the tab's storage.
	b.waitUntil("the token to move out of the address", `!location.hash.includes("token") && sessionStorage.getItem("jobs.dashboard.token")`)
	b.waitUntil("the empty store view", `document.getElementById("active-count").textContent === "0" && !document.getElementById("recent-empty").hidden`)
	if got := b.text("#recent-empty"); got != "No finished jobs yet." {
		t.Errorf("empty recent activity says %q", got)
	}
	if got := b.text("#who"); got != "Store shop-1" {
		t.Errorf("the header names the viewer %q, want Store shop-1", got)
	}

	// A newcomer starts a job from the page. Its steps wait for the test,
	// so each state stays on the page until the test has seen it.
	b.simulations.hold()
	b.click("#start-toggle")
	b.setValue("#start-type", "dev:simulate")
	b.setValue("#start-payload", `{"steps": 16, "step_ms": 400}`)
	b.click("#start-submit")
	b.waitUntil("the job to start", `document.getElementById("start-result").textContent.startsWith("Started Dev Simulate #")`)

	// Its bar advances while it runs, then it finishes.
	card := activeCard("Dev Simulate")
	b.simulations.allow(4)
	b.waitUntil("a running job part way", card+`?.querySelector(".status").textContent === "Running" && `+cardPercentOf(card)+` === 25`)
	if message := eval[string](b, card+`.querySelector(".job-message").textContent`); message != "Simulating step 4/16" {
		t.Errorf("the running job's message is %q, want Simulating step 4/16", message)
	}
	b.simulations.allow(4)
	b.waitUntil("the bar to advance", cardPercentOf(card)+` === 50 && `+card+`.querySelector(".job-message").textContent === "Simulating step 8/16"`)
	b.simulations.release()
	b.waitUntil("the job to complete", `!`+card+` && `+recentCard("Dev Simulate")+`?.querySelector(".status").textContent === "Completed"`)
	if detail := eval[string](b, recentCard("Dev Simulate")+`.querySelector(".job-detail").innerText`); !regexp.MustCompile(`^Finished .+ · took \d`).MatchString(detail) {
		t.Errorf("recent activity says %q, want when it finished and how long it took", detail)
	}
	b.waitUntil("Active jobs (0)", `document.getElementById("active-heading").textContent === "Active jobs (0)"`)

	// Nothing is active: the page stops asking. While live it asks every
	// second; a minute of its clock passes without a request.
	b.waitUntil("polling to stop", `document.getElementById("live-state").dataset.live === "false"`)
	if requests := b.requestsOverVirtualTime(time.Minute); requests != 0 {
		t.Errorf("the page made %d API requests in a minute while nothing was active", requests)
	}

	// Signing out forgets the token; the form takes one again. (The tab
	// above keeps its clock stopped.)
	b.newTab()
	b.open("/dashboard/", store)
	b.waitUntil("the store view", recentCard("Dev Simulate"))
	b.click("#sign-out")
	b.waitUntil("the sign-in form", `!document.getElementById("sign-in").hidden && document.getElementById("main").hidden && !sessionStorage.getItem("jobs.dashboard.token")`)
	b.do(chromedp.SendKeys(chromedp.CSS("#token-input"), store), chromedp.Click(chromedp.CSS(`#sign-in-form button[type="submit"]`)))
	b.waitUntil("the store view again", `!document.getElementById("main").hidden && `+recentCard("Dev Simulate"))
}

// cardPercentOf is the percent a job card shows.
func cardPercentOf(card string) string {
	return `parseInt(` + card + `.querySelector(".percent").textContent, 10)`
}

// countdownSecondsOf is the wait, in seconds, that a retrying job's card
// counts down ("next attempt in 59 min 58 s"); -1 when it shows none.
func countdownSecondsOf(card string) string {
	return `(() => {
		const m = ` + card + `.querySelector(".countdown").textContent.match(/^next attempt in (?:(\d+) min )?(\d+) s$/);
		return m ? 60 * (+m[1] || 0) + +m[2] : -1;
	})()`
}

func TestStoreViewShowsRetriesCancelsAndSurvivesAnOutage(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "shop-2")
	operator := testenv.OperatorToken(t)
	b.connect("shop-2")

	// Earlier: the shop was imported, a simulation failed for good.
	b.waitForJob(b.createJob(store, map[string]any{"type": "shopify:import:all"}), "completed")
	b.waitForJob(b.createJob(store, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 2, "fail_attempts": 1, "fail_with": "permanent"}}), "failed")

	// Now dev:simulate is paused, so its job waits (pending); the PIM
	// answers the next product import 429 with a Retry-After of an hour,
	// longer than the test runs, so that import waits for its retry; the
	// Shopify import reads two pages and holds there, until the test lets
	// it go on; an export of 30 products to Amazon has the AI model answer
	// for 14 of them and holds at the 15th.
	if status, out := b.call(http.MethodPost, "/api/background-jobs/pause", operator, map[string]any{"type": "dev:simulate"}); status != http.StatusOK {
		t.Fatalf("pause dev:simulate: %d %v", status, out)
	}
	b.createJob(store, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 4}})
	b.box.Akeneo.SetFaults(akeneofake.Faults{RateLimitNext: 1, RetryAfterSeconds: int(time.Hour.Seconds())})
	b.waitForJob(b.createJob(store, map[string]any{"type": "akeneo:import:products", "priority": "high"}), "retrying")
	b.pages.hold()
	b.pages.allow(2)
	importID := b.createJob(store, map[string]any{"type": "shopify:import:products"})
	b.waitForProgress(importID, "Importing products: 20/60")
	b.box.Ledger.SetBalance("shop-2", 100)
	exported := b.catalogProducts(store, 30)
	if len(exported) != 30 {
		t.Fatalf("the catalog has %d products, the export needs 30", len(exported))
	}
	b.ai.hold()
	b.ai.allow(14)
	b.createJob(store, map[string]any{"type": "amazon:export:products", "payload": map[string]any{"product_ids": idsOf(exported)}})
	b.open("/dashboard/", store)

	pending, pim, shop, export := activeCard("Dev Simulate"), activeCard("Akeneo Import Products"), activeCard("Shopify Import Products"), activeCard("Amazon Export Products")
	optimizing := "AI optimizing: " + exported[14].Title + " (15/30)"
	b.waitUntil("a pending, a retrying and two running jobs",
		pending+`?.querySelector(".status").textContent === "Pending" && `+
			pim+`?.querySelector(".status").textContent === "Retrying" && `+
			shop+`?.querySelector(".status").textContent === "Running" && `+cardPercentOf(shop)+` === 33 && `+
			export+`?.querySelector(".status").textContent === "Running" && `+export+`.querySelector(".job-message").textContent === `+strconv.Quote(optimizing))
	detail := eval[string](b, pim+`.querySelector(".job-detail").innerText`)
	seconds := eval[int](b, countdownSecondsOf(pim))
	if !regexp.MustCompile(`^Attempt 1 failed: .*akeneo rate limit: You have exceeded the limit of API requests`).MatchString(detail) || seconds < 50*60 || seconds > 60*60 {
		t.Fatalf("the retrying job says %q, want the PIM's rate limit and a countdown of about an hour", detail)
	}
	// The countdown runs on the page's own clock.
	b.waitUntil("the countdown to go down", `(seconds => seconds >= 0 && seconds < `+strconv.Itoa(seconds)+`)(`+countdownSecondsOf(pim)+`)`)
	if got := eval[string](b, pending+`.querySelector(".job-detail").innerText`); !strings.HasPrefix(got, "Waiting: Dev Simulate jobs are paused and start when they resume · created ") {
		t.Errorf("the pending job of a paused type says %q", got)
	}
	if !strings.Contains(detail, " · Akeneo rate-limited the store's requests; attempt 2 of 4 starts when the limit resets · next attempt in ") {
		t.Errorf("the rate-limited job says %q, want the API's reason: Akeneo's rate limit", detail)
	}
	b.waitUntil("the finished jobs", `document.querySelectorAll("#recent-jobs .job-card").length === 2`)
	if got := eval[string](b, recentCard("Dev Simulate")+`.innerText`); !strings.Contains(got, "Failed after 1 attempt: simulated permanent failure: validation failed") {
		t.Errorf("the failed job's recent activity says %q, want its error in plain words", got)
	}
	if got := eval[string](b, recentCard("Shopify Import All")+`?.querySelector(".status").textContent`); got != "Completed" {
		t.Errorf("the shop's import is %q in recent activity, want Completed", got)
	}
	if got := b.text("#active-heading"); got != "Active jobs (4)" {
		t.Errorf("heading %q, want Active jobs (4)", got)
	}
	if got := eval[string](b, shop+`.querySelector(".job-message").textContent`); got != "Importing products: 20/60" {
		t.Errorf("the import's progress message is %q, want Importing products: 20/60", got)
	}
	b.screenshot("store-view")
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.waitUntil("the phone layout", `document.documentElement.clientWidth <= 400 && document.documentElement.scrollWidth <= 400`)
	// The export's message wraps on a phone, so its count stays in sight.
	if clipped := eval[bool](b, `(m => m.scrollWidth > m.clientWidth)(`+export+`.querySelector(".job-message"))`); clipped {
		t.Errorf("on a phone the export's message is cut short: %q", optimizing)
	}
	b.screenshot("store-view-phone")
	b.do(chromedp.EmulateViewport(1280, 900))

	// The API goes away: the page says so, keeps what it showed, and
	// recovers by itself.
	b.api.offline.Store(true)
	b.waitUntil("the outage to show", `!document.getElementById("connection").hidden && document.getElementById("connection").textContent.startsWith("API unreachable, retrying")`)
	if eval[int](b, `document.querySelectorAll("#active-jobs .job-card").length`) != 4 {
		t.Error("the jobs disappeared during the outage")
	}
	b.api.offline.Store(false)
	b.waitUntil("the page to recover", `document.getElementById("connection").hidden && document.getElementById("live-state").dataset.live === "true"`)

	// Cancel the running import from its card. It stops after the page it
	// is reading, once the test lets it go on.
	b.do(chromedp.Click(chromedp.JSPath(shop + `.querySelector("button.cancel")`)))
	b.waitForCancelRequest(importID)
	b.pages.release()
	b.waitUntil("the import to end cancelled", `!`+shop+` && `+recentCard("Shopify Import Products")+`?.querySelector(".status").textContent === "Cancelled"`)
	if got := b.text("#announcer"); got == "" {
		t.Error("nothing was announced to screen readers when the job ended")
	}

	// The paused simulation, created before the import, ends after it:
	// recent activity is by when jobs ended, so it comes first.
	b.do(chromedp.Click(chromedp.JSPath(pending + `.querySelector("button.cancel")`)))
	b.waitUntil("the later ended job above the earlier", `(() => {
		const cards = [...document.querySelectorAll("#recent-jobs .job-card")].map(c => c.querySelector(".job-title").textContent.split(" #")[0] + " " + c.querySelector(".status").textContent);
		const simulation = cards.indexOf("Dev Simulate Cancelled"), importJob = cards.indexOf("Shopify Import Products Cancelled");
		return simulation >= 0 && importJob > simulation;
	})()`)
}

// A job that waits says why, in the API's words: here, behind another
// store's job while all five workers are busy. A running job says when it
// should end, from its pace so far.
func TestStoreViewSaysWhyAJobWaitsAndWhenARunningOneEnds(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "shop-4")
	b.connect("shop-4")

	// The store's simulation runs 4 of its 20 steps and holds there; four
	// other stores' simulations take the other workers and hold before
	// their first step.
	b.simulations.hold()
	b.simulations.allow(4)
	running := b.createJob(store, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 20}})
	b.waitForProgress(running, "Simulating step 4/20")
	for i := range 4 {
		b.waitForJob(b.createJob(testenv.StoreToken(t, fmt.Sprintf("busy-%d", i)), map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 20}}), "running")
	}
	// Three other stores' jobs come first, then the store's import: it waits.
	for i := range 3 {
		b.createJob(testenv.StoreToken(t, fmt.Sprintf("first-%d", i)), map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 20}})
	}
	b.createJob(store, map[string]any{"type": "shopify:import:products"})
	// An estimate needs ten seconds of running, which the test does not
	// wait out: as far as the table knows, the simulation started two
	// minutes ago, so at a fifth done it has about eight minutes left.
	backdated := time.Now()
	b.startedAgo(running, 2*time.Minute)
	b.open("/dashboard/", store)

	waiting, simulation := activeCard("Shopify Import Products"), activeCard("Dev Simulate")
	b.waitUntil("the waiting import and the running simulation",
		waiting+`?.querySelector(".status").textContent === "Pending" && `+simulation+`?.querySelector(".estimate")`)
	if got := eval[string](b, waiting+`.querySelector(".job-detail").innerText`); !strings.HasPrefix(got, "Waiting: 3 jobs ahead of it (3 normal), and all 5 workers are busy · created ") {
		t.Errorf("the waiting import says %q, want the API's reason: three jobs ahead, every worker busy", got)
	}
	// Four fifths are left after a fifth took 2 min and however long the
	// test has taken since.
	got := eval[string](b, simulation+`.querySelector(".job-detail").innerText`)
	least, most := 8, int(math.Round(4*(2*time.Minute+time.Since(backdated)).Minutes()))
	minutes := -1
	if match := regexp.MustCompile(`^Started .+ · attempt 1 of 4 · about (\d+) min left$`).FindStringSubmatch(got); match != nil {
		minutes, _ = strconv.Atoi(match[1])
	}
	if minutes < least || minutes > most {
		t.Errorf("the running simulation says %q, want the API's estimate: about %d to %d min left", got, least, most)
	}
	if got := eval[string](b, simulation+`.querySelector(".estimate").title`); !strings.HasPrefix(got, "Should end about ") {
		t.Errorf("the estimate's tooltip is %q, want when the job should end", got)
	}

	// The jobs ahead run and end: the import's wait ends, and it runs (held
	// at its first page of products, so the page sees it running).
	b.pages.hold()
	b.simulations.release()
	b.waitUntil("the import to run", waiting+`?.querySelector(".status").textContent === "Running"`)
	if got := eval[string](b, waiting+`.querySelector(".job-detail").innerText`); strings.HasPrefix(got, "Waiting") {
		t.Errorf("the running import still says %q", got)
	}
	b.pages.release()
}

// startedAgo moves a running job's start back by d, straight in the table
// and without a new version, so that its worker's writes go on as before.
func (b *testBundle) startedAgo(id string, d time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	started := time.Now().Add(-d).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	_, err := b.app.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(b.app.Config.TableName),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "JOB#" + id}, "sk": &types.AttributeValueMemberS{Value: "JOB"}},
		UpdateExpression:          aws.String("SET started_at = :started"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":started": &types.AttributeValueMemberS{Value: started}},
	})
	if err != nil {
		b.t.Fatalf("move the start of job %s back: %v", id, err)
	}
}

// catalogProducts reads the first products of the store's catalog through
// the API, up to limit (a page, at most 100), in catalog id order: the order
// an export walks them in.
func (b *testBundle) catalogProducts(token string, limit int) []catalog.Product {
	b.t.Helper()
	status, out := b.call(http.MethodGet, "/api/catalog/products?limit="+strconv.Itoa(limit), token, nil)
	if status != http.StatusOK {
		b.t.Fatalf("list the catalog's products: %d %v", status, out)
	}
	data, err := json.Marshal(out["products"])
	if err != nil {
		b.t.Fatal(err)
	}
	var products []catalog.Product
	if err := json.Unmarshal(data, &products); err != nil {
		b.t.Fatalf("the catalog's products: %v", err)
	}
	return products
}

func idsOf(products []catalog.Product) []string {
	ids := make([]string, len(products))
	for i, p := range products {
		ids[i] = p.ID
	}
	return ids
}

// quickStart is the store view's one-click button that starts a job type.
func quickStart(jobType string) string {
	return `#quick-start button[data-type="` + jobType + `"]`
}

func TestStoreViewStartsImportsAndExportsInOneClick(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "shop-3")
	b.connect("shop-3")

	// An operator starts jobs for a named store through the form: no
	// one-click jobs.
	b.open("/dashboard/", testenv.OperatorToken(t))
	b.waitUntil("the operator's start form", `document.querySelectorAll("#start-type option").length > 0 && !document.getElementById("start-store-field").hidden`)
	if n := eval[int](b, `document.querySelectorAll("#quick-start button").length`); n != 0 {
		t.Errorf("an operator sees %d one-click jobs, want none", n)
	}
	b.setValue("#start-type", "amazon:export:products")
	if !eval[bool](b, `!document.getElementById("start-payload-field").hidden && document.getElementById("start-options").hidden`) {
		t.Error("an operator is not given an export's options as JSON")
	}
	if got := eval[string](b, `document.getElementById("start-payload").value`); got != `{"all":true}` {
		t.Errorf("an export's JSON options start as %s, want every product", got)
	}

	// A store owner imports the shop in one click. The import reads the
	// collections and a page of products, and holds there.
	b.open("/dashboard/", store)
	b.waitUntil("the one-click jobs", `document.querySelector(`+strconv.Quote(quickStart("shopify:import:all"))+`)?.textContent === "Import from Shopify" && `+
		`document.querySelector(`+strconv.Quote(quickStart("akeneo:import:all"))+`)?.textContent === "Import from Akeneo" && `+
		`document.querySelector(`+strconv.Quote(quickStart("amazon:export:products"))+`)?.textContent === "Export to Amazon" && `+
		`document.querySelector(`+strconv.Quote(quickStart("ebay:export:products"))+`)?.textContent === "Export to eBay"`)
	b.pages.hold()
	b.pages.allow(2)
	b.click(quickStart("shopify:import:all"))
	b.waitUntil("the import to start", `document.getElementById("start-result").textContent.startsWith("Started Shopify Import All #")`)
	shopifyID := eval[string](b, `decodeURIComponent(document.querySelector("#start-result a").getAttribute("href").split("/").pop())`)
	if got := eval[string](b, `document.querySelector("#start-result a").textContent`); !strings.HasPrefix(got, "Shopify Import All #") {
		t.Errorf("the result links to %q, want the job", got)
	}
	shop := activeCard("Shopify Import All")
	b.waitUntil("the import to show its progress", shop+`?.querySelector(".job-message").textContent === "Importing products: 10/60"`)
	if status, out := b.call(http.MethodGet, "/api/background-jobs/"+shopifyID, store, nil); status != http.StatusOK || out["job"].(map[string]any)["type"] != "shopify:import:all" {
		t.Fatalf("the result's link is not the import: %d %v", status, out)
	}

	// A second click while it runs is refused, with a link to the one that runs.
	b.click(quickStart("shopify:import:all"))
	b.waitUntil("the refusal", `document.getElementById("start-result").textContent.startsWith("This store already runs a Shopify Import All job: ")`)
	if got := eval[string](b, `document.querySelector("#start-result a").getAttribute("href")`); !strings.HasSuffix(got, "/"+shopifyID) {
		t.Errorf("the refusal links to %q, want the running import %s", got, shopifyID)
	}
	b.pages.release()
	b.waitUntil("the import to complete", `!`+shop+` && `+recentCard("Shopify Import All")+`?.querySelector(".status").textContent === "Completed"`)

	// Then it exports every product to Amazon in one click, AI-optimized.
	// The AI model answers for 14 products and holds at the 15th.
	b.box.Ledger.SetBalance("shop-3", 100)
	products := b.catalogProducts(store, 100)
	if len(products) < 15 || len(products) == 100 {
		t.Fatalf("the catalog has %d products in its first page, the test needs 15 to 99", len(products))
	}
	b.ai.hold()
	b.ai.allow(14)
	b.click(quickStart("amazon:export:products"))
	b.waitUntil("the export to start", `document.getElementById("start-result").textContent.startsWith("Started Amazon Export Products #")`)
	exportID := eval[string](b, `decodeURIComponent(document.querySelector("#start-result a").getAttribute("href").split("/").pop())`)
	status, out := b.call(http.MethodGet, "/api/background-jobs/"+exportID, store, nil)
	job, _ := out["job"].(map[string]any)
	if payload, _ := job["payload"].(map[string]any); status != http.StatusOK || len(payload) != 1 || payload["all"] != true {
		t.Fatalf("the one-click export is not of every product: %d %v", status, out)
	}
	export := activeCard("Amazon Export Products")
	optimizing := fmt.Sprintf("AI optimizing: %s (15/%d)", products[14].Title, len(products))
	b.waitUntil("the export's AI stage", export+`?.querySelector(".job-message").textContent === `+strconv.Quote(optimizing))

	// A second click while it runs is refused, as for an import.
	b.click(quickStart("amazon:export:products"))
	b.waitUntil("the export's refusal", `document.getElementById("start-result").textContent.startsWith("This store already runs an Amazon Export Products job: ")`)

	// About a quarter of the shop's products have no barcode, which Amazon
	// requires: the export sends the others and fails for those, in words
	// the store owner can act on.
	withoutBarcode := 0
	for _, p := range products {
		if !slices.ContainsFunc(p.Variants, func(v catalog.Variant) bool { return v.Barcode != "" }) {
			withoutBarcode++
		}
	}
	b.ai.release()
	exported := recentCard("Amazon Export Products")
	b.waitUntil("the export to end", `!`+export+` && `+exported+`?.querySelector(".status").textContent === "Failed"`)
	want := fmt.Sprintf("Failed after 1 attempt: Product validation failed: %d of %d products were not exported to Amazon. ", withoutBarcode, len(products))
	if got := eval[string](b, exported+`.querySelector(".job-detail").innerText`); !strings.Contains(got, want) {
		t.Errorf("the failed export says %q, want %q", got, want)
	}
	// Its card names the first ten of them, with what Amazon missed, and
	// says how many more.
	b.assertRefusedProducts(store, exportID)

	// The PIM too: its categories, then the first of its two pages of products.
	b.pages.hold()
	b.pages.allow(2)
	b.click(quickStart("akeneo:import:all"))
	b.waitUntil("the PIM's import to start", `document.getElementById("start-result").textContent.startsWith("Started Akeneo Import All #")`)
	pim := activeCard("Akeneo Import All")
	b.waitUntil("the PIM's import to show its progress", pim+`?.querySelector(".job-message").textContent === "Importing products: 100/120"`)
	b.pages.release()
	b.waitUntil("the PIM's import to complete", `!`+pim+` && `+recentCard("Akeneo Import All")+`?.querySelector(".status").textContent === "Completed"`)

	// Once the store disconnected Shopify, the click says why it cannot start.
	if status, out := b.call(http.MethodDelete, "/api/marketplace/connections/shopify", store, nil); status != http.StatusOK {
		t.Fatalf("disconnect Shopify: %d %v", status, out)
	}
	b.click(quickStart("shopify:import:all"))
	b.waitUntil("the refusal", `document.getElementById("start-result").textContent.startsWith("Could not start the job: ")`)
	if got := b.text("#start-result"); !strings.Contains(got, "Store shop-3 has not connected Shopify") {
		t.Errorf("the result line says %q, want the API's refusal", got)
	}
}

// A store owner schedules a job for the night from the "Start a job"
// form: the picker offers 02:00, the API gets that local time as an
// instant, and the card says when it starts.
func TestStoreViewSchedulesAJobForLater(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "shop-night")
	b.open("/dashboard/", store)
	b.waitUntil("the empty store view", `document.getElementById("active-count").textContent === "0"`)
	b.chooseToStart("dev:simulate")
	b.setValue("#start-payload", `{"steps": 2}`)
	b.setValue("#start-when", "at")
	b.do(evalAction(`document.getElementById("start-when").dispatchEvent(new Event("change"))`))
	if picked := eval[string](b, `document.getElementById("start-at").value`); !strings.HasSuffix(picked, "T02:00") {
		t.Errorf("the time picker offers %q, want the coming night's 02:00", picked)
	}
	at := time.Now().Add(3 * time.Hour).Truncate(time.Minute)
	b.setValue("#start-at", at.Format("2006-01-02T15:04")) // the browser runs in the test's time zone
	b.click("#start-submit")
	b.waitUntil("the job to be scheduled", `document.getElementById("start-result").textContent.startsWith("Scheduled Dev Simulate #")`)
	id := eval[string](b, `decodeURIComponent(document.querySelector("#start-result a").getAttribute("href").split("/").pop())`)
	j := b.jobOf(store, id)
	if runAt, err := time.Parse(time.RFC3339, j["run_at"].(string)); err != nil || !runAt.Equal(at) || j["status"] != "pending" {
		t.Fatalf("scheduled job %v (%v), want pending with run_at %s", j, err, at.UTC())
	}
	card := activeCard("Dev Simulate")
	b.waitUntil("the card to say when it starts", card+`?.querySelector(".job-detail").textContent.includes("Waiting: scheduled for ")`)
	if detail := eval[string](b, card+`.querySelector(".job-detail").textContent`); !regexp.MustCompile(`\(in (2 h 59 min|3 h 0 min)\)`).MatchString(detail) {
		t.Errorf("the scheduled card says %q, want it to start in about 3 h", detail)
	}
}
