package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/shopify"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
)

const (
	shopDomain = "store-1.myshopify.com"
	shopToken  = "shpat_0123456789abcdef"
)

type testBundle struct {
	fake   *shopifyfake.Fake
	server *httptest.Server
	clock  *clock.Fake
	client *shopify.Client
}

// setup serves catalog from a fake Shopify on a fake clock, and returns a
// client whose pacing sleeps advance that clock.
func setup(t *testing.T, bucket shopifyfake.Bucket, catalog shopifyfake.Catalog, configure ...func(*shopify.Config)) *testBundle {
	t.Helper()
	b := &testBundle{clock: clock.NewFake(time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC))}
	b.fake = shopifyfake.New(shopifyfake.Options{Now: b.clock.Now, Bucket: bucket})
	b.server = httptest.NewServer(b.fake)
	t.Cleanup(b.server.Close)
	b.fake.SetPublicURL(b.server.URL)
	b.fake.AddShop(shopDomain, shopToken, catalog)
	b.client = newClient(t, b.server.URL, b.clock, configure...)
	return b
}

func newClient(t *testing.T, endpoint string, clk *clock.Fake, configure ...func(*shopify.Config)) *shopify.Client {
	t.Helper()
	cfg := shopify.Config{
		ShopDomain:  shopDomain,
		AccessToken: shopToken,
		Endpoint:    endpoint,
		APIVersion:  "2026-07",
		Now:         clk.Now,
		Sleep: func(ctx context.Context, d time.Duration) error {
			clk.Advance(d)
			return ctx.Err()
		},
	}
	for _, c := range configure {
		c(&cfg)
	}
	client, err := shopify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func (b *testBundle) allProducts(t *testing.T, since time.Time) []catalog.Product {
	t.Helper()
	var products []catalog.Product
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		page, err := b.client.Products(context.Background(), after, since)
		if err != nil {
			t.Fatalf("page after %q: %v", after, err)
		}
		products = append(products, page.Products...)
		if !page.HasNextPage {
			return products
		}
		after = page.EndCursor
	}
}

func (b *testBundle) allCollections(t *testing.T, since time.Time) []catalog.Collection {
	t.Helper()
	var collections []catalog.Collection
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		page, err := b.client.Collections(context.Background(), after, since)
		if err != nil {
			t.Fatalf("page after %q: %v", after, err)
		}
		collections = append(collections, page.Collections...)
		if !page.HasNextPage {
			return collections
		}
		after = page.EndCursor
	}
}

// expectedProduct is what importing product i of the fake's catalog must
// give, worked out from the fake's data.
func (b *testBundle) expectedProduct(c *shopifyfake.Catalog, i int) catalog.Product {
	p := c.Products[i]
	out := catalog.Product{
		ID:              catalog.ItemID(catalog.SourceShopify, p.GID()),
		Source:          catalog.SourceShopify,
		SourceID:        p.GID(),
		Title:           p.Title,
		Description:     p.DescriptionHTML,
		Vendor:          p.Vendor,
		ProductType:     p.ProductType,
		Status:          p.Status,
		Tags:            p.Tags,
		SourceUpdatedAt: p.UpdatedAt.UTC().Format(time.RFC3339),
	}
	for _, o := range p.Options {
		out.Options = append(out.Options, catalog.Option{Name: o.Name, Values: o.Values})
	}
	for k, v := range p.Variants {
		variant := catalog.Variant{
			SourceID: v.GID(), SKU: v.SKU, Title: v.Title, Price: v.Price, CompareAtPrice: v.CompareAtPrice,
			Barcode: v.Barcode, InventoryQuantity: v.InventoryQuantity, Position: k + 1, Options: map[string]string{},
		}
		for _, o := range v.SelectedOptions {
			variant.Options[o.Name] = o.Value
		}
		if img, ok := p.Image(v.ImageID); ok {
			variant.ImageURL = b.fake.ImageURL(shopDomain, img)
		}
		if out.SKU == "" {
			out.SKU = v.SKU
		}
		out.Variants = append(out.Variants, variant)
	}
	for _, img := range p.Images {
		out.Images = append(out.Images, catalog.Image{SourceURL: b.fake.ImageURL(shopDomain, img), Alt: img.Alt, Width: img.Width, Height: img.Height})
	}
	for _, j := range c.ProductCollections(i) {
		out.Collections = append(out.Collections, catalog.ItemID(catalog.SourceShopify, c.Collections[j].GID()))
	}
	out.ContentHash = out.Hash()
	return out
}

func (b *testBundle) expectedCollection(c *shopifyfake.Catalog, j int) catalog.Collection {
	col := c.Collections[j]
	out := catalog.Collection{
		ID:              catalog.ItemID(catalog.SourceShopify, col.GID()),
		Source:          catalog.SourceShopify,
		SourceID:        col.GID(),
		Handle:          col.Handle,
		Title:           col.Title,
		Description:     col.DescriptionHTML,
		Smart:           col.Smart(),
		Disjunctive:     col.Disjunctive,
		SortOrder:       col.SortOrder,
		ProductsCount:   len(c.CollectionProducts(j)),
		SourceUpdatedAt: col.UpdatedAt.UTC().Format(time.RFC3339),
	}
	for _, r := range col.Rules {
		out.Rules = append(out.Rules, catalog.Rule{Column: r.Column, Relation: r.Relation, Condition: r.Condition})
	}
	if col.Image != nil {
		out.ImageURL = b.fake.ImageURL(shopDomain, *col.Image)
	}
	out.ContentHash = out.Hash()
	return out
}

// sameItems compares two lists of catalog items by their JSON, which
// treats an empty list and none alike, and reports the first difference.
func sameItems[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("imported %d %s, want %d", len(got), what, len(want))
	}
	for i := range min(len(got), len(want)) {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("%s %d differs:\n got %s\nwant %s", what, i, g, w)
			return
		}
	}
}

func TestImportsTheSandboxCatalog(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Bucket{}, shopifyfake.Seed(1, 500, 40))
	c := b.fake.Shop(shopDomain)
	ctx := context.Background()

	products := b.allProducts(t, time.Time{})
	var want []catalog.Product
	for i := range c.Products {
		want = append(want, b.expectedProduct(c, i))
	}
	sameItems(t, "products", products, want)

	many := c.ProductsWithMoreVariantsThan(100)
	if len(many) == 0 || len(products) <= many[0] || len(products[many[0]].Variants) != len(c.Products[many[0]].Variants) {
		t.Errorf("the products with more than 100 variants (%v) were not imported whole", many)
	}
	var withoutSKU []int
	for i, p := range products {
		if p.SKU == "" {
			withoutSKU = append(withoutSKU, i)
		}
	}
	if want := c.ProductsWithoutSKU(); len(want) == 0 || !slices.Equal(withoutSKU, want) {
		t.Errorf("imported products without SKU %v, want %v", withoutSKU, want)
	}

	collections := b.allCollections(t, time.Time{})
	var wantCollections []catalog.Collection
	for j := range c.Collections {
		wantCollections = append(wantCollections, b.expectedCollection(c, j))
	}
	sameItems(t, "collections", collections, wantCollections)

	if n, err := b.client.CountProducts(ctx, time.Time{}); err != nil || n != len(c.Products) {
		t.Errorf("CountProducts = %d, %v; want %d", n, err, len(c.Products))
	}
	if n, err := b.client.CountCollections(ctx, time.Time{}); err != nil || n != len(c.Collections) {
		t.Errorf("CountCollections = %d, %v; want %d", n, err, len(c.Collections))
	}
	stats, counters := b.client.Stats(), b.fake.Counters()
	if stats.Throttled != 0 || counters.Throttled != 0 || stats.Requests != counters.GraphQLRequests {
		t.Errorf("client stats %+v, fake counters %+v: want every request served, none throttled", stats, counters)
	}
}

func TestSinceSelectsWhatChanged(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Bucket{}, shopifyfake.Seed(7, 150, 12))
	ctx := context.Background()
	c := b.fake.Shop(shopDomain)
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	var want []catalog.Product
	for i, p := range c.Products {
		if p.UpdatedAt.After(since) {
			want = append(want, b.expectedProduct(c, i))
		}
	}
	if len(want) == 0 || len(want) == len(c.Products) {
		t.Fatalf("%d of %d products changed since %s: the seed should split them", len(want), len(c.Products), since)
	}
	sameItems(t, "products", b.allProducts(t, since), want)
	if n, err := b.client.CountProducts(ctx, since); err != nil || n != len(want) {
		t.Errorf("CountProducts(since) = %d, %v; want %d", n, err, len(want))
	}
	var wantCollections []catalog.Collection
	for j, col := range c.Collections {
		if col.UpdatedAt.After(since) {
			wantCollections = append(wantCollections, b.expectedCollection(c, j))
		}
	}
	sameItems(t, "collections", b.allCollections(t, since), wantCollections)

	// A merchant edits an old product: the next incremental import has it,
	// and only it.
	lastImport := b.clock.Now()
	b.clock.Advance(time.Minute)
	old := slices.IndexFunc(c.Products, func(p shopifyfake.Product) bool { return !p.UpdatedAt.After(since) })
	if err := b.fake.UpdateProduct(shopDomain, old, func(p *shopifyfake.Product) { p.Variants[0].Price = "99.00" }); err != nil {
		t.Fatal(err)
	}
	changed := b.allProducts(t, lastImport)
	if len(changed) != 1 || changed[0].SourceID != c.Products[old].GID() || changed[0].Variants[0].Price != "99.00" {
		t.Errorf("after one edit the incremental import gave %d products, want the edited one", len(changed))
	}
}

func TestNestedPaginationCompletesEveryConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Bucket{}, shopifyfake.Seed(2, 12, 40))
	// Give product 0 more variants, images and collections than a page
	// holds of each.
	if err := b.fake.UpdateProduct(shopDomain, 0, func(p *shopifyfake.Product) {
		p.Options = []shopifyfake.Option{{Name: "Size"}}
		p.Variants = nil
		for n := range 600 {
			size := fmt.Sprintf("%d", n+1)
			p.Options[0].Values = append(p.Options[0].Values, size)
			p.Variants = append(p.Variants, shopifyfake.Variant{SKU: "BIG-" + size, Title: size, Price: "10.00",
				SelectedOptions: []shopifyfake.SelectedOption{{Name: "Size", Value: size}}})
		}
		for n := range 30 {
			p.Images = append(p.Images, shopifyfake.Image{File: fmt.Sprintf("%s-extra-%d", p.Handle, n), Width: 200, Height: 200})
		}
	}); err != nil {
		t.Fatal(err)
	}
	c := b.fake.Shop(shopDomain)
	for j, col := range c.Collections {
		if !col.Smart() {
			if err := b.fake.UpdateCollection(shopDomain, j, func(col *shopifyfake.Collection) {
				col.ProductIDs = append(col.ProductIDs, c.Products[0].ID)
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	c = b.fake.Shop(shopDomain)
	if n := len(c.ProductCollections(0)); n <= 10 {
		t.Fatalf("product 0 is in %d collections, the test needs more than a page", n)
	}

	page, err := b.client.Products(context.Background(), "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sameItems(t, "products", page.Products[:1], []catalog.Product{b.expectedProduct(c, 0)})
}

func TestRejectedCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Bucket{}, shopifyfake.Seed(1, 3, 1))
	for _, tc := range []struct {
		name   string
		faults shopifyfake.Faults
		token  string
		reason string
	}{
		{"wrong token", shopifyfake.Faults{}, "shpat_wrong", "[API] Invalid API key or access token (unrecognized login or wrong password)"},
		{"revoked token", shopifyfake.Faults{RevokedToken: true}, shopToken, "[API] Invalid API key or access token (unrecognized login or wrong password)"},
		{"frozen shop", shopifyfake.Faults{Frozen: true}, shopToken, "the shop is frozen (HTTP 402)"},
		{"locked shop", shopifyfake.Faults{Locked: true}, shopToken, "Shopify locked the shop (HTTP 423)"},
	} {
		b.fake.SetFaults(tc.faults)
		client := newClient(t, b.server.URL, b.clock, func(c *shopify.Config) { c.AccessToken = tc.token })
		_, err := client.Shop(context.Background())
		ce, ok := marketplace.IsCredential(err)
		if !ok || !strings.HasPrefix(ce.Reason, tc.reason) || ce.Marketplace != marketplace.Shopify {
			t.Errorf("%s: got %v, want a credential error starting %q", tc.name, err, tc.reason)
		}
	}
	b.fake.SetFaults(shopifyfake.Faults{})

	unknown := newClient(t, b.server.URL, b.clock, func(c *shopify.Config) { c.ShopDomain = "gone.myshopify.com" })
	var pe *marketplace.PermanentError
	if _, err := unknown.Products(context.Background(), "", time.Time{}); !errors.As(err, &pe) || pe.Status != http.StatusNotFound {
		t.Errorf("an unknown shop gave %v, want a permanent error with status 404", err)
	}
}

func TestThrottledQueryReturnsTheWait(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Bucket{}, shopifyfake.Seed(1, 30, 4))
	ctx := context.Background()
	b.fake.SetFaults(shopifyfake.Faults{ThrottleNext: 1})

	_, err := b.client.Products(ctx, "", time.Time{})
	re, ok := marketplace.IsRateLimit(err)
	// The fake empties the bucket: a page's 992 points at 100 a second.
	if !ok || re.Wait != 9920*time.Millisecond {
		t.Fatalf("a throttled page gave %v, want a rate limit error waiting 9.92s", err)
	}
	b.clock.Advance(re.Wait)
	if _, err := b.client.Products(ctx, "", time.Time{}); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	if stats := b.client.Stats(); stats.Throttled != 1 || b.fake.Counters().Throttled != 1 {
		t.Errorf("stats %+v, fake throttled %d: want the one throttled answer only", stats, b.fake.Counters().Throttled)
	}
}

// cannedServer answers every request with status, headers and body.
func cannedServer(t *testing.T, status int, header http.Header, body string) string {
	t.Helper()
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(server.Close)
	return server.URL
}

func TestAnswersBecomeErrorClasses(t *testing.T) {
	t.Parallel()
	type class int
	const (
		transient class = iota
		credential
		rateLimit
		permanent
	)
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   string
		want   class
		wait   time.Duration
	}{
		{"throttled as Shopify documents it", 200, nil,
			`{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],` +
				`"extensions":{"cost":{"requestedQueryCost":752,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":352,"restoreRate":50.0}}}}`,
			rateLimit, 8 * time.Second},
		{"429 with Retry-After", 429, http.Header{"Retry-After": {"2.5"}}, `{"errors":"Exceeded 2 calls per second for api client."}`, rateLimit, 2500 * time.Millisecond},
		{"unknown field", 200, nil, `{"errors":[{"message":"Field 'colour' doesn't exist on type 'Product'","extensions":{"code":"undefinedField"}}]}`, permanent, 0},
		{"query over the cost limit", 200, nil, `{"errors":[{"message":"Query cost is 2577, which exceeds the single query max cost limit (1000).","extensions":{"code":"MAX_COST_EXCEEDED"}}]}`, permanent, 0},
		{"internal error", 200, nil, `{"errors":[{"message":"Internal error. Looks like something went wrong on our end.","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}`, transient, 0},
		{"forbidden", 403, nil, `{"errors":"[API] This action requires merchant approval for read_products scope."}`, permanent, 0},
		{"bad gateway", 502, nil, `<html><body>502 Bad Gateway</body></html>`, transient, 0},
		{"unauthorized", 401, nil, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, credential, 0},
		{"not JSON", 200, nil, `<html>captive portal</html>`, transient, 0},
	} {
		endpoint := cannedServer(t, tc.status, tc.header, tc.body)
		client := newClient(t, endpoint, clock.NewFake(time.Now()))
		_, err := client.Shop(context.Background())
		var got class
		var wait time.Duration
		var pe *marketplace.PermanentError
		if re, ok := marketplace.IsRateLimit(err); ok {
			got, wait = rateLimit, re.Wait
		} else if _, ok := marketplace.IsCredential(err); ok {
			got = credential
		} else if errors.As(err, &pe) {
			got = permanent
		} else if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if got != tc.want || wait != tc.wait {
			t.Errorf("%s: got %v (class %d, wait %s), want class %d waiting %s", tc.name, err, got, wait, tc.want, tc.wait)
		}
	}
}

func TestServerErrorsAreTransient(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Bucket{}, shopifyfake.Seed(1, 5, 2))
	b.fake.SetFaults(shopifyfake.Faults{ServerErrorsNext: 2})
	for range 2 {
		_, err := b.client.Products(context.Background(), "", time.Time{})
		var pe *marketplace.PermanentError
		_, isCredential := marketplace.IsCredential(err)
		_, isRateLimit := marketplace.IsRateLimit(err)
		if err == nil || isCredential || isRateLimit || errors.As(err, &pe) {
			t.Errorf("a 5xx gave %v, want a transient error", err)
		}
	}
	if _, err := b.client.Products(context.Background(), "", time.Time{}); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

func TestPacingRidesTheBucketInsteadOfBeingThrottled(t *testing.T) {
	t.Parallel()
	// A small, slow bucket: an import of 200 products needs many times what
	// it holds.
	b := setup(t, shopifyfake.Bucket{Max: 1000, RestoreRate: 50}, shopifyfake.Seed(1, 200, 10))
	start := b.clock.Now()
	products := b.allProducts(t, time.Time{})
	if len(products) != 200 {
		t.Fatalf("imported %d products, want 200", len(products))
	}
	stats := b.client.Stats()
	if stats.Throttled != 0 || b.fake.Counters().Throttled != 0 {
		t.Errorf("%d answers were throttled, want none", b.fake.Counters().Throttled)
	}
	if stats.Paced <= 0 || b.clock.Now().Sub(start) != stats.Paced {
		t.Errorf("paced %s while the clock moved %s: want the client to have waited, and only by sleeping", stats.Paced, b.clock.Now().Sub(start))
	}
}

func TestPacingReturnsLongWaitsWithoutSending(t *testing.T) {
	t.Parallel()
	// 2 points a second: after the first page, the next needs minutes.
	b := setup(t, shopifyfake.Bucket{Max: 1000, RestoreRate: 2}, shopifyfake.Seed(1, 40, 4))
	ctx := context.Background()
	first, err := b.client.Products(ctx, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	sent := b.fake.Counters().GraphQLRequests
	_, err = b.client.Products(ctx, first.EndCursor, time.Time{})
	re, ok := marketplace.IsRateLimit(err)
	if !ok || re.Wait <= 20*time.Second {
		t.Fatalf("got %v, want a rate limit error waiting longer than MaxInlineWait", err)
	}
	if got := b.fake.Counters().GraphQLRequests; got != sent {
		t.Errorf("%d requests were sent anyway", got-sent)
	}
	b.clock.Advance(re.Wait)
	if _, err := b.client.Products(ctx, first.EndCursor, time.Time{}); err != nil {
		t.Errorf("after the wait: %v", err)
	}
	if b.fake.Counters().Throttled != 0 {
		t.Error("a query was throttled")
	}
}

func TestShop(t *testing.T) {
	t.Parallel()
	c := shopifyfake.Seed(1, 1, 1)
	b := setup(t, shopifyfake.Bucket{}, c)
	shop, err := b.client.Shop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (shopify.Shop{Name: c.Name, Domain: shopDomain, Plan: c.Plan}); shop != want {
		t.Errorf("Shop() = %+v, want %+v", shop, want)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Bucket{}, shopifyfake.Seed(1, 1, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.client.Shop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled context gave %v, want context.Canceled", err)
	}
}

func TestConfigIsValidated(t *testing.T) {
	t.Parallel()
	valid := shopify.Config{ShopDomain: shopDomain, AccessToken: shopToken}
	if _, err := shopify.New(valid); err != nil {
		t.Fatalf("a valid configuration: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*shopify.Config)
	}{
		{"upper case domain", func(c *shopify.Config) { c.ShopDomain = "Store-1.myshopify.com" }},
		{"custom domain", func(c *shopify.Config) { c.ShopDomain = "shop.example.com" }},
		{"domain with a path", func(c *shopify.Config) { c.ShopDomain = "store-1.myshopify.com/admin" }},
		{"no token", func(c *shopify.Config) { c.AccessToken = "" }},
		{"monthly version", func(c *shopify.Config) { c.APIVersion = "2026-08" }},
		{"endpoint without scheme", func(c *shopify.Config) { c.Endpoint = "localhost:8080" }},
		{"page over the cost limit", func(c *shopify.Config) { c.PageSize = 25 }},
		{"negative page", func(c *shopify.Config) { c.PageSize = -1 }},
	} {
		cfg := valid
		tc.change(&cfg)
		if _, err := shopify.New(cfg); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
