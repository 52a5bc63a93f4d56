package shopifyfake_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/clock"
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
}

func setup(t *testing.T, options shopifyfake.Options, catalog shopifyfake.Catalog) *testBundle {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC))
	options.Now = clk.Now
	fake := shopifyfake.New(options)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	fake.SetPublicURL(server.URL)
	fake.AddShop(shopDomain, shopToken, catalog)
	return &testBundle{fake: fake, server: server, clock: clk}
}

// response is a GraphQL answer, its data left raw for each test to read.
type response struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost int  `json:"requestedQueryCost"`
			ActualQueryCost    *int `json:"actualQueryCost"`
			ThrottleStatus     struct {
				MaximumAvailable   float64 `json:"maximumAvailable"`
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
		Search []struct {
			Warnings []struct{ Field, Message string } `json:"warnings"`
		} `json:"search"`
	} `json:"extensions"`
}

func (r response) errorCodes() []string {
	var codes []string
	for _, e := range r.Errors {
		code, _ := e.Extensions["code"].(string)
		codes = append(codes, code)
	}
	return codes
}

// post sends a GraphQL query as the shop's app and returns the HTTP status,
// the raw body and the decoded answer (when the body is one).
func (b *testBundle) post(t *testing.T, token, query string, variables map[string]any) (int, []byte, response) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, b.server.URL+"/"+shopDomain+"/admin/api/2026-07/graphql.json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", token)
	res, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var decoded response
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &decoded); err != nil {
			t.Fatalf("decoding %s: %v", raw, err)
		}
		if got := res.Header.Get("X-Shopify-API-Version"); got != "2026-07" {
			t.Errorf("X-Shopify-API-Version = %q, want the requested 2026-07", got)
		}
	}
	return res.StatusCode, raw, decoded
}

func (b *testBundle) query(t *testing.T, query string, variables map[string]any, data any) response {
	t.Helper()
	status, raw, res := b.post(t, shopToken, query, variables)
	if status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("query answered %d: %s", status, raw)
	}
	if err := json.Unmarshal(res.Data, data); err != nil {
		t.Fatalf("decoding data %s: %v", res.Data, err)
	}
	return res
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

const productIDsQuery = `query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes { id updatedAt }
  }
}`

type productIDsPage struct {
	Products struct {
		PageInfo pageInfo `json:"pageInfo"`
		Nodes    []struct {
			ID        string `json:"id"`
			UpdatedAt string `json:"updatedAt"`
		} `json:"nodes"`
	} `json:"products"`
}

// allProductIDs pages through the products the search query selects.
func (b *testBundle) allProductIDs(t *testing.T, first int, search string) []string {
	t.Helper()
	var ids []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		variables := map[string]any{"first": first}
		if after != "" {
			variables["after"] = after
		}
		if search != "" {
			variables["query"] = search
		}
		var page productIDsPage
		b.query(t, productIDsQuery, variables, &page)
		for _, n := range page.Products.Nodes {
			ids = append(ids, n.ID)
		}
		if !page.Products.PageInfo.HasNextPage {
			return ids
		}
		after = page.Products.PageInfo.EndCursor
	}
}

func TestSeedIsDeterministicWithItsOdditiesInPlace(t *testing.T) {
	t.Parallel()
	c := shopifyfake.Seed(1, 500, 40)
	if again := shopifyfake.Seed(1, 500, 40); !reflect.DeepEqual(c, again) {
		t.Fatal("Seed(1, 500, 40) differs between two calls")
	}
	if other := shopifyfake.Seed(2, 500, 40); reflect.DeepEqual(c.Products[0], other.Products[0]) {
		t.Error("seeds 1 and 2 give the same first product")
	}
	if got, want := c.ProductsWithoutSKU(), []int{5, 102, 199, 296, 393, 490}; !slices.Equal(got, want) {
		t.Errorf("products without SKU = %v, want %v", got, want)
	}
	if got, want := c.ProductsWithBrokenImages(), []int{11, 261}; !slices.Equal(got, want) {
		t.Errorf("products with broken images = %v, want %v", got, want)
	}
	if got, want := c.ProductsWithMoreVariantsThan(12), []int{2}; !slices.Equal(got, want) {
		t.Errorf("products with more than 12 variants = %v, want %v", got, want)
	}
	if n := len(c.Products[2].Variants); n < 130 {
		t.Errorf("the many-variants product has %d variants, want 130 or more", n)
	}

	skus := map[string]bool{}
	smart, custom, onSale := 0, 0, 0
	for _, col := range c.Collections {
		if col.Smart() {
			smart++
		} else {
			custom++
		}
	}
	for i, p := range c.Products {
		if i > 0 && p.ID <= c.Products[i-1].ID {
			t.Fatalf("product %d is out of id order", i)
		}
		if n := len(p.Variants); n < 1 || n > 12 && i != 2 {
			t.Errorf("product %d has %d variants", i, n)
		}
		if n := len(p.Images); n < 1 || n > 4 {
			t.Errorf("product %d has %d images", i, n)
		}
		if n := len(c.ProductCollections(i)); n < 1 || n > 3 {
			t.Errorf("product %d is in %d collections, want 1 to 3", i, n)
		}
		if p.UpdatedAt.Before(p.CreatedAt) {
			t.Errorf("product %d was updated before it was created", i)
		}
		for _, v := range p.Variants {
			if v.SKU != "" && skus[v.SKU] {
				t.Errorf("SKU %s appears twice", v.SKU)
			}
			skus[v.SKU] = true
			if v.CompareAtPrice != "" {
				onSale++
			}
		}
	}
	if smart == 0 || custom == 0 || onSale == 0 {
		t.Errorf("seeded %d smart and %d custom collections, %d variants on sale; want some of each", smart, custom, onSale)
	}
}

func TestProductsPageWithOpaqueCursors(t *testing.T) {
	t.Parallel()
	catalog := shopifyfake.Seed(3, 60, 6)
	b := setup(t, shopifyfake.Options{}, catalog)

	var want []string
	for _, p := range catalog.Products {
		want = append(want, p.GID())
	}
	for _, first := range []int{1, 7, 60, 250} {
		if got := b.allProductIDs(t, first, ""); !slices.Equal(got, want) {
			t.Errorf("paging by %d gave %d products, want the %d seeded in id order", first, len(got), len(want))
		}
	}

	var page productIDsPage
	b.query(t, productIDsQuery, map[string]any{"first": 2}, &page)
	raw, err := base64.StdEncoding.DecodeString(page.Products.PageInfo.EndCursor)
	if err != nil || !json.Valid(raw) {
		t.Errorf("cursor %q is not base64 JSON as Shopify's are", page.Products.PageInfo.EndCursor)
	}

	_, body, res := b.post(t, shopToken, productIDsQuery, map[string]any{"first": 2, "after": "not-a-cursor"})
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "Invalid cursor") {
		t.Errorf("a bad cursor answered %s, want an Invalid cursor error", body)
	}
}

func TestNestedVariantsPageByPosition(t *testing.T) {
	t.Parallel()
	catalog := shopifyfake.Seed(1, 3, 2)
	b := setup(t, shopifyfake.Options{}, catalog)
	product := catalog.Products[2]

	const query = `query Variants($id: ID!, $after: String) {
  product(id: $id) { variants(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { id position sku } } }
}`
	var got []string
	after := ""
	for range 10 {
		var data struct {
			Product struct {
				Variants struct {
					PageInfo pageInfo `json:"pageInfo"`
					Nodes    []struct {
						ID       string `json:"id"`
						Position int    `json:"position"`
					} `json:"nodes"`
				} `json:"variants"`
			} `json:"product"`
		}
		variables := map[string]any{"id": product.GID()}
		if after != "" {
			variables["after"] = after
		}
		b.query(t, query, variables, &data)
		for _, n := range data.Product.Variants.Nodes {
			if n.Position != len(got)+1 {
				t.Fatalf("variant %s has position %d, want %d", n.ID, n.Position, len(got)+1)
			}
			got = append(got, n.ID)
		}
		if !data.Product.Variants.PageInfo.HasNextPage {
			break
		}
		after = data.Product.Variants.PageInfo.EndCursor
	}
	var want []string
	for _, v := range product.Variants {
		want = append(want, v.GID())
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged %d variants, want the product's %d in position order", len(got), len(want))
	}
}

func TestUpdatedAtFilter(t *testing.T) {
	t.Parallel()
	catalog := shopifyfake.Seed(4, 120, 4)
	b := setup(t, shopifyfake.Options{}, catalog)
	since := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	var want []string
	for _, p := range catalog.Products {
		if p.UpdatedAt.After(since) {
			want = append(want, p.GID())
		}
	}
	if len(want) == 0 || len(want) == len(catalog.Products) {
		t.Fatalf("%d of %d products updated since %s: the seed should split them", len(want), len(catalog.Products), since)
	}
	got := b.allProductIDs(t, 25, "updated_at:>'"+since.Format(time.RFC3339)+"'")
	if !slices.Equal(got, want) {
		t.Errorf("filter selected %d products, want %d", len(got), len(want))
	}

	var counts struct {
		ProductsCount struct {
			Count     int    `json:"count"`
			Precision string `json:"precision"`
		} `json:"productsCount"`
	}
	b.query(t, `query($q: String) { productsCount(query: $q) { count precision } }`,
		map[string]any{"q": "updated_at:>'" + since.Format(time.RFC3339) + "'"}, &counts)
	if counts.ProductsCount.Count != len(want) || counts.ProductsCount.Precision != "EXACT" {
		t.Errorf("productsCount = %+v, want %d EXACT", counts.ProductsCount, len(want))
	}

	res := b.query(t, `{ products(first: 5, query: "colour:blue") { nodes { id } } }`, nil, &struct{}{})
	if len(res.Extensions.Search) != 1 || len(res.Extensions.Search[0].Warnings) != 1 {
		t.Errorf("an unknown search field gave search extensions %+v, want one warning", res.Extensions.Search)
	}
}

func TestRejectedRequestsAsShopifyWordsThem(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{}, shopifyfake.Seed(1, 5, 2))
	const query = `{ shop { name } }`

	status, body, _ := b.post(t, "shpat_wrong", query, nil)
	if want := `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`; status != http.StatusUnauthorized || string(body) != want {
		t.Errorf("wrong token answered %d %s, want 401 %s", status, body, want)
	}

	for _, tc := range []struct {
		faults shopifyfake.Faults
		status int
	}{
		{shopifyfake.Faults{RevokedToken: true}, http.StatusUnauthorized},
		{shopifyfake.Faults{Frozen: true}, http.StatusPaymentRequired},
		{shopifyfake.Faults{Locked: true}, http.StatusLocked},
	} {
		b.fake.SetFaults(tc.faults)
		if status, body, _ := b.post(t, shopToken, query, nil); status != tc.status {
			t.Errorf("with %+v answered %d %s, want %d", tc.faults, status, body, tc.status)
		}
	}
	b.fake.SetFaults(shopifyfake.Faults{})

	req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/other.myshopify.com/admin/api/2026-07/graphql.json", strings.NewReader(`{"query":"{ shop { name } }"}`))
	req.Header.Set("X-Shopify-Access-Token", shopToken)
	res, err := b.server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown shop answered %d, want 404", res.StatusCode)
	}
	if got := b.fake.Counters().Rejected; got != 4 {
		t.Errorf("counted %d rejected requests, want 4", got)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{}, shopifyfake.Seed(1, 5, 2))
	for _, tc := range []struct {
		name, query, code string
	}{
		{"unknown field", `{ products(first: 2) { nodes { id colour } } }`, "undefinedField"},
		{"page over 250", `{ products(first: 251) { nodes { id } } }`, "BAD_USER_INPUT"},
		{"no page size", `{ products { nodes { id } } }`, "BAD_USER_INPUT"},
		{"object without selections", `{ shop { plan } }`, "selectionMismatch"},
		{"unknown argument", `{ shop { name } products(first: 1, colour: "red") { nodes { id } } }`, "argumentNotAccepted"},
		{"over the single-query limit", `{ products(first: 250) { nodes { variants(first: 250) { nodes { id } } } } }`, "MAX_COST_EXCEEDED"},
	} {
		status, body, res := b.post(t, shopToken, tc.query, nil)
		if status != http.StatusOK || !slices.Contains(res.errorCodes(), tc.code) || res.Data != nil {
			t.Errorf("%s: answered %d %s, want 200 with a %s error and no data", tc.name, status, body, tc.code)
		}
	}
	if _, body, res := b.post(t, shopToken, `{ shop { name `, nil); len(res.Errors) != 1 || !strings.HasPrefix(res.Errors[0].Message, "syntax error") {
		t.Errorf("a truncated query answered %s, want a syntax error", body)
	}
}

func TestCostBucket(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{Bucket: shopifyfake.Bucket{Max: 500, RestoreRate: 50}}, shopifyfake.Seed(1, 30, 4))
	// 2 + 10 × (1 + variants 2 + 20 × (1 + image 1)) = 432 requested; the
	// seeded products have fewer than 20 variants, so the actual cost is
	// lower and the bucket keeps the difference.
	const query = `{ products(first: 10) { nodes { id variants(first: 20) { nodes { sku image { url } } } } } }`
	res := b.query(t, query, nil, &struct{}{})
	cost := res.Extensions.Cost
	if cost.RequestedQueryCost != 432 || cost.ActualQueryCost == nil || *cost.ActualQueryCost >= 432 {
		t.Fatalf("cost = %+v, want requested 432 and a lower actual cost", cost)
	}
	available := cost.ThrottleStatus.CurrentlyAvailable
	if want := float64(500 - *cost.ActualQueryCost); available != want {
		t.Errorf("currentlyAvailable = %v, want %v", available, want)
	}
	if available >= 432 {
		t.Fatalf("the first query left %v points, enough for the second: the test needs a costlier first page", available)
	}

	// The bucket cannot pay the requested cost again: throttled, no data.
	_, body, throttled := b.post(t, shopToken, query, nil)
	if !slices.Equal(throttled.errorCodes(), []string{"THROTTLED"}) || throttled.Data != nil || throttled.Extensions.Cost.ActualQueryCost != nil {
		t.Fatalf("a query the bucket cannot pay answered %s, want THROTTLED with no data and a null actual cost", body)
	}
	if got := throttled.Extensions.Cost.ThrottleStatus.CurrentlyAvailable; got != available {
		t.Errorf("a throttled query changed the bucket from %v to %v", available, got)
	}

	// After the wait the throttle status implies, the query runs.
	b.clock.Advance(time.Duration((432 - available) / 50 * float64(time.Second)))
	b.query(t, query, nil, &struct{}{})
	if got := b.fake.Counters().Throttled; got != 1 {
		t.Errorf("counted %d throttled, want 1", got)
	}
}

func TestFaultsSwitchedOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{}, shopifyfake.Seed(1, 5, 2))

	res, err := b.server.Client().Post(b.server.URL+"/_faults", "application/json", strings.NewReader(`{"server_errors_next": 2, "throttle_next": 1}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /_faults answered %d", res.StatusCode)
	}
	res, err = b.server.Client().Post(b.server.URL+"/_faults", "application/json", strings.NewReader(`{"revoked_tokens": true}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a misspelt fault answered %d, want 400", res.StatusCode)
	}
	res, err = b.server.Client().Get(b.server.URL + "/_faults")
	if err != nil {
		t.Fatal(err)
	}
	var faults shopifyfake.Faults
	err = json.NewDecoder(res.Body).Decode(&faults)
	res.Body.Close()
	if err != nil || faults != (shopifyfake.Faults{ServerErrorsNext: 2, ThrottleNext: 1}) {
		t.Fatalf("GET /_faults = %+v (%v)", faults, err)
	}

	const query = `{ shop { name } }`
	for _, want := range []int{http.StatusServiceUnavailable, http.StatusBadGateway} {
		if status, _, _ := b.post(t, shopToken, query, nil); status != want {
			t.Errorf("answered %d, want %d", status, want)
		}
	}
	_, body, throttled := b.post(t, shopToken, query, nil)
	status := throttled.Extensions.Cost.ThrottleStatus
	if !slices.Equal(throttled.errorCodes(), []string{"THROTTLED"}) || status.CurrentlyAvailable >= float64(throttled.Extensions.Cost.RequestedQueryCost) {
		t.Fatalf("throttle_next answered %s, want THROTTLED with too few points available", body)
	}
	b.clock.Advance(time.Second)
	b.query(t, query, nil, &struct{}{})

	res, err = b.server.Client().Get(b.server.URL + "/_counters")
	if err != nil {
		t.Fatal(err)
	}
	var counters shopifyfake.Counters
	err = json.NewDecoder(res.Body).Decode(&counters)
	res.Body.Close()
	if err != nil || counters.GraphQLRequests != 4 || counters.ServerErrors != 2 || counters.Throttled != 1 {
		t.Errorf("GET /_counters = %+v (%v), want 4 requests, 2 server errors, 1 throttled", counters, err)
	}
}

func TestLatencyEndsWithTheClient(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{}, shopifyfake.Seed(1, 1, 1))
	b.fake.SetFaults(shopifyfake.Faults{LatencyMS: int(time.Hour / time.Millisecond)})
	// A client that has given up: the hour of latency must not hold the
	// handler, and the request must not be served.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/"+shopDomain+"/admin/api/2026-07/graphql.json", strings.NewReader(`{"query":"{ shop { name } }"}`))
	req.Header.Set("X-Shopify-Access-Token", shopToken)
	recorder := httptest.NewRecorder()
	b.fake.ServeHTTP(recorder, req)
	if recorder.Body.Len() != 0 || b.fake.Counters().GraphQLRequests != 0 {
		t.Errorf("a request whose client left was served: %s", recorder.Body)
	}
}

func TestImagesServedAndVersioned(t *testing.T) {
	t.Parallel()
	catalog := shopifyfake.Seed(1, 12, 2)
	b := setup(t, shopifyfake.Options{}, catalog)

	get := func(url string) (int, []byte) {
		t.Helper()
		res, err := b.server.Client().Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, body
	}
	img := catalog.Products[0].Images[0]
	url := b.fake.ImageURL(shopDomain, img)
	status, content := get(url)
	if status != http.StatusOK {
		t.Fatalf("GET %s answered %d", url, status)
	}
	decoded, err := png.Decode(bytes.NewReader(content))
	if err != nil || decoded.Bounds().Dx() != img.Width || decoded.Bounds().Dy() != img.Height {
		t.Errorf("image is not a %dx%d PNG (%v)", img.Width, img.Height, err)
	}
	broken := catalog.Products[11].Images[len(catalog.Products[11].Images)-1]
	if !broken.Broken {
		t.Fatal("product 11's last image should be broken")
	}
	brokenURL := b.fake.ImageURL(shopDomain, broken)
	if status, _ := get(brokenURL); status != http.StatusNotFound {
		t.Errorf("broken image answered %d, want 404", status)
	}

	before := b.fake.Shop(shopDomain).Products[0].UpdatedAt
	if err := b.fake.UpdateProduct(shopDomain, 0, func(p *shopifyfake.Product) {
		p.Images[0].Alt = "New alt text"
		p.Title += " (Restocked)"
	}); err != nil {
		t.Fatal(err)
	}
	after := b.fake.Shop(shopDomain).Products[0]
	if !after.UpdatedAt.After(before) || after.Images[0].Version != img.Version+1 || after.Images[1%len(after.Images)].Version != 1 && len(after.Images) > 1 {
		t.Errorf("after an edit: updatedAt %s (was %s), image versions %d, want a later updatedAt and only the edited image bumped",
			after.UpdatedAt, before, after.Images[0].Version)
	}
	newURL := b.fake.ImageURL(shopDomain, after.Images[0])
	if _, newContent := get(newURL); bytes.Equal(newContent, content) {
		t.Error("a new image version has the old content")
	}
	get(url)

	downloads := b.fake.Counters().ImageDownloads
	if downloads[url] != 2 || downloads[newURL] != 1 || downloads[brokenURL] != 1 {
		t.Errorf("image downloads = %v", downloads)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyfake.Options{}, shopifyfake.Seed(5, 40, 4))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 5 {
				b.allProductIDs(t, 25, "")
				if err := b.fake.UpdateProduct(shopDomain, g, func(p *shopifyfake.Product) { p.Tags = append(p.Tags, "edited") }); err != nil {
					t.Error(err)
				}
				b.fake.Counters()
				b.clock.Advance(10 * time.Second) // keep the bucket from running dry
			}
		})
	}
	wg.Wait()
}

func TestAnswersExactlyWhatIsSelected(t *testing.T) {
	t.Parallel()
	catalog := shopifyfake.Seed(1, 3, 1)
	b := setup(t, shopifyfake.Options{}, catalog)
	const query = `# a comment
query Exact($n: Int = 2) {
  items: products(first: $n) {
    edges { cursor node { __typename id media(first: 1) { nodes { ... on MediaImage { image { width } } ... on Video { id } } } } }
    pageInfo { endCursor }
  }
}`
	_, body, res := b.post(t, shopToken, query, nil)
	if len(res.Errors) > 0 {
		t.Fatalf("answered %s", body)
	}
	var data map[string]map[string]json.RawMessage
	if err := json.Unmarshal(res.Data, &data); err != nil {
		t.Fatal(err)
	}
	if len(data) != 1 || len(data["items"]) != 2 {
		t.Fatalf("data %s: want only the aliased items with edges and pageInfo", res.Data)
	}
	var edges []struct {
		Cursor string
		Node   map[string]json.RawMessage
	}
	if err := json.Unmarshal(data["items"]["edges"], &edges); err != nil || len(edges) != 2 {
		t.Fatalf("edges %s (%v): want the two products the default variable asks for", data["items"]["edges"], err)
	}
	var pageInfo map[string]string
	if err := json.Unmarshal(data["items"]["pageInfo"], &pageInfo); err != nil || pageInfo["endCursor"] != edges[1].Cursor {
		t.Errorf("pageInfo %s: want the last edge's cursor", data["items"]["pageInfo"])
	}
	node := edges[0].Node
	wantMedia := fmt.Sprintf(`{"nodes":[{"image":{"width":%d}}]}`, catalog.Products[0].Images[0].Width)
	if len(node) != 3 || string(node["__typename"]) != `"Product"` || string(node["media"]) != wantMedia {
		t.Errorf("node %v: want __typename, id and media %s only", node, wantMedia)
	}
}
