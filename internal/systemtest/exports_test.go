package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/catalogexport"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/amazonfake"
	"github.com/dainostore/jobs/internal/sandbox/bedrockfake"
	"github.com/dainostore/jobs/internal/sandbox/ebayfake"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// An export's shop: 40 products (product 5 without a SKU, so 39 are
// imported), about a quarter of them without a barcode, which Amazon
// requires.
var exportShop = sandbox.Options{ShopifyProducts: 40, ShopifyCollections: 3, AkeneoProducts: 1, AkeneoCategories: 1,
	ShopifyBucket: shopifyfake.Bucket{Max: 2000, RestoreRate: 1000}}

// exportBundle is a store with its catalog imported from the sandbox's shop
// and every marketplace connected.
type exportBundle struct {
	env     *testenv.Env
	a       *app.App
	base    string
	box     *sandbox.Sandbox
	waits   *recordedWaits
	storeID string
}

// exportSetup runs the system against a sandbox, connects the store to
// every marketplace, gives it credits and imports the shop's products.
func exportSetup(t *testing.T, o sandbox.Options, storeID string, credits int64) *exportBundle {
	t.Helper()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
	b := &exportBundle{env: env, box: startSandbox(t, env, o), waits: &recordedWaits{}, storeID: storeID}
	b.a = env.App(t, app.Overrides{RateLimitWait: b.waits.wait})
	b.base = testenv.Serve(t, b.a)
	for name, creds := range b.box.Credentials() {
		connect(t, b.base, storeID, name, creds)
	}
	b.box.Ledger.SetBalance(storeID, credits)
	waitForStatus(t, b.base, startImport(t, b.base, storeID, "shopify:import:products", nil), "completed")
	return b
}

// export starts an export through the API.
func (b *exportBundle) export(t *testing.T, jobType string, payload map[string]any) string {
	t.Helper()
	return startImport(t, b.base, b.storeID, jobType, payload)
}

// result reads an export's result, of a completed or a failed job.
func (b *exportBundle) result(t *testing.T, id string) catalogexport.Result {
	t.Helper()
	j, err := b.a.Jobs.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var r catalogexport.Result
	if err := json.Unmarshal(j.Result, &r); err != nil {
		t.Fatalf("result of %s: %v (%s)", id, err, j.Result)
	}
	return r
}

// productIDs are the catalog ids of the store's products that Amazon would
// take (those with a barcode), up to n, in id order.
func (b *exportBundle) productIDs(t *testing.T, n int, keep func(catalog.Product) bool) []string {
	t.Helper()
	var ids []string
	for _, p := range catalogProducts(t, b.a, b.storeID) {
		if keep(p) {
			ids = append(ids, p.ID)
		}
	}
	slices.Sort(ids)
	if len(ids) < n {
		t.Fatalf("the shop has %d such products, the test needs %d", len(ids), n)
	}
	return ids[:n]
}

func hasBarcode(p catalog.Product) bool { return len(p.Variants) > 0 && p.Variants[0].Barcode != "" }

// listings reads the store's listings on a marketplace from the catalog.
func (b *exportBundle) listings(t *testing.T, name string, ids []string) map[string]catalog.Listing {
	t.Helper()
	found, err := b.a.Catalog.Listings(context.Background(), b.storeID, name, ids)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// failureKind is the kind the job's failure was grouped under.
func (b *exportBundle) failureKind(t *testing.T, jobType string) string {
	t.Helper()
	groups, err := b.a.Jobs.FailureGroups(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if g.Type == jobType {
			return g.Kind
		}
	}
	return ""
}

// watchMessages records every progress message of a job until stop.
func watchMessages(t *testing.T, base, id string) (stop func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
			status, body := call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/status", nil)
			if status != http.StatusOK {
				continue
			}
			j, _ := body["job"].(map[string]any)
			if msg, _ := j["progress_message"].(string); msg != "" {
				mu.Lock()
				if len(seen) == 0 || seen[len(seen)-1] != msg {
					seen = append(seen, msg)
				}
				mu.Unlock()
			}
		}
	}()
	return func() []string {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return seen
	}
}

// An Amazon export with AI optimization: each product is paid for once,
// rewritten by the model, sent, and recorded with its ASIN; the progress
// says the guide's words. Exporting again sends nothing unchanged; an edit
// sends just that product.
func TestAmazonExportOptimizesPaysAndListsEachProductOnce(t *testing.T) {
	t.Parallel()
	o := exportShop
	// Slow enough that the AI stage (3 rounds of 8 calls) outlasts the
	// worker's one-second progress writes, so a watcher sees it.
	o.AILatency = func() time.Duration { return 500 * time.Millisecond }
	b := exportSetup(t, o, "exp-amazon", 100)
	ids := b.productIDs(t, 20, hasBarcode)

	id := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids})
	stop := watchMessages(t, b.base, id)
	done := waitForStatus(t, b.base, id, "completed")
	seen := stop()
	if msg := done["progress_message"]; msg != "Sending to Amazon: 20/20" {
		t.Errorf("last progress message %q, want \"Sending to Amazon: 20/20\"", msg)
	}
	if !slices.ContainsFunc(seen, func(m string) bool { return strings.HasPrefix(m, "AI optimizing: ") && strings.HasSuffix(m, "/20)") }) {
		t.Errorf("never saw \"AI optimizing: <product> (n/20)\" among %q", seen)
	}
	r := b.result(t, id)
	if r.Exported != 20 || r.Unchanged != 0 || r.Invalid != 0 || r.AICalls != 20 || r.CreditsCharged != 20 {
		t.Errorf("result %+v, want 20 exported with 20 AI calls and 20 credits", r)
	}
	if got := b.box.Ledger.Balance(b.storeID); got != 80 {
		t.Errorf("balance %d after 20 products, want 80", got)
	}
	if n := len(b.box.Ledger.Debits(b.storeID)); n != 20 {
		t.Errorf("%d debits, want one per product", n)
	}
	if c := b.box.Bedrock.Counters(); c.Answered != 20 {
		t.Errorf("%d AI answers, want 20", c.Answered)
	}
	listed := b.box.Amazon.Listings(amazonfake.SandboxSeller().SellerID)
	if len(listed) != 20 {
		t.Fatalf("%d listings on Amazon, want 20", len(listed))
	}
	products := catalogProducts(t, b.a, b.storeID)
	bySKU := map[string]catalog.Product{}
	for _, p := range products {
		bySKU[p.SKU] = p
	}
	for _, l := range listed {
		p := bySKU[l.SKU]
		title := l.Attributes["item_name"].([]any)[0].(map[string]any)["value"].(string)
		if title == "" || !strings.Contains(title, p.Vendor) {
			t.Errorf("%s listed as %q: not the AI's title with the brand %q", l.SKU, title, p.Vendor)
		}
		if _, ok := l.Attributes["bullet_point"]; !ok {
			t.Errorf("%s listed without the AI's bullet points", l.SKU)
		}
	}
	recorded := b.listings(t, marketplace.Amazon, ids)
	for _, pid := range ids {
		l := recorded[pid]
		if l.Status != catalog.ListingListed || l.ASIN == "" || !l.AIOptimized || l.JobID != id || l.ProductHash != products[sourceIDOf(products, pid)].ContentHash {
			t.Errorf("listing of %s: %+v", pid, l)
		}
	}

	// Again: nothing changed, nothing is paid, asked or sent.
	puts := b.box.Amazon.Counters().ListingPuts
	again := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids})
	waitForStatus(t, b.base, again, "completed")
	if r := b.result(t, again); r.Unchanged != 20 || r.Exported != 0 || r.AICalls != 0 || r.CreditsCharged != 0 {
		t.Errorf("re-export %+v, want 20 unchanged and nothing spent", r)
	}
	if got := b.box.Amazon.Counters().ListingPuts; got != puts {
		t.Errorf("the re-export sent %d listings", got-puts)
	}
	if c := b.box.Bedrock.Counters(); c.Calls != 20 {
		t.Errorf("the re-export asked the AI %d times", c.Calls-20)
	}

	// An edit at the source: only that product goes out again.
	edited := products[sourceIDOf(products, ids[3])]
	edited.Title += " (2027 edition)"
	edited.ContentHash = edited.Hash()
	if err := b.a.Catalog.Put(context.Background(), b.storeID, "test-edit", []catalog.Entry{{Kind: catalog.KindProduct, ID: edited.ID, Hash: edited.ContentHash, Outcome: catalog.OutcomeUpdated, Doc: &edited}}); err != nil {
		t.Fatal(err)
	}
	third := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids})
	waitForStatus(t, b.base, third, "completed")
	if r := b.result(t, third); r.Exported != 1 || r.Unchanged != 19 || r.CreditsCharged != 1 || r.Products[0].ProductID != ids[3] {
		t.Errorf("export after an edit %+v, want only %s", r, ids[3])
	}
	if c := b.box.Amazon.Counters(); c.ListingsCreated != 20 || c.ListingsReplaced != 1 {
		t.Errorf("Amazon counted %d listings created and %d replaced, want 20 and 1", c.ListingsCreated, c.ListingsReplaced)
	}
}

// sourceIDOf finds the catalog key (source id) of a product id.
func sourceIDOf(products map[string]catalog.Product, id string) string {
	for sourceID, p := range products {
		if p.ID == id {
			return sourceID
		}
	}
	return ""
}

// Invalid products, refused by the export's checks or by Amazon, fail the
// job with the guide's "Product validation failed" once every valid one is
// exported; the result lists each with its fields. After a fix, exporting
// again sends only those.
func TestInvalidProductsFailValidationWhileTheOthersAreExported(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-invalid", 0)
	products := catalogProducts(t, b.a, b.storeID)
	// One product without a price: the export's own check refuses it.
	var unpriced catalog.Product
	for _, p := range products {
		if hasBarcode(p) {
			unpriced = p
			break
		}
	}
	for i := range unpriced.Variants {
		unpriced.Variants[i].Price = ""
	}
	unpriced.ContentHash = unpriced.Hash()
	if err := b.a.Catalog.Put(context.Background(), b.storeID, "test-edit", []catalog.Entry{{Kind: catalog.KindProduct, ID: unpriced.ID, Hash: unpriced.ContentHash, Outcome: catalog.OutcomeUpdated, Doc: &unpriced}}); err != nil {
		t.Fatal(err)
	}
	var noBarcode []string
	for _, p := range products {
		if !hasBarcode(p) {
			noBarcode = append(noBarcode, p.ID)
		}
	}
	if len(noBarcode) == 0 {
		t.Fatal("the seed changed: every product has a barcode")
	}

	id := b.export(t, "amazon:export:products", map[string]any{"all": true, "ai_optimize": false})
	failed := waitForStatus(t, b.base, id, "failed")
	invalid := len(noBarcode) + 1
	msg, _ := failed["error"].(string)
	mustContain(t, "error", msg, "Product validation failed")
	mustContain(t, "error", msg, fmt.Sprintf("%d of %d products were not exported to Amazon", invalid, len(products)))
	if kind := b.failureKind(t, "amazon:export:products"); kind != jobtype.KindValidation {
		t.Errorf("failure kind %q, want %q", kind, jobtype.KindValidation)
	}
	r := b.result(t, id)
	if r.Exported != len(products)-invalid || r.Invalid != invalid || r.AICalls != 0 || r.CreditsCharged != 0 {
		t.Errorf("result %+v, want %d exported and %d invalid without AI", r, len(products)-invalid, invalid)
	}
	if n := len(b.box.Amazon.Listings(amazonfake.SandboxSeller().SellerID)); n != len(products)-invalid {
		t.Errorf("%d listings on Amazon, want %d", n, len(products)-invalid)
	}
	issues := map[string][]catalog.ListingIssue{}
	for _, line := range r.Products {
		if line.Status == "invalid" {
			issues[line.ProductID] = line.Issues
		}
	}
	if got := issues[unpriced.ID]; len(got) != 1 || got[0].Field != "price" || got[0].Source != "export" {
		t.Errorf("issues of the product without a price: %+v", got)
	}
	for _, pid := range noBarcode {
		got := issues[pid]
		if len(got) == 0 || got[0].Field != "externally_assigned_product_identifier" || got[0].Source != marketplace.Amazon || got[0].Code != "90220" {
			t.Errorf("issues of %s: %+v, want Amazon's 90220 on externally_assigned_product_identifier", pid, got)
		}
	}

	// The owner adds the missing data; the export sends only those products.
	for i := range unpriced.Variants {
		unpriced.Variants[i].Price = "19.00"
	}
	fixed := []catalog.Entry{}
	unpriced.ContentHash = unpriced.Hash()
	fixed = append(fixed, catalog.Entry{Kind: catalog.KindProduct, ID: unpriced.ID, Hash: unpriced.ContentHash, Outcome: catalog.OutcomeUpdated, Doc: &unpriced})
	for _, pid := range noBarcode {
		p := products[sourceIDOf(products, pid)]
		p.Variants[0].Barcode = "4006381333931"
		p.ContentHash = p.Hash()
		fixed = append(fixed, catalog.Entry{Kind: catalog.KindProduct, ID: p.ID, Hash: p.ContentHash, Outcome: catalog.OutcomeUpdated, Doc: &p})
	}
	if err := b.a.Catalog.Put(context.Background(), b.storeID, "test-fix", fixed); err != nil {
		t.Fatal(err)
	}
	puts := b.box.Amazon.Counters().ListingPuts
	again := b.export(t, "amazon:export:products", map[string]any{"all": true, "ai_optimize": false})
	waitForStatus(t, b.base, again, "completed")
	if r := b.result(t, again); r.Exported != invalid || r.Unchanged != len(products)-invalid {
		t.Errorf("re-export %+v, want %d exported and the rest unchanged", r, invalid)
	}
	if sent := b.box.Amazon.Counters().ListingPuts - puts; sent != invalid {
		t.Errorf("the re-export sent %d products, want the %d fixed", sent, invalid)
	}
}

// Credits run out at product 17 of 26: the 16 paid products are exported,
// then the job fails with the guide's "Insufficient credits", how much is
// needed and left, and both ways out. After a top-up, running it again
// sends only the 10 left, and no product is ever charged twice.
func TestCreditsRunOutAndARerunAfterATopUpSendsOnlyTheRest(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-credits", 16)
	ids := b.productIDs(t, 26, hasBarcode)

	id := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids})
	failed := waitForStatus(t, b.base, id, "failed")
	msg, _ := failed["error"].(string)
	for _, want := range []string{"Insufficient credits", "the 10 products left needs up to 10 credits, and the store has 0",
		"Buy more AI credits", "ai_optimize: false", "16 products already exported"} {
		mustContain(t, "error", msg, want)
	}
	if kind := b.failureKind(t, "amazon:export:products"); kind != jobtype.KindInsufficientCredits {
		t.Errorf("failure kind %q, want %q", kind, jobtype.KindInsufficientCredits)
	}
	if failed["attempts"] != float64(1) {
		t.Errorf("attempts %v: insufficient credits must fail at once", failed["attempts"])
	}
	r := b.result(t, id)
	if r.Exported != 16 || r.CreditsCharged != 16 || r.AICalls != 16 {
		t.Errorf("result %+v, want 16 exported, charged and optimized", r)
	}
	if n := len(b.box.Amazon.Listings(amazonfake.SandboxSeller().SellerID)); n != 16 {
		t.Errorf("%d listings on Amazon, want the 16 paid for", n)
	}

	// After a top-up, the failed export runs again (a retry, from its
	// checkpoint): it sends only the 10 left.
	b.box.Ledger.TopUp(b.storeID, 100)
	puts := b.box.Amazon.Counters().ListingPuts
	if status, body := call(t, http.MethodPost, b.base+"/api/background-jobs/"+id+"/retry", nil); status != http.StatusAccepted {
		t.Fatalf("retry: %d %v", status, body)
	}
	waitForStatus(t, b.base, id, "completed")
	if r := b.result(t, id); r.Exported != 26 || r.Processed != 26 || r.CreditsCharged != 26 || r.NotExported != 0 {
		t.Errorf("the export after a top-up %+v, want all 26 exported, each counted and charged once", r)
	}
	if sent := b.box.Amazon.Counters().ListingPuts - puts; sent != 10 {
		t.Errorf("the export after a top-up sent %d products, want the 10 left", sent)
	}
	if n := len(b.box.Ledger.Debits(b.storeID)); n != 26 {
		t.Errorf("%d debits for 26 products", n)
	}
	if got := b.box.Ledger.Balance(b.storeID); got != 90 {
		t.Errorf("balance %d, want 90 (16 + 100 - 26)", got)
	}
	if n := len(b.box.Amazon.Listings(amazonfake.SandboxSeller().SellerID)); n != 26 {
		t.Errorf("%d listings on Amazon, want 26", n)
	}

	// A new export of the same products finds them all listed.
	again := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids})
	waitForStatus(t, b.base, again, "completed")
	if r := b.result(t, again); r.Unchanged != 26 || r.CreditsCharged != 0 {
		t.Errorf("a new export %+v, want 26 unchanged", r)
	}
}

// A storm of 429s (Amazon sends no Retry-After) is waited out with jittered
// backoff inside the job, and the export completes in one attempt.
func TestA429StormIsWaitedOutAndTheExportCompletes(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-storm", 100)
	ids := b.productIDs(t, 10, hasBarcode)
	b.box.Amazon.SetFaults(amazonfake.Faults{RateLimitNext: 25})

	id := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids, "ai_optimize": false})
	done := waitForStatus(t, b.base, id, "completed")
	if done["attempts"] != float64(1) {
		t.Errorf("attempts %v, want 1: the 429s are waited out", done["attempts"])
	}
	if r := b.result(t, id); r.Exported != 10 || r.RateLimitWaitMS == 0 {
		t.Errorf("result %+v, want 10 exported after waiting", r)
	}
	waits := b.waits.all()
	if len(waits) < 25 {
		t.Errorf("%d waits for 25 rate limits", len(waits))
	}
	distinct := map[time.Duration]bool{}
	for _, w := range waits {
		if w <= 0 || w > 30*time.Second {
			t.Errorf("a wait of %s", w)
		}
		distinct[w] = true
	}
	if len(distinct) < 2 {
		t.Errorf("every wait was %v: no jitter", waits[0])
	}
}

// A seller who revoked the app's authorization: the export fails at once,
// in the guide's words, and the connection is marked invalid with Amazon's
// reason.
func TestARevokedAmazonAuthorizationFailsTheExportAndMarksTheConnection(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-revoked", 100)
	ids := b.productIDs(t, 3, hasBarcode)
	b.box.Amazon.SetFaults(amazonfake.Faults{RevokedRefreshTokens: []string{amazonfake.SandboxSeller().RefreshToken}})

	id := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids})
	failed := waitForStatus(t, b.base, id, "failed")
	msg, _ := failed["error"].(string)
	mustContain(t, "error", msg, "Invalid credentials")
	mustContain(t, "error", msg, "Marketplace Hub")
	if failed["attempts"] != float64(1) {
		t.Errorf("attempts %v, want 1", failed["attempts"])
	}
	conn, err := b.a.Connections.Get(context.Background(), b.storeID, marketplace.Amazon)
	if err != nil {
		t.Fatal(err)
	}
	if conn.State != connection.StateInvalid || !strings.Contains(conn.Reason, "invalid grant parameter") {
		t.Errorf("connection %+v, want invalid with Amazon's reason", conn)
	}
	if n := len(b.box.Ledger.Debits(b.storeID)); n != 0 {
		t.Errorf("%d products paid for: the credentials are checked before any is", n)
	}
}

// The AI model's throttling survives the SDK's own retry: the attempt fails
// and the export resumes on the retry schedule, charging no product twice.
func TestAIThrottlingIsRetriedWithoutChargingTwice(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-throttled", 100)
	ids := b.productIDs(t, 12, hasBarcode)
	// The first 16 calls are throttled: the first tries of the 8 products
	// in flight and the SDK's second tries, so the first attempt fails.
	b.box.Bedrock.SetFaults(bedrockfake.Faults{ThrottleNext: 16})

	id := b.export(t, "amazon:export:products", map[string]any{"product_ids": ids})
	done := waitForStatus(t, b.base, id, "completed")
	if attempts, _ := done["attempts"].(float64); attempts < 2 {
		t.Errorf("attempts %v, want a retry after the throttling", done["attempts"])
	}
	if r := b.result(t, id); r.Exported != 12 {
		t.Errorf("result %+v", r)
	}
	if n := len(b.box.Ledger.Debits(b.storeID)); n != 12 {
		t.Errorf("%d debits for 12 products", n)
	}
	if got := b.box.Ledger.Balance(b.storeID); got != 88 {
		t.Errorf("balance %d, want 88", got)
	}
}

// Exports never reach another store's catalog: an id of another store's
// product is not in this store's catalog, and its listings stay untouched.
func TestAnExportTouchesOnlyItsStoresProducts(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-own", 100)
	other := b.productIDs(t, 1, hasBarcode)[0]
	// The other store has the same shop imported: same product ids.
	connect(t, b.base, "exp-other", marketplace.Shopify, b.box.Credentials()[marketplace.Shopify])
	waitForStatus(t, b.base, startImport(t, b.base, "exp-other", "shopify:import:products", nil), "completed")

	id := b.export(t, "amazon:export:products", map[string]any{"product_ids": []string{other, "shopify-999999"}, "ai_optimize": false})
	failed := waitForStatus(t, b.base, id, "failed")
	mustContain(t, "error", failed["error"].(string), "1 of 2 products were not exported")
	r := b.result(t, id)
	if r.Exported != 1 || r.Invalid != 1 {
		t.Errorf("result %+v", r)
	}
	mine := b.listings(t, marketplace.Amazon, []string{other})
	if mine[other].JobID != id {
		t.Errorf("this store's listing: %+v", mine[other])
	}
	found, err := b.a.Catalog.Listings(context.Background(), "exp-other", marketplace.Amazon, []string{other})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 0 {
		t.Errorf("the other store got listings: %+v", found)
	}
}

// editProducts writes changed products to the store's catalog, as an
// import of an edit at the source would.
func (b *exportBundle) editProducts(t *testing.T, products ...catalog.Product) {
	t.Helper()
	entries := make([]catalog.Entry, len(products))
	for i := range products {
		p := &products[i]
		p.ContentHash = p.Hash()
		entries[i] = catalog.Entry{Kind: catalog.KindProduct, ID: p.ID, Hash: p.ContentHash, Outcome: catalog.OutcomeUpdated, Doc: p}
	}
	if err := b.a.Catalog.Put(context.Background(), b.storeID, "test-edit", entries); err != nil {
		t.Fatal(err)
	}
}

// An eBay export: the bulk write's 207 mixed results and a refused publish
// land on their products while the others are published; after the fixes,
// an export with AI optimization updates every offer and revises every
// listing, never making a second one, with titles within eBay's 80
// characters.
func TestEbayExportLandsMixedResultsPerProductAndNeverOffersTwice(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-ebay", 100)
	ids := b.productIDs(t, 12, func(p catalog.Product) bool { return p.Vendor != "" })
	products := catalogProducts(t, b.a, b.storeID)
	long, aspect, unstocked := products[sourceIDOf(products, ids[0])], products[sourceIDOf(products, ids[1])], products[sourceIDOf(products, ids[2])]
	long.Title = "Heavyweight organic cotton pocket tee with reinforced seams, garment-dyed in small batches"
	aspect.Options = append(aspect.Options, catalog.Option{Name: "Care", Values: []string{strings.Repeat("Machine wash cold with like colours, tumble dry low. ", 2)}})
	for i := range unstocked.Variants {
		unstocked.Variants[i].InventoryQuantity = 0
	}
	b.editProducts(t, long, aspect, unstocked)

	id := b.export(t, "ebay:export:products", map[string]any{"product_ids": ids, "ai_optimize": false})
	failed := waitForStatus(t, b.base, id, "failed")
	mustContain(t, "error", failed["error"].(string), "Product validation failed: 3 of 12 products were not exported to eBay")
	r := b.result(t, id)
	if r.Exported != 9 || r.Invalid != 3 {
		t.Errorf("result %+v, want 9 exported and 3 invalid", r)
	}
	issues := map[string]catalog.ListingIssue{}
	for _, line := range r.Products {
		if len(line.Issues) > 0 {
			issues[line.ProductID] = line.Issues[0]
		}
	}
	if is := issues[long.ID]; is.Field != "title" || is.Source != "export" || !strings.Contains(is.Message, "eBay allows 80") {
		t.Errorf("issue of the long title: %+v", is)
	}
	if is := issues[aspect.ID]; is.Source != marketplace.Ebay || is.Code == "" {
		t.Errorf("issue of the long aspect: %+v, want eBay's per-item error from the 207", is)
	}
	if is := issues[unstocked.ID]; is.Field != "quantity" || is.Source != "export" {
		t.Errorf("issue of the product without stock: %+v, want the export's own check", is)
	}
	if c := b.box.Ebay.Counters(); c.BulkItemRequests != 1 || c.OffersCreated != 9 || c.ListingsCreated != 9 {
		t.Errorf("eBay counters %+v, want one bulk write, 9 offers and 9 listings", c)
	}

	long.Title = "Heavyweight Organic Pocket Tee"
	aspect.Options = aspect.Options[:len(aspect.Options)-1]
	for i := range unstocked.Variants {
		unstocked.Variants[i].InventoryQuantity = 7
	}
	b.editProducts(t, long, aspect, unstocked)
	again := b.export(t, "ebay:export:products", map[string]any{"product_ids": ids})
	waitForStatus(t, b.base, again, "completed")
	if r := b.result(t, again); r.Exported != 12 || r.CreditsCharged != 12 {
		t.Errorf("export with AI %+v, want all 12 exported (the text changed)", r)
	}
	c := b.box.Ebay.Counters()
	if c.OffersCreated != 12 || c.OffersUpdated != 9 || c.ListingsCreated != 12 {
		t.Errorf("eBay counters %+v, want 12 offers created, 9 updated, 12 listings", c)
	}
	seller := b.box.Credentials()[marketplace.Ebay].(*connection.Ebay)
	for _, pid := range ids {
		p := products[sourceIDOf(products, pid)]
		if offers := b.box.Ebay.Offers(seller.RefreshToken, p.SKU); len(offers) != 1 {
			t.Errorf("%s has %d offers", p.SKU, len(offers))
		}
		item, ok := b.box.Ebay.InventoryItem(seller.RefreshToken, p.SKU)
		if !ok || item.Product == nil || item.Product.Title == "" || len([]rune(item.Product.Title)) > 80 {
			t.Errorf("%s on eBay: %+v", p.SKU, item.Product)
		}
	}
}

// An offer eBay refuses to publish (here: a return policy the seller's
// account does not have) lands on its product in eBay's words, and the
// export goes on with the others.
func TestAnOfferEbayRefusesToPublishIsListedWithItsReason(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-publish", 100)
	ids := b.productIDs(t, 2, func(p catalog.Product) bool { return p.Vendor != "" })
	creds := *b.box.Credentials()[marketplace.Ebay].(*connection.Ebay)
	creds.ReturnPolicyID = "6196939999"
	connect(t, b.base, b.storeID, marketplace.Ebay, &creds)

	id := b.export(t, "ebay:export:products", map[string]any{"product_ids": ids, "ai_optimize": false})
	failed := waitForStatus(t, b.base, id, "failed")
	mustContain(t, "error", failed["error"].(string), "2 of 2 products were not exported to eBay")
	for _, line := range b.result(t, id).Products {
		if line.Status != "invalid" || len(line.Issues) != 1 || line.Issues[0].Source != marketplace.Ebay || !strings.Contains(line.Issues[0].Message, "6196939999") || line.OfferID == "" {
			t.Errorf("%s: %+v, want eBay's refusal of the offer naming the policy", line.ProductID, line)
		}
	}
	if c := b.box.Ebay.Counters(); c.OffersCreated != 2 || c.Publishes != 0 {
		t.Errorf("eBay counters %+v, want 2 offers, none published", c)
	}
}

// eBay's daily quota spent: the export does not busy-loop; once the
// backoff outlasts the inline waits, the job is retried when the quota
// resets, as the Analytics API tells.
func TestASpentEbayQuotaBecomesARetryAtTheReset(t *testing.T) {
	t.Parallel()
	b := exportSetup(t, exportShop, "exp-quota", 100)
	ids := b.productIDs(t, 3, func(p catalog.Product) bool { return p.Vendor != "" })
	b.box.Ebay.SetFaults(ebayfake.Faults{QuotaExhausted: true})

	id := b.export(t, "ebay:export:products", map[string]any{"product_ids": ids, "ai_optimize": false})
	retrying := waitForStatus(t, b.base, id, "retrying")
	next, err := time.Parse(time.RFC3339, retrying["next_attempt_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(la)
	reset := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, la)
	if d := next.Sub(reset); d < -time.Minute || d > time.Minute {
		t.Errorf("next attempt at %s, want the quota's reset at %s", next, reset)
	}
	for _, w := range b.waits.all() {
		if w > 30*time.Second {
			t.Errorf("the job slept %s inside an attempt", w)
		}
	}
	status, body := call(t, http.MethodPost, b.base+"/api/background-jobs/"+id+"/cancel", nil)
	if status != http.StatusOK {
		t.Errorf("cancel: %d %v", status, body)
	}
}

// A worker killed in the middle of an export: another takes over from the
// last batch done; no product is charged twice and none gets a second
// listing.
func TestAnExportKilledMidwayResumesWithoutChargingOrListingTwice(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.Lease = 5 * time.Second
	env.Config.SweepInterval = time.Second
	o := exportShop
	o.AILatency = func() time.Duration { return 150 * time.Millisecond }
	box := startSandbox(t, env, o)
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, 3*time.Minute)
	const storeID = "exp-killed"
	for name, creds := range box.Credentials() {
		if _, err := a.Connections.Save(ctx, storeID, name, creds, creds.Account()); err != nil {
			t.Fatal(err)
		}
	}
	box.Ledger.SetBalance(storeID, 100)
	// Until the kill, only the worker process works the queue.
	proc := startWorkerProcess(t, env, "JOBS_SHOPIFY_ENDPOINT="+env.Config.ShopifyEndpoint,
		"JOBS_AMAZON_LWA_URL="+env.Config.AmazonLWAURL, "JOBS_AMAZON_SPAPI_URL="+env.Config.AmazonSPAPIURL,
		"JOBS_BEDROCK_ENDPOINT="+env.Config.BedrockEndpoint, "JOBS_CREDITS_LEDGER_URL="+env.Config.CreditsLedgerURL,
		"JOBS_CREDITS_LEDGER_TOKEN="+env.Config.CreditsLedgerToken, "JOBS_ALLOW_PRIVATE_ENDPOINTS=true", "JOBS_EXPORT_AI_CONCURRENCY=4")
	create := func(jobType string, payload any) string {
		data, _ := json.Marshal(payload)
		j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: storeID, Type: jobType, Payload: data})
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	imported := create("shopify:import:products", map[string]any{})
	eventually(t, 2*time.Minute, func() error {
		j, err := a.Jobs.Get(ctx, imported)
		if err != nil || j.Status != "completed" {
			return fmt.Errorf("import: %v %v", j, err)
		}
		return nil
	})
	b := &exportBundle{env: env, a: a, box: box, storeID: storeID}
	ids := b.productIDs(t, 26, hasBarcode)
	id := create("amazon:export:products", map[string]any{"product_ids": ids})
	eventually(t, 2*time.Minute, func() error {
		if n := len(box.Ledger.Debits(storeID)); n < 10 {
			return fmt.Errorf("%d products paid for", n)
		}
		return nil
	})
	proc.kill()
	atKill, err := a.Jobs.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if atKill.Status != "running" {
		t.Fatalf("the export is %s at the kill", atKill.Status)
	}

	// Another worker, in this process, takes over once the lease expires.
	base := testenv.Serve(t, a)
	waitForStatus(t, base, id, "completed")
	if done, _ := a.Jobs.Get(ctx, id); done.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the killed run, then the takeover)", done.Attempts)
	}
	if n := len(box.Ledger.Debits(storeID)); n != 26 {
		t.Errorf("%d debits for 26 products: a product was charged twice or not at all", n)
	}
	if got := box.Ledger.Balance(storeID); got != 74 {
		t.Errorf("balance %d, want 74", got)
	}
	c := box.Amazon.Counters()
	if c.ListingsCreated != 26 || len(box.Amazon.Listings(amazonfake.SandboxSeller().SellerID)) != 26 {
		t.Errorf("Amazon counters %+v, want 26 listings created, no second one", c)
	}
	// A product sent but not yet recorded at the kill is sent again (a
	// replace): at most the calls in flight, the send concurrency.
	if again := c.ListingPuts - 26; again > 5 {
		t.Errorf("%d listings sent again after the kill", again)
	}
	if r := b.result(t, id); r.Exported+r.Unchanged != 26 || r.Processed != 26 {
		t.Errorf("result %+v, want each of the 26 counted once", r)
	}
}
