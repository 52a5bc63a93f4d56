package browsertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/jobtype/catalogexport"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/amazonfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// A store owner's day in the Marketplace Hub, through the page alone:
// imports the shop, exports a collection to Amazon with AI optimization
// (seeing the credits it needs against the balance), runs out of credits
// and exports without AI instead, reads which products Amazon refused and
// why, exports chosen products to eBay, meets a rejected connection and
// re-configures it, and translates the UI.
func TestStoreOwnerStartsEveryJobAndActsOnItsFailures(t *testing.T) {
	b := setup(t)
	const storeID = "journey"
	store := testenv.StoreToken(t, storeID)
	b.connect(storeID)
	b.box.Ledger.SetBalance(storeID, 1000)
	b.open("/dashboard/", store)
	b.waitUntil("the store view", `"live" in document.getElementById("live-state").dataset && document.getElementById("credits-balance").textContent === "1,000"`)

	// Import the shop from the form. It reads the collections and a page of
	// products and holds there; started again meanwhile, it is refused with
	// a link to the one that runs.
	b.pages.hold()
	b.pages.allow(2)
	b.chooseToStart("shopify:import:all")
	if got := eval[string](b, `document.querySelector("#start-type option:checked").textContent`); got != "Import from Shopify: products and collections" {
		t.Errorf("the form names the import %q", got)
	}
	if !eval[bool](b, `document.getElementById("start-payload-field").hidden`) {
		t.Error("a store owner is asked for JSON options")
	}
	imported := b.submitStart("Shopify Import All")
	b.waitUntil("the import to run", cardOf("active", imported)+`?.querySelector(".job-message").textContent === "Importing products: 10/60"`)
	b.click("#start-submit")
	b.waitUntil("the refusal", `document.getElementById("start-result").textContent.startsWith("This store already runs a Shopify Import All job: ")`)
	if got := eval[string](b, `document.querySelector("#start-result a").getAttribute("href")`); !strings.HasSuffix(got, "/"+imported) {
		t.Errorf("the refusal links to %q, want the running import %s", got, imported)
	}
	b.pages.release()
	b.waitUntil("the import to complete", cardOf("recent", imported)+`?.querySelector(".status").textContent === "Completed"`)
	if payload := b.jobOf(store, imported)["payload"]; !reflect.DeepEqual(payload, map[string]any{}) {
		t.Errorf("the import without a date was started with %v, want {}", payload)
	}

	// Only what changed since a day: the date is the start of that day
	// where the owner is.
	b.chooseToStart("shopify:import:products")
	day := time.Now().AddDate(0, 0, -3)
	b.setValue("#start-since", day.Format(time.DateOnly))
	since := b.submitStart("Shopify Import Products")
	want := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.Local).UTC().Format(time.RFC3339)
	if payload := b.jobOf(store, since)["payload"]; !reflect.DeepEqual(payload, map[string]any{"since": want}) {
		t.Errorf("the import since %s was started with %v, want since %s", day.Format(time.DateOnly), payload, want)
	}
	b.waitUntil("the import since a day to end", cardOf("recent", since))

	// An export of a collection to Amazon, AI-optimized: the form says what
	// it needs, and the balance.
	products := b.catalogProducts(store, 100)
	collectionID, inCollection := pickCollection(t, b.catalogCollections(store), products)
	b.chooseToStart("amazon:export:products")
	option := `document.querySelector(` + strconv.Quote(`#start-collection option[value="`+collectionID+`"]`) + `)`
	b.waitUntil("the catalog in the export's options", option+` && document.getElementById("start-credits").dataset.state === "enough"`)
	if got := b.text("#start-credits"); !strings.Contains(got, fmt.Sprintf("Needs up to %d AI credits (%d products × 1 credit;", len(products), len(products))) {
		t.Errorf("for every product the form says %q, want %d credits for %d products", got, len(products), len(products))
	}
	b.setValue("#start-collection", collectionID)
	b.waitUntil("the collection chosen", `document.getElementById("start-selection-collection").checked && document.getElementById("start-credits").textContent.startsWith("Needs up to `+strconv.Itoa(inCollection)+` AI credits")`)
	if got := b.text("#start-credits"); !strings.Contains(got, fmt.Sprintf("(%d products × 1 credit;", inCollection)) || !strings.Contains(got, "Your balance: 1,000.") {
		t.Errorf("for the collection the form says %q, want %d credits and the balance of 1,000", got, inCollection)
	}

	// The balance falls short, as Refresh shows: the form warns, and the
	// export, started anyway, ends with the guide's "Insufficient credits"
	// and both ways out.
	const balance = 2
	b.box.Ledger.SetBalance(storeID, balance)
	b.click("#refresh")
	b.waitUntil("the warning", `document.getElementById("start-credits").dataset.state === "short"`)
	if got := b.text("#start-credits"); !strings.Contains(got, "Your balance: 2.") || !strings.Contains(got, fmt.Sprintf("That is %d credits short", inCollection-balance)) {
		t.Errorf("with a balance of 2 the form says %q, want the balance and how short it is", got)
	}
	short := b.submitStart("Amazon Export Products")
	if payload := b.jobOf(store, short)["payload"]; !reflect.DeepEqual(payload, map[string]any{"collection": collectionID, "ai_optimize": true}) {
		t.Errorf("the export was started with %v, want the collection, AI-optimized", payload)
	}
	outOfCredits := cardOf("recent", short)
	b.waitUntil("the export to run out of credits", outOfCredits+`?.querySelector(".credits-help .without-ai")`)
	if got := eval[string](b, outOfCredits+`.querySelector(".job-detail").innerText`); !strings.Contains(got, "Failed after 1 attempt: Insufficient credits: ") {
		t.Errorf("the export's card says %q, want the guide's Insufficient credits", got)
	}
	if got := eval[string](b, outOfCredits+`.querySelector(".credits-help").innerText`); !strings.HasPrefix(got, "The store ran out of AI credits. Buy more AI credits and export again, or Export without AI optimization") {
		t.Errorf("the export's card says %q, want both ways out", got)
	}
	b.do(chromedp.Click(chromedp.JSPath(outOfCredits + `.querySelector(".credits-help a")`)))
	b.waitUntil("the credits line", `location.hash === "#credits" && document.getElementById("credits-balance").textContent === "0"`)

	// Without AI optimization: the same collection, sent as it is. Amazon
	// refuses its products without a barcode; the card names each, with
	// what is missing.
	b.do(evalAction(`document.getElementById("start-result").textContent = ""`))
	b.do(chromedp.Click(chromedp.JSPath(outOfCredits + `.querySelector(".without-ai")`)))
	withoutAI := b.startedJob("Amazon Export Products")
	if payload := b.jobOf(store, withoutAI)["payload"]; !reflect.DeepEqual(payload, map[string]any{"collection": collectionID, "ai_optimize": false}) {
		t.Errorf("the export without AI was started with %v, want the collection without AI", payload)
	}
	b.assertRefusedProducts(store, withoutAI)
	b.screenshot("store-view-failed-export")
	// On a phone, the options and the refused products fit the screen.
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.waitUntil("the phone layout", `document.documentElement.clientWidth <= 400 && document.documentElement.scrollWidth <= 400`)
	b.do(chromedp.EmulateViewport(1280, 900))

	// Every product: the catalog's count. Without AI, it needs no credits;
	// it lists the first ten products refused, and how many more.
	b.chooseToStart("amazon:export:products")
	b.click("#start-selection-all")
	b.click("#start-ai")
	b.waitUntil("the export without AI's estimate", `document.getElementById("start-credits").dataset.state === "no-ai"`)
	if got := b.text("#start-credits"); !strings.HasPrefix(got, "Without AI optimization the export uses no AI credits. Your balance: 0.") {
		t.Errorf("without AI the form says %q", got)
	}
	everything := b.submitStart("Amazon Export Products")
	if payload := b.jobOf(store, everything)["payload"]; !reflect.DeepEqual(payload, map[string]any{"all": true, "ai_optimize": false}) {
		t.Errorf("the export of every product was started with %v", payload)
	}
	b.assertRefusedProducts(store, everything)

	// Chosen products to eBay, AI-optimized, found by their SKU.
	b.box.Ledger.SetBalance(storeID, 1000)
	chosen := products[:0:0]
	for _, p := range products {
		if p.SKU != "" && len(chosen) < 2 {
			chosen = append(chosen, p)
		}
	}
	b.chooseToStart("ebay:export:products")
	b.click("#start-selection-products")
	b.click("#start-submit")
	b.waitUntil("the form to ask for products", `document.getElementById("start-result").textContent === "Choose the products to export."`)
	for _, p := range chosen {
		b.setValue("#start-products-find", p.SKU)
		box := `document.getElementById(` + strconv.Quote("start-product-"+p.ID) + `)`
		b.waitUntil("the product found", box+` && !`+box+`.closest("li").hidden`)
		b.do(chromedp.Click(chromedp.JSPath(box)))
	}
	b.waitUntil("the estimate for two products, against the new balance", `document.getElementById("start-credits").textContent.startsWith("Needs up to 2 AI credits (2 products × 1 credit;") && `+
		`document.getElementById("start-credits").dataset.state === "enough"`)
	if got := b.text("#start-credits"); !strings.Contains(got, "Your balance: 1,000.") {
		t.Errorf("for two products the form says %q", got)
	}
	picked := b.submitStart("eBay Export Products")
	if payload := b.jobOf(store, picked)["payload"]; !reflect.DeepEqual(payload, map[string]any{"product_ids": []any{chosen[0].ID, chosen[1].ID}, "ai_optimize": true}) {
		t.Errorf("the export of chosen products was started with %v", payload)
	}
	b.waitUntil("the eBay export to end", cardOf("recent", picked))

	// Amazon stops accepting the store's authorization: the export fails
	// with "Invalid credentials", and its card leads to the connection's
	// form, where the owner connects again.
	amazon := b.box.Credentials()[marketplace.Amazon].(*connection.Amazon)
	b.box.Amazon.SetFaults(amazonfake.Faults{RevokedRefreshTokens: []string{amazon.RefreshToken}})
	b.do(evalAction(`document.getElementById("start-result").textContent = ""`))
	b.click(quickStart("amazon:export:products"))
	rejected := b.startedJob("Amazon Export Products")
	b.waitUntil("the rejected export to end", cardOf("recent", rejected)+`?.querySelector(".credentials-help a")`)
	if got := eval[string](b, cardOf("recent", rejected)+`.querySelector(".credentials-help").innerText`); got != "Amazon rejected the store's credentials. Re-configure the Amazon connection with new ones, then export again." {
		t.Errorf("the rejected export's card says %q", got)
	}
	b.do(chromedp.Click(chromedp.JSPath(cardOf("recent", rejected) + `.querySelector(".credentials-help a")`)))
	form := `document.querySelector(` + strconv.Quote(connectionRow(marketplace.Amazon)+" form") + `)`
	b.waitUntil("Amazon's form, open", `!`+form+`.hidden && `+form+`.contains(document.activeElement)`)
	b.box.Amazon.SetFaults(amazonfake.Faults{})
	b.fillConnectionForm(marketplace.Amazon, map[string]string{"client_id": amazon.ClientID, "client_secret": amazon.ClientSecret, "refresh_token": amazon.RefreshToken})
	b.waitUntil("Amazon connected again", connectionIs(marketplace.Amazon, "connected"))

	// The UI in German, only the labels it lacks.
	b.putLabels(store, sandbox.UILabels(30))
	b.chooseToStart("translation:ui-labels:bulk")
	b.setValue("#start-language", "de")
	translated := b.submitStart("Translation UI Labels Bulk")
	if payload := b.jobOf(store, translated)["payload"]; !reflect.DeepEqual(payload, map[string]any{"target_language": "de", "only_missing": true}) {
		t.Errorf("the translation was started with %v", payload)
	}
	b.waitUntil("the translation to complete", cardOf("recent", translated)+`?.querySelector(".status").textContent === "Completed"`)

	// Recent activity is the last five jobs to end, newest first.
	status, out := b.call(http.MethodGet, "/api/background-jobs?order=finished&limit=5", store, nil)
	var last []string
	for _, j := range out["jobs"].([]any) {
		last = append(last, j.(map[string]any)["id"].(string))
	}
	if status != http.StatusOK || len(last) != 5 {
		t.Fatalf("the API's last five ended jobs: %d %v", status, out)
	}
	b.click("#refresh")
	b.waitUntil("the last five jobs to end", `JSON.stringify([...document.querySelectorAll("#recent-jobs .job-card")].map(c => c.dataset.key)) === `+strconv.Quote(mustJSON(t, last)))
}

// assertRefusedProducts waits for an export to end and checks that its
// card lists the products it refused, as its result has them: the first
// ten, each with its SKU and each field missing or rejected, and how many
// more.
func (b *testBundle) assertRefusedProducts(token, id string) {
	b.t.Helper()
	card := cardOf("recent", id)
	b.waitUntil("the export's refused products", card+`?.querySelector(".refused")`)
	job := b.jobOf(token, id)
	var result catalogexport.Result
	data, _ := json.Marshal(job["result"])
	if err := json.Unmarshal(data, &result); err != nil {
		b.t.Fatalf("export %s's result: %v", id, err)
	}
	refused := slices.DeleteFunc(result.Products, func(p catalogexport.ProductResult) bool {
		return p.Status != "invalid" && p.Status != "failed"
	})
	if job["status"] != "failed" || result.Invalid == 0 || len(refused) == 0 {
		b.t.Fatalf("export %s ended %v with %d products refused, want some refused: %v", id, job["status"], result.Invalid, job["error"])
	}
	if got := eval[string](b, card+`.querySelector(".job-detail").innerText`); !strings.Contains(got, "Failed after 1 attempt: Product validation failed: ") {
		b.t.Errorf("the export's card says %q, want the guide's Product validation failed", got)
	}
	listed := eval[[]string](b, `[...`+card+`.querySelectorAll(".refused li")].map(li => li.dataset.product + "\n" + li.innerText)`)
	total := result.Invalid + result.Failed
	if want := min(10, len(refused)); len(listed) != want {
		b.t.Fatalf("the card lists %d refused products, want %d: %q", len(listed), want, listed)
	}
	for i, line := range listed {
		p := refused[i]
		productID, text, _ := strings.Cut(line, "\n")
		if productID != p.ProductID || !strings.HasPrefix(text, p.SKU+" ") {
			b.t.Errorf("refused product %d shows as %q (%s), want %s with its SKU %s", i, text, productID, p.ProductID, p.SKU)
		}
		for _, issue := range p.Issues {
			if issue.Severity != "WARNING" && !strings.Contains(text, issue.Field+": "+issue.Message) {
				b.t.Errorf("refused product %s shows as %q, want %s: %s", p.SKU, text, issue.Field, issue.Message)
			}
		}
	}
	more := eval[string](b, `(`+card+`.querySelector(".help-more") || {innerText: ""}).innerText`)
	if want := ""; total > 10 {
		want = fmt.Sprintf("and %d more", total-10)
		if more != want {
			b.t.Errorf("after the first ten the card says %q, want %q", more, want)
		}
	} else if more != want {
		b.t.Errorf("the card says %q after all %d refused products", more, total)
	}
	if got := eval[string](b, card+`.querySelector(".refused").innerText`); !strings.HasPrefix(got, fmt.Sprintf("Products not exported to Amazon (%d)", total)) ||
		!strings.HasSuffix(got, "Fix them in your store and export again: only those products are sent.") {
		b.t.Errorf("the refused products read %q, want how many and what to do", got)
	}
}

// pickCollection picks a collection with at least three products (more
// than the balance the test leaves), one of them without a barcode, which
// Amazon refuses, and at most ten such (a card lists them all).
func pickCollection(t *testing.T, collections []catalog.Collection, products []catalog.Product) (id string, size int) {
	t.Helper()
	for _, c := range collections {
		in, refused := 0, 0
		for _, p := range products {
			if slices.Contains(p.Collections, c.ID) {
				in++
				if !slices.ContainsFunc(p.Variants, func(v catalog.Variant) bool { return v.Barcode != "" }) {
					refused++
				}
			}
		}
		if in >= 3 && refused >= 1 && refused <= 10 {
			return c.ID, in
		}
	}
	t.Fatalf("no collection of %d holds 3 products or more, 1 to 10 of them without a barcode", len(collections))
	return "", 0
}

// catalogCollections reads the store's collections through the API.
func (b *testBundle) catalogCollections(token string) []catalog.Collection {
	b.t.Helper()
	status, out := b.call(http.MethodGet, "/api/catalog/collections?limit=100", token, nil)
	if status != http.StatusOK {
		b.t.Fatalf("list the catalog's collections: %d %v", status, out)
	}
	var collections []catalog.Collection
	data, _ := json.Marshal(out["collections"])
	if err := json.Unmarshal(data, &collections); err != nil {
		b.t.Fatalf("the catalog's collections: %v", err)
	}
	return collections
}

// putLabels writes the store's UI labels in English through the API.
func (b *testBundle) putLabels(token string, labels []catalog.UILabel) {
	b.t.Helper()
	body := map[string]any{"labels": []map[string]string{}}
	for _, l := range labels {
		body["labels"] = append(body["labels"].([]map[string]string), map[string]string{"key": l.Key, "text": l.Text})
	}
	if status, out := b.call(http.MethodPut, "/api/catalog/ui-labels?language=en", token, body); status != http.StatusOK {
		b.t.Fatalf("put %d labels: %d %v", len(labels), status, out)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
