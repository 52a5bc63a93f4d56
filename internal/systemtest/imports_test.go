package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/akeneofake"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

// A small shop: 120 products (product 2 with 144 variants; products 5
// and 102 without a SKU; product 11 with a broken image) in 10 collections.
// The bucket restores fast so that a test spends little time waiting.
var smallShop = sandbox.Options{ShopifyProducts: 120, ShopifyCollections: 10, AkeneoProducts: 10, AkeneoCategories: 3,
	ShopifyBucket: shopifyfake.Bucket{Max: 2000, RestoreRate: 1000}}

// importSetup runs the system against a sandbox with the store connected.
func importSetup(t *testing.T, o sandbox.Options, storeID string) (*testenv.Env, *app.App, string, *sandbox.Sandbox, *recordedWaits) {
	t.Helper()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{200 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond}
	box := startSandbox(t, env, o)
	waits := &recordedWaits{}
	a := env.App(t, app.Overrides{RateLimitWait: waits.wait})
	base := testenv.Serve(t, a)
	for name, creds := range box.Credentials() {
		if name == marketplace.Shopify || name == marketplace.Akeneo {
			connect(t, base, storeID, name, creds)
		}
	}
	return env, a, base, box, waits
}

func startImport(t *testing.T, base, storeID, jobType string, payload map[string]any) string {
	t.Helper()
	status, body := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": jobType, "payload": payload}, bearer(testenv.StoreToken(t, storeID))...)
	if status != http.StatusCreated {
		t.Fatalf("create %s: %d %v", jobType, status, body)
	}
	return body["job"].(map[string]any)["id"].(string)
}

// expectedShopify is what an import of the shop must bring in.
type expectedShopify struct {
	products map[string]shopifyfake.Product // with a SKU, by gid
	noSKU    map[string]bool
	broken   map[string]bool // products with a broken image, by gid
}

func expectShopify(c *shopifyfake.Catalog) expectedShopify {
	e := expectedShopify{products: map[string]shopifyfake.Product{}, noSKU: map[string]bool{}, broken: map[string]bool{}}
	for _, p := range c.Products {
		hasSKU := false
		for _, v := range p.Variants {
			hasSKU = hasSKU || v.SKU != ""
		}
		if !hasSKU {
			e.noSKU[p.GID()] = true
			continue
		}
		e.products[p.GID()] = p
		for _, img := range p.Images {
			if img.Broken {
				e.broken[p.GID()] = true
			}
		}
	}
	return e
}

// A full Shopify import equals the shop: every product with a SKU, its
// variants (nested pagination included), its images in S3; the products
// without a SKU and the broken image listed. A second import writes and
// downloads nothing; an edit at the source updates just that product.
func TestShopifyImportBringsInTheShopAndAReimportOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	env, a, base, box, _ := importSetup(t, smallShop, "shop-a")
	shop := box.Shopify.Shop(sandbox.ShopDomain)
	want := expectShopify(shop)
	if len(want.noSKU) != 2 || len(want.broken) != 1 {
		t.Fatalf("the seed changed: %d products without SKU, %d with a broken image", len(want.noSKU), len(want.broken))
	}

	id := startImport(t, base, "shop-a", "shopify:import:all", nil)
	done := waitForStatus(t, base, id, "completed")
	if msg := done["progress_message"]; msg != "Importing products: 120/120" {
		t.Errorf("last progress message %q, want the guide's \"Importing products: 120/120\"", msg)
	}
	result := importResult(t, a, id)
	if p := result.Phases["products"]; p.Total != 120 || p.Created != 118 || p.Failed != 2 || p.Processed != 120 {
		t.Errorf("products %+v, want 120 processed: 118 created, 2 failed", *p)
	}
	if c := result.Phases["collections"]; c.Total != 10 || c.Created != 10 {
		t.Errorf("collections %+v, want 10 created", *c)
	}
	failed := failedReasons(result)
	for gid := range want.noSKU {
		mustContain(t, "failure of "+gid, failed[gid], "no SKU")
	}
	for gid := range want.broken {
		mustContain(t, "failure of "+gid, failed[gid], "HTTP 404")
	}
	if result.FailedCount != 3 {
		t.Errorf("%d failed items, want 3: %+v", result.FailedCount, result.FailedItems)
	}

	products := catalogProducts(t, a, "shop-a")
	if len(products) != len(want.products) {
		t.Fatalf("%d products in the catalog, want %d", len(products), len(want.products))
	}
	keys := storedImageKeys(t, env)
	for gid, src := range want.products {
		got := products[gid]
		if got.Title != src.Title || len(got.Variants) != len(src.Variants) || got.ID != catalog.ItemID("shopify", gid) {
			t.Errorf("%s: %q with %d variants, want %q with %d", gid, got.Title, len(got.Variants), src.Title, len(src.Variants))
		}
		if got.SKU != src.Variants[0].SKU && src.Variants[0].SKU != "" {
			t.Errorf("%s: SKU %q, want the first variant's %q", gid, got.SKU, src.Variants[0].SKU)
		}
		if len(got.Images) != len(src.Images) {
			t.Errorf("%s: %d images, want %d", gid, len(got.Images), len(src.Images))
		}
		for _, img := range got.Images {
			if img.Key == "" && !want.broken[gid] {
				t.Errorf("%s: image %s was not stored", gid, img.SourceURL)
			}
			if img.Key != "" && (!keys[img.Key] || !strings.HasPrefix(img.Key, "stores/shop-a/images/") || img.ContentType != "image/png") {
				t.Errorf("%s: image %+v is not in the bucket", gid, img)
			}
		}
	}
	if n := len(products[shop.Products[2].GID()].Variants); n != 144 {
		t.Errorf("product 2 has %d variants in the catalog, want all 144", n)
	}
	downloads := box.Shopify.Counters().ImageDownloads
	for url, n := range downloads {
		if n != 1 {
			t.Errorf("image %s downloaded %d times", url, n)
		}
	}

	// The collections, through the API.
	status, body := call(t, http.MethodGet, base+"/api/catalog/collections?limit=100", nil, bearer(testenv.StoreToken(t, "shop-a"))...)
	if status != http.StatusOK || len(body["collections"].([]any)) != 10 {
		t.Fatalf("collections: %d %v", status, body)
	}

	// Again: nothing changed, so nothing is written or downloaded.
	writesBefore := catalogWrites(t, env)
	again := startImport(t, base, "shop-a", "shopify:import:all", nil)
	waitForStatus(t, base, again, "completed")
	r2 := importResult(t, a, again)
	if p := r2.Phases["products"]; p.Unchanged != 118 || p.Created+p.Updated != 0 {
		t.Errorf("re-import products %+v, want 118 unchanged", *p)
	}
	if r2.Images.Downloaded != 0 {
		t.Errorf("re-import downloaded %d images", r2.Images.Downloaded)
	}
	if after := catalogWrites(t, env); after != writesBefore {
		t.Errorf("re-import rewrote unchanged items: last write %s, was %s", after, writesBefore)
	}
	for url, n := range box.Shopify.Counters().ImageDownloads {
		if n != downloads[url] {
			t.Errorf("image %s downloaded again by the re-import", url)
		}
	}

	// An edit at the source: only that product is updated, and with
	// since, only what changed is even read.
	before := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	if err := box.Shopify.UpdateProduct(sandbox.ShopDomain, 0, func(p *shopifyfake.Product) { p.Title = "Organic Cotton Tee, Renamed" }); err != nil {
		t.Fatal(err)
	}
	edited := startImport(t, base, "shop-a", "shopify:import:products", map[string]any{"since": before})
	waitForStatus(t, base, edited, "completed")
	r3 := importResult(t, a, edited)
	if p := r3.Phases["products"]; p.Processed != 1 || p.Updated != 1 {
		t.Errorf("import since the edit: %+v, want the one edited product updated", *p)
	}
	if got := catalogProducts(t, a, "shop-a")[shop.Products[0].GID()].Title; got != "Organic Cotton Tee, Renamed" {
		t.Errorf("edited title %q", got)
	}
}

// catalogWrites is the time of the latest write to the catalog table.
func catalogWrites(t *testing.T, env *testenv.Env) string {
	t.Helper()
	items := scanCatalog(t, env)
	latest := ""
	for _, item := range items {
		if v, ok := item["updated_at"]; ok && v > latest {
			latest = v
		}
	}
	return latest
}

// A rejected token fails the import at once with the guide's "Invalid
// credentials" and what to do, marks the connection invalid, and new jobs of
// the marketplace are refused until it is re-configured.
func TestARevokedTokenFailsTheImportAndMarksTheConnection(t *testing.T) {
	t.Parallel()
	_, a, base, box, _ := importSetup(t, smallShop, "shop-r")
	box.Shopify.SetFaults(shopifyfake.Faults{RevokedToken: true})
	id := startImport(t, base, "shop-r", "shopify:import:products", nil)
	failed := waitForStatus(t, base, id, "failed")
	msg := failed["error"].(string)
	mustContain(t, "error", msg, "Invalid credentials")
	mustContain(t, "error", msg, "Invalid API key or access token")
	mustContain(t, "error", msg, "Re-configure the Shopify connection in the Marketplace Hub")
	if failed["attempts"].(float64) != 1 {
		t.Errorf("attempts = %v: a rejected credential is not retried", failed["attempts"])
	}
	conn, err := a.Connections.Get(context.Background(), "shop-r", marketplace.Shopify)
	if err != nil || conn.State != connection.StateInvalid || !strings.Contains(conn.Reason, "Invalid API key") || conn.InvalidSince == nil {
		t.Fatalf("connection after the rejection: %+v, %v", conn, err)
	}
	status, body := call(t, http.MethodPost, base+"/api/background-jobs", map[string]any{"type": "shopify:import:all"}, bearer(testenv.StoreToken(t, "shop-r"))...)
	if status != http.StatusUnprocessableEntity || errorCode(body) != "connection_invalid" {
		t.Fatalf("create with an invalid connection: %d %v", status, body)
	}
	mustContain(t, "refusal", errorMessage(body), "Re-configure the Shopify connection")

	// Re-configured, it works again.
	box.Shopify.SetFaults(shopifyfake.Faults{})
	connect(t, base, "shop-r", marketplace.Shopify, box.Credentials()[marketplace.Shopify])
	waitForStatus(t, base, startImport(t, base, "shop-r", "shopify:import:collections", nil), "completed")
}

// Throttling (Shopify's THROTTLED with HTTP 200) is waited out inside the
// job, each wait no longer than the server's hint; a burst of 5xx is
// retried on the schedule and resumes from the page it was on.
func TestImportsRideOutThrottlingAndServerErrors(t *testing.T) {
	t.Parallel()
	_, a, base, box, waits := importSetup(t, smallShop, "shop-t")
	box.Shopify.SetFaults(shopifyfake.Faults{ThrottleNext: 6})
	id := startImport(t, base, "shop-t", "shopify:import:all", nil)
	done := waitForStatus(t, base, id, "completed")
	if done["attempts"].(float64) != 1 {
		t.Errorf("attempts = %v: short throttles are waited out inside the job", done["attempts"])
	}
	if got := box.Shopify.Counters().Throttled; got != 6 {
		t.Errorf("%d throttled answers, want the 6 injected", got)
	}
	// Each throttled answer said how long to wait: the bucket (2000
	// points, 1000 a second) never needs more than 2 s to refill.
	recorded := waits.all()
	if len(recorded) < 6 {
		t.Errorf("%d waits for 6 throttled answers", len(recorded))
	}
	var total time.Duration
	for _, w := range recorded {
		if w <= 0 || w > 2*time.Second {
			t.Errorf("waited %s: longer than any hint of this bucket", w)
		}
		total += w
	}
	if r := importResult(t, a, id); time.Duration(r.RateLimitWaitMS)*time.Millisecond < total-time.Duration(len(recorded))*time.Millisecond {
		t.Errorf("result reports %d ms of waiting, the waits were %s", r.RateLimitWaitMS, total)
	}

	// A 5xx burst mid-import: the attempt fails, the next resumes.
	box.Shopify.SetFaults(shopifyfake.Faults{ServerErrorsNext: 2})
	retried := startImport(t, base, "shop-t", "shopify:import:products", nil)
	done = waitForStatus(t, base, retried, "completed")
	if done["attempts"].(float64) < 2 {
		t.Errorf("attempts = %v after a 5xx burst, want a retry", done["attempts"])
	}
	if p := importResult(t, a, retried).Phases["products"]; p.Processed != 120 || p.Unchanged != 118 {
		t.Errorf("products after retries %+v", *p)
	}
}

// A cancel stops the import at a page boundary: the catalog holds whole
// pages, exactly what the job's checkpoint says it did.
func TestACancelledImportStopsAtAPageBoundary(t *testing.T) {
	t.Parallel()
	_, a, base, box, _ := importSetup(t, smallShop, "shop-c")
	box.Shopify.SetFaults(shopifyfake.Faults{LatencyMS: 150})
	id := startImport(t, base, "shop-c", "shopify:import:products", nil)
	eventually(t, 2*time.Minute, func() error {
		j, err := a.Jobs.Get(context.Background(), id)
		if err != nil {
			return err
		}
		if j.Progress < 20 {
			return fmt.Errorf("progress %d", j.Progress)
		}
		return nil
	})
	if status, body := call(t, http.MethodPost, base+"/api/background-jobs/"+id+"/cancel", nil, bearer(testenv.StoreToken(t, "shop-c"))...); status != http.StatusAccepted {
		t.Fatalf("cancel: %d %v", status, body)
	}
	waitForStatus(t, base, id, "cancelled")
	stored := len(catalogProducts(t, a, "shop-c"))
	// Whole pages of 10 (the Shopify client's default page): the products with a SKU
	// among the first 10·k.
	want := expectShopify(box.Shopify.Shop(sandbox.ShopDomain))
	boundaries := map[int]bool{}
	withSKU := 0
	for i, p := range box.Shopify.Shop(sandbox.ShopDomain).Products {
		if !want.noSKU[p.GID()] {
			withSKU++
		}
		if (i+1)%10 == 0 {
			boundaries[withSKU] = true
		}
	}
	if !boundaries[stored] || stored == 0 || stored == len(want.products) {
		t.Errorf("%d products stored: not a page boundary of a partial import (boundaries %v)", stored, boundaries)
	}
}

// Akeneo: the category tree and the products, values by locale and scope,
// images through the PIM's media API; its tokens renewed as they expire
// and its 429s waited out for their Retry-After.
func TestAkeneoImportBringsInTheTreeAndTheProducts(t *testing.T) {
	t.Parallel()
	o := sandbox.Options{ShopifyProducts: 1, ShopifyCollections: 1, AkeneoProducts: 230, AkeneoCategories: 20}
	env, a, base, box, waits := importSetup(t, o, "pim-a")
	pim := box.Akeneo.Catalog()
	box.Akeneo.SetFaults(akeneofake.Faults{RateLimitNext: 3, RetryAfterSeconds: 1})

	id := startImport(t, base, "pim-a", "akeneo:import:all", nil)
	done := waitForStatus(t, base, id, "completed")
	if msg := done["progress_message"]; msg != "Importing products: 230/230" {
		t.Errorf("last progress message %q", msg)
	}
	result := importResult(t, a, id)
	noSKU, broken := 0, 0
	for _, p := range pim.Products {
		if p.SKU() == "" {
			noSKU++
		}
	}
	for _, f := range result.FailedItems {
		if strings.Contains(f.Reason, "HTTP 404") {
			broken++
		}
	}
	if p := result.Phases["products"]; p.Created != 230-noSKU || p.Failed != noSKU || noSKU != 2 {
		t.Errorf("products %+v; %d without SKU in the seed", *p, noSKU)
	}
	if broken != 1 {
		t.Errorf("%d broken images reported, want the seed's 1: %+v", broken, result.FailedItems)
	}
	if c := result.Phases["categories"]; c.Created != len(pim.Categories) {
		t.Errorf("categories %+v, want %d", *c, len(pim.Categories))
	}
	// 429 with Retry-After: 1 s, waited inside the job.
	ones := 0
	for _, w := range waits.all() {
		if w == time.Second {
			ones++
		}
	}
	if ones != 3 || done["attempts"].(float64) != 1 {
		t.Errorf("waited 1 s %d times (all waits %v), attempts %v; want the 3 Retry-Afters waited in one attempt", ones, waits.all(), done["attempts"])
	}

	// The tree: every category with its parent, through the API.
	status, body := call(t, http.MethodGet, base+"/api/catalog/categories?limit=100", nil, bearer(testenv.StoreToken(t, "pim-a"))...)
	if status != http.StatusOK {
		t.Fatal(status, body)
	}
	parents := map[string]string{}
	for _, c := range body["categories"].([]any) {
		c := c.(map[string]any)
		parent, _ := c["parent"].(string)
		parents[c["code"].(string)] = parent
	}
	for _, c := range pim.Categories {
		if got, ok := parents[c.Code]; !ok || got != c.Parent {
			t.Errorf("category %s: parent %q, want %q", c.Code, got, c.Parent)
		}
	}
	products := catalogProducts(t, a, "pim-a")
	keys := storedImageKeys(t, env)
	withImages := 0
	for _, src := range pim.Products {
		if src.SKU() == "" {
			continue
		}
		got, ok := products[src.UUID]
		if !ok || got.SKU != src.SKU() || got.Title == "" || len(got.Attributes) == 0 || len(got.Prices) == 0 {
			t.Errorf("product %s: %+v", src.UUID, got)
			continue
		}
		for _, img := range got.Images {
			if img.Key != "" {
				withImages++
				if !keys[img.Key] {
					t.Errorf("image %s of %s is not in the bucket", img.Key, src.UUID)
				}
			}
		}
	}
	if withImages == 0 {
		t.Error("no Akeneo image was stored")
	}

	// Expired tokens mid-way are renewed; the next import finds all unchanged.
	box.Akeneo.SetFaults(akeneofake.Faults{ExpireTokens: true})
	again := startImport(t, base, "pim-a", "akeneo:import:products", nil)
	waitForStatus(t, base, again, "completed")
	if p := importResult(t, a, again).Phases["products"]; p.Unchanged != 230-noSKU {
		t.Errorf("re-import %+v", *p)
	}
	if box.Akeneo.Counters().RefreshGrants+box.Akeneo.Counters().PasswordGrants < 3 {
		t.Errorf("tokens were not renewed: %+v", box.Akeneo.Counters())
	}

	// Credentials revoked at the PIM: the import fails at once and says so.
	box.Akeneo.SetFaults(akeneofake.Faults{RevokedCredentials: true})
	revoked := startImport(t, base, "pim-a", "akeneo:import:categories", nil)
	failed := waitForStatus(t, base, revoked, "failed")
	mustContain(t, "error", failed["error"].(string), "Invalid credentials: Akeneo rejected the store's credentials")
	if conn, _ := a.Connections.Get(context.Background(), "pim-a", marketplace.Akeneo); conn.State != connection.StateInvalid {
		t.Errorf("the Akeneo connection is %s after its credentials were rejected", conn.State)
	}
}

// A store reads and imports only its own: its own connection, its own
// catalog; another store's products are not found.
func TestAStoreImportsAndReadsOnlyItsOwnCatalog(t *testing.T) {
	t.Parallel()
	_, a, base, box, _ := importSetup(t, sandbox.Options{ShopifyProducts: 30, ShopifyCollections: 3, AkeneoProducts: 1, AkeneoCategories: 1,
		ShopifyBucket: shopifyfake.Bucket{Max: 2000, RestoreRate: 1000}}, "own-a")
	box.Shopify.AddShop("other-shop.myshopify.com", "shpat_other", shopifyfake.Seed(2, 12, 2))
	connect(t, base, "own-b", marketplace.Shopify, connection.Shopify{ShopDomain: "other-shop.myshopify.com", AccessToken: "shpat_other"})
	idA := startImport(t, base, "own-a", "shopify:import:products", nil)
	idB := startImport(t, base, "own-b", "shopify:import:products", nil)
	waitForStatus(t, base, idA, "completed")
	waitForStatus(t, base, idB, "completed")

	a1, b1 := catalogProducts(t, a, "own-a"), catalogProducts(t, a, "own-b")
	other := box.Shopify.Shop("other-shop.myshopify.com")
	if len(b1) != len(expectShopify(other).products) {
		t.Errorf("store own-b has %d products, its shop %d", len(b1), len(expectShopify(other).products))
	}
	for gid := range b1 {
		if _, shared := a1[gid]; shared {
			t.Errorf("product %s is in both stores' catalogs", gid)
		}
	}
	var someA catalog.Product
	for _, p := range a1 {
		someA = p
		break
	}
	tokenB := bearer(testenv.StoreToken(t, "own-b"))
	if status, _ := call(t, http.MethodGet, base+"/api/catalog/products/"+someA.ID, nil, tokenB...); status != http.StatusNotFound {
		t.Errorf("store own-b reads own-a's product: %d", status)
	}
	if status, _ := call(t, http.MethodGet, base+"/api/catalog/products?store_id=own-a", nil, tokenB...); status != http.StatusNotFound {
		t.Errorf("store own-b lists own-a's products: %d", status)
	}
	status, body := call(t, http.MethodGet, base+"/api/catalog/products/"+someA.ID, nil, bearer(testenv.StoreToken(t, "own-a"))...)
	if status != http.StatusOK || body["product"].(map[string]any)["store_id"] != "own-a" {
		t.Errorf("store own-a reads its product: %d %v", status, body)
	}
	// Paging through the API sees each product once.
	seen := map[string]bool{}
	cursor := ""
	for {
		status, body := call(t, http.MethodGet, base+"/api/catalog/products?limit=7&cursor="+cursor, nil, bearer(testenv.StoreToken(t, "own-a"))...)
		if status != http.StatusOK {
			t.Fatal(status, body)
		}
		for _, p := range body["products"].([]any) {
			id := p.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("product %s on two pages", id)
			}
			seen[id] = true
		}
		if cursor = body["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if len(seen) != len(a1) {
		t.Errorf("paging saw %d products of %d", len(seen), len(a1))
	}
}

// scanCatalog reads every item of the test's catalog table as strings.
func scanCatalog(t *testing.T, env *testenv.Env) []map[string]string {
	t.Helper()
	out, err := env.DynamoDB().Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(env.Config.CatalogTableName)})
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]string
	for _, item := range out.Items {
		m := map[string]string{}
		for k, v := range item {
			raw, _ := json.Marshal(v)
			m[k] = string(raw)
		}
		items = append(items, m)
	}
	return items
}

// A worker killed (SIGKILL) mid-import: the next worker resumes at the page
// the checkpoint names, not from the start, and the import's end state is
// exact: every product once, counted once, and no image fetched again but
// those whose download was in flight when the process died.
func TestAnImportKilledMidwayResumesFromItsPage(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.Lease = 5 * time.Second
	env.Config.SweepInterval = time.Second
	box := startSandbox(t, env, smallShop)
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, 3*time.Minute)
	creds := box.Credentials()[marketplace.Shopify]
	if _, err := a.Connections.Save(ctx, "killed-shop", marketplace.Shopify, creds, creds.Account()); err != nil {
		t.Fatal(err)
	}
	box.Shopify.SetFaults(shopifyfake.Faults{LatencyMS: 100})
	proc := startWorkerProcess(t, env, "JOBS_SHOPIFY_ENDPOINT="+env.Config.ShopifyEndpoint, "JOBS_ALLOW_PRIVATE_ENDPOINTS=true")
	j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: "killed-shop", Type: "shopify:import:all", Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	var atKill *job.Job
	eventually(t, 2*time.Minute, func() error {
		got, err := a.Jobs.Get(ctx, j.ID)
		if err != nil {
			return err
		}
		if got.Progress < 40 {
			return fmt.Errorf("progress %d", got.Progress)
		}
		atKill = got
		return nil
	})
	proc.kill()
	requestsAtKill := box.Shopify.Counters().GraphQLRequests
	var doneAtKill int
	if _, err := fmt.Sscanf(atKill.ProgressMessage, "Importing products: %d/120", &doneAtKill); err != nil {
		t.Fatalf("progress message at the kill %q: %v", atKill.ProgressMessage, err)
	}

	box.Shopify.SetFaults(shopifyfake.Faults{})
	base := testenv.Serve(t, a)
	waitForStatus(t, base, j.ID, "completed")
	result := importResult(t, a, j.ID)
	if p := result.Phases["products"]; p.Processed != 120 || p.Created != 118 || p.Failed != 2 || p.Updated+p.Unchanged != 0 {
		t.Errorf("products %+v, want each of the 120 counted once: 118 created, 2 failed", *p)
	}
	if c := result.Phases["collections"]; c.Created != 10 {
		t.Errorf("collections %+v", *c)
	}
	if n := len(catalogProducts(t, a, "killed-shop")); n != 118 {
		t.Errorf("%d products in the catalog, want 118", n)
	}
	// Pages of 10: the resumed run reads the pages left, the one in flight
	// at the kill, and the nested variant page at most once more.
	pagesLeft := (120 - doneAtKill) / 10
	if resumed := box.Shopify.Counters().GraphQLRequests - requestsAtKill; resumed > pagesLeft+3 {
		t.Errorf("the resumed run made %d requests for %d pages left: it did not resume at its page", resumed, pagesLeft)
	}
	again := 0
	for _, n := range box.Shopify.Counters().ImageDownloads {
		again += n - 1
	}
	if again > 4 {
		t.Errorf("%d images fetched again after the kill; only the (at most 4) downloads in flight may be", again)
	}
	if done, _ := a.Jobs.Get(ctx, j.ID); done.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the killed run, then the takeover)", done.Attempts)
	}
}

// An import longer than a worker invocation (Lambda's 15 minutes, here
// 4 s) is handed on at its deadline and goes on from its page in the next
// invocation, without using an attempt, and its counts stay exact.
func TestAnImportLongerThanAnInvocationContinues(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.WorkerTimeout = 4 * time.Second
	env.Config.DeadlineMargin = time.Second
	// 40 products (product 5 without a SKU) with about 100 images.
	box := startSandbox(t, env, sandbox.Options{ShopifyProducts: 40, ShopifyCollections: 2, AkeneoProducts: 1, AkeneoCategories: 1,
		ShopifyBucket: shopifyfake.Bucket{Max: 2000, RestoreRate: 1000}})
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)
	connect(t, base, "long-shop", marketplace.Shopify, box.Credentials()[marketplace.Shopify])
	// Every request takes 0.4 s: 5 pages and about 100 images, four at a
	// time, are more than 10 s of work for invocations of 3 s.
	box.Shopify.SetFaults(shopifyfake.Faults{LatencyMS: 400})
	id := startImport(t, base, "long-shop", "shopify:import:products", nil)
	done := waitForStatus(t, base, id, "completed")
	if done["attempts"].(float64) != 1 {
		t.Errorf("attempts = %v: a continuation was counted as a retry", done["attempts"])
	}
	logs, err := a.Jobs.Logs(context.Background(), id, "info", 1000, "")
	if err != nil {
		t.Fatal(err)
	}
	handedOn := 0
	for _, entry := range logs.Entries {
		if entry.Event == "handed_on" {
			handedOn++
		}
	}
	if handedOn < 2 {
		t.Errorf("handed on %d times; an import of more than 10 s in 3 s invocations needs at least 2", handedOn)
	}
	if p := importResult(t, a, id).Phases["products"]; p.Processed != 40 || p.Created != 39 || p.Failed != 1 {
		t.Errorf("products %+v, want each counted once", *p)
	}
}

// A product too large for one catalog item (DynamoDB refuses items over
// 400 KB) is listed as failed; the rest of its page is imported.
func TestAProductTooLargeToStoreIsListedAndTheImportGoesOn(t *testing.T) {
	t.Parallel()
	_, a, base, box, _ := importSetup(t, sandbox.Options{ShopifyProducts: 12, ShopifyCollections: 1, AkeneoProducts: 1, AkeneoCategories: 1,
		ShopifyBucket: shopifyfake.Bucket{Max: 2000, RestoreRate: 1000}}, "big-shop")
	err := box.Shopify.UpdateProduct(sandbox.ShopDomain, 0, func(p *shopifyfake.Product) {
		base := p.Variants[0]
		for i := range 3000 {
			v := base
			v.ID = base.ID + int64(1_000_000+i)
			v.SKU = fmt.Sprintf("%s-X%04d", base.SKU, i)
			v.Title = fmt.Sprintf("Extra long colour name %d / Extra long size name", i)
			p.Variants = append(p.Variants, v)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	big := box.Shopify.Shop(sandbox.ShopDomain).Products[0].GID()
	id := startImport(t, base, "big-shop", "shopify:import:products", nil)
	waitForStatus(t, base, id, "completed")
	result := importResult(t, a, id)
	mustContain(t, "failure of the large product", failedReasons(result)[big], "too large to store")
	want := expectShopify(box.Shopify.Shop(sandbox.ShopDomain))
	products := catalogProducts(t, a, "big-shop")
	if _, stored := products[big]; stored || len(products) != len(want.products)-1 {
		t.Errorf("%d products stored (the large one: %v), want the %d others", len(products), stored, len(want.products)-1)
	}
}
