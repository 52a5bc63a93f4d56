package akeneo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/akeneo"
	"github.com/dainostore/jobs/internal/sandbox/akeneofake"
	"github.com/dainostore/jobs/internal/sandbox/imagegen"
)

const (
	clientID = "connection-1"
	secret   = "s3cret"
	username = "api_import"
	password = "pa55word"
)

// testBundle is a fake PIM served under a path prefix, as the sandbox
// mounts it, and a client of it; both read the same fake clock.
type testBundle struct {
	fake    *akeneofake.Fake
	clock   *clock.Fake
	server  *httptest.Server
	baseURL string
	catalog akeneofake.Catalog
}

func setup(t *testing.T, catalog akeneofake.Catalog) *testBundle {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	fake := akeneofake.New(akeneofake.Options{Now: clk.Now})
	fake.AddClient(clientID, secret, username, password)
	fake.SetCatalog(catalog)
	mux := http.NewServeMux()
	mux.Handle("/pim/", http.StripPrefix("/pim", fake))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	fake.SetPublicURL(server.URL + "/pim")
	return &testBundle{fake: fake, clock: clk, server: server, baseURL: server.URL + "/pim", catalog: fake.Catalog()}
}

// newClient returns a client of the bundle's PIM; change adjusts its config.
func (b *testBundle) newClient(t *testing.T, change func(*akeneo.Config)) *akeneo.Client {
	t.Helper()
	cfg := akeneo.Config{
		BaseURL:  b.baseURL,
		ClientID: clientID, Secret: secret, Username: username, Password: password,
		HTTP: b.server.Client(),
		Now:  b.clock.Now,
	}
	if change != nil {
		change(&cfg)
	}
	client, err := akeneo.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return client
}

func (b *testBundle) mediaURL(code string) string {
	return b.baseURL + "/api/rest/v1/media-files/" + code + "/download"
}

func allProducts(t *testing.T, client *akeneo.Client, since time.Time) (products []catalog.Product, pages int) {
	t.Helper()
	next := ""
	for {
		page, err := client.Products(context.Background(), next, since)
		if err != nil {
			t.Fatalf("Products(%q): %v", next, err)
		}
		pages++
		products = append(products, page.Products...)
		if page.Next == "" {
			return products, pages
		}
		next = page.Next
	}
}

// expectedProduct is what an import makes of a seeded product: the fields
// a store owner sees.
type expectedProduct struct {
	SKU, Title, Description, Family, Parent, Status string
	Prices                                          []catalog.Price
	Images                                          []string
	Categories                                      []string
}

func expectImport(b *testBundle, p akeneofake.Product, locale string) expectedProduct {
	text := func(code, scope string) string {
		for _, v := range p.Values[code] {
			if v.Locale == locale && (v.Scope == "" || v.Scope == scope) {
				var s string
				_ = json.Unmarshal(v.Data, &s)
				return s
			}
		}
		return ""
	}
	want := expectedProduct{
		SKU:         p.SKU(),
		Title:       text("name", ""),
		Description: text("description", "ecommerce"),
		Family:      p.Family,
		Parent:      p.Parent,
		Status:      "disabled",
		Categories:  p.Categories,
	}
	if p.Enabled {
		want.Status = "enabled"
	}
	for _, v := range p.Values["price"] {
		_ = json.Unmarshal(v.Data, &want.Prices)
	}
	for _, code := range []string{"image", "image_back"} { // by attribute code
		for _, v := range p.Values[code] {
			var path string
			_ = json.Unmarshal(v.Data, &path)
			want.Images = append(want.Images, b.mediaURL(path))
		}
	}
	return want
}

func imported(p catalog.Product) expectedProduct {
	got := expectedProduct{
		SKU: p.SKU, Title: p.Title, Description: p.Description, Family: p.Family, Parent: p.Parent,
		Status: p.Status, Prices: p.Prices, Categories: p.Categories,
	}
	for _, img := range p.Images {
		got.Images = append(got.Images, img.SourceURL)
	}
	return got
}

func TestProductsPageThroughTheWholeCatalog(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 250, 40))

	for _, locale := range []string{"en_US", "de_DE"} {
		t.Run(locale, func(t *testing.T) {
			client := b.newClient(t, func(c *akeneo.Config) { c.Locale = locale })
			products, pages := allProducts(t, client, time.Time{})
			if pages != 3 {
				t.Errorf("pages = %d, want 3 (100 + 100 + 50)", pages)
			}
			if len(products) != len(b.catalog.Products) {
				t.Fatalf("got %d products, want %d", len(products), len(b.catalog.Products))
			}
			byUUID := map[string]catalog.Product{}
			for _, p := range products {
				byUUID[p.SourceID] = p
			}
			for _, seeded := range b.catalog.Products {
				p, ok := byUUID[seeded.UUID]
				if !ok {
					t.Fatalf("product %s missing", seeded.UUID)
				}
				if want, got := expectImport(b, seeded, locale), imported(p); !reflect.DeepEqual(got, want) {
					t.Errorf("product %s:\n got %+v\nwant %+v", seeded.UUID, got, want)
				}
				if p.ID != catalog.ItemID("akeneo", seeded.UUID) || p.Source != "akeneo" || p.ContentHash != p.Hash() {
					t.Errorf("product %s: id %q, source %q, hash %q", seeded.UUID, p.ID, p.Source, p.ContentHash)
				}
				if len(p.Attributes) != len(seeded.Values) {
					t.Errorf("product %s has %d attributes, want %d", seeded.UUID, len(p.Attributes), len(seeded.Values))
				}
			}
			if !slices.IsSortedFunc(products, func(a, b catalog.Product) int { return strings.Compare(a.SourceID, b.SourceID) }) {
				t.Error("products are not in uuid order")
			}
		})
	}

	// The seed's imperfections come through as they are, for the job to
	// decide: every 101st product has no SKU.
	client := b.newClient(t, nil)
	products, _ := allProducts(t, client, time.Time{})
	withoutSKU := 0
	for _, p := range products {
		if p.SKU == "" {
			withoutSKU++
		}
	}
	if withoutSKU != 2 {
		t.Errorf("%d products without SKU, want 2 (index 100 and 201)", withoutSKU)
	}

	count, err := client.CountProducts(context.Background(), time.Time{})
	if err != nil || count != 250 {
		t.Errorf("CountProducts = %d, %v; want 250", count, err)
	}
}

func TestProductsInScopeAndCurrency(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 5, 10))
	client := b.newClient(t, func(c *akeneo.Config) { c.Scope = "print"; c.Currency = "USD" })
	page, err := client.Products(context.Background(), "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range page.Products {
		if bytes.Contains([]byte(p.Description), []byte("<p>")) {
			t.Errorf("print description is the ecommerce one: %q", p.Description)
		}
		if len(p.Prices) != 2 || p.Prices[0].Currency != "USD" || p.Prices[1].Currency != "EUR" {
			t.Errorf("prices = %+v, want USD first, then EUR", p.Prices)
		}
	}
}

func TestCategoriesPageThroughTheTree(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 0, 150))
	client := b.newClient(t, nil)

	var got []catalog.Category
	next, pages := "", 0
	for {
		page, err := client.Categories(context.Background(), next)
		if err != nil {
			t.Fatalf("Categories: %v", err)
		}
		pages++
		got = append(got, page.Categories...)
		if next = page.Next; next == "" {
			break
		}
	}
	if pages != 2 || len(got) != 150 {
		t.Fatalf("%d categories in %d pages, want 150 in 2", len(got), pages)
	}
	siblings := map[string]int{}
	for i, seeded := range b.catalog.Categories {
		siblings[seeded.Parent]++
		c := got[i]
		want := catalog.Category{
			ID: catalog.ItemID("akeneo", seeded.Code), Source: "akeneo", Code: seeded.Code, Parent: seeded.Parent,
			Position: siblings[seeded.Parent], Labels: seeded.Labels,
			SourceUpdatedAt: seeded.Updated.UTC().Format(time.RFC3339),
		}
		want.ContentHash = want.Hash()
		if !reflect.DeepEqual(c, want) {
			t.Errorf("category %d:\n got %+v\nwant %+v", i, c, want)
		}
	}

	count, err := client.CountCategories(context.Background())
	if err != nil || count != 150 {
		t.Errorf("CountCategories = %d, %v; want 150", count, err)
	}
}

func TestProductsUpdatedSince(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 120, 20))
	client := b.newClient(t, nil)
	since := b.clock.Now()
	b.clock.Advance(time.Minute)
	edited := []string{b.catalog.Products[3].UUID, b.catalog.Products[50].UUID, b.catalog.Products[119].UUID}
	for _, uuid := range edited {
		if err := b.fake.UpdateProduct(uuid, func(p *akeneofake.Product) { p.Enabled = !p.Enabled }); err != nil {
			t.Fatal(err)
		}
	}

	products, _ := allProducts(t, client, since)
	var got []string
	for _, p := range products {
		got = append(got, p.SourceID)
		if p.SourceUpdatedAt != b.clock.Now().UTC().Format(time.RFC3339) {
			t.Errorf("product %s updated at %s, want now", p.SourceID, p.SourceUpdatedAt)
		}
	}
	slices.Sort(edited)
	if !slices.Equal(got, edited) {
		t.Errorf("updated since: %v, want %v", got, edited)
	}
	if count, err := client.CountProducts(context.Background(), since); err != nil || count != 3 {
		t.Errorf("CountProducts(since) = %d, %v; want 3", count, err)
	}
}

func TestTokenIsRefreshedBeforeItExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 10, 5))
	client := b.newClient(t, nil)
	ctx := context.Background()

	if _, err := client.Products(ctx, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(30 * time.Minute)
	if _, err := client.Products(ctx, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if s := client.Stats(); s.PasswordGrants != 1 || s.RefreshGrants != 0 {
		t.Fatalf("after 30 min: %+v, want one password grant and no refresh", s)
	}
	b.clock.Advance(29 * time.Minute) // within the last minutes of the hour
	if _, err := client.Products(ctx, "", time.Time{}); err != nil {
		t.Fatal(err)
	}
	counters := b.fake.Counters()
	if counters.PasswordGrants != 1 || counters.RefreshGrants != 1 || counters.Unauthorized != 0 {
		t.Errorf("fake counted %d password grants, %d refreshes, %d 401s; want 1, 1, 0",
			counters.PasswordGrants, counters.RefreshGrants, counters.Unauthorized)
	}
}

func TestRejectedTokenIsRenewedOnceForAllCallers(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 10, 5))
	client := b.newClient(t, nil)
	ctx := context.Background()
	if err := client.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	b.fake.SetFaults(akeneofake.Faults{ExpireTokens: true})

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := client.Categories(ctx, "")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Categories after the token expired: %v", err)
		}
	}
	counters := b.fake.Counters()
	if counters.RefreshGrants != 1 || counters.PasswordGrants != 1 {
		t.Errorf("fake counted %d refreshes and %d password grants, want 1 and 1", counters.RefreshGrants, counters.PasswordGrants)
	}
	if counters.Unauthorized == 0 {
		t.Error("no call met the expired token")
	}
}

func TestRevokedCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 10, 5))
	ctx := context.Background()

	t.Run("while connected", func(t *testing.T) {
		revoked := setup(t, akeneofake.Seed(7, 10, 5)) // its own fake: the fault applies to every client
		client := revoked.newClient(t, nil)
		if err := client.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		revoked.fake.SetFaults(akeneofake.Faults{RevokedCredentials: true})
		_, err := client.Products(ctx, "", time.Time{})
		assertCredentialError(t, err, "No user found for the given username and password")
		// The refresh token was tried first, then the password.
		if s := client.Stats(); s.RefreshGrants != 1 || s.PasswordGrants != 2 {
			t.Errorf("stats %+v, want one refresh then one more password grant", s)
		}
	})

	for name, tc := range map[string]struct {
		change func(*akeneo.Config)
		reason string
	}{
		"wrong password": {func(c *akeneo.Config) { c.Password = "nope" }, "No user found for the given username and password"},
		"wrong secret":   {func(c *akeneo.Config) { c.Secret = "nope" }, `Parameter "client_id" is missing or does not match any client, or secret is invalid`},
		"no username":    {func(c *akeneo.Config) { c.Username = "" }, `Parameter "grant_type", "username" or "password" is missing, empty or invalid`},
	} {
		t.Run(name, func(t *testing.T) {
			client := b.newClient(t, tc.change)
			assertCredentialError(t, client.Verify(ctx), tc.reason)
			_, err := client.Products(ctx, "", time.Time{})
			assertCredentialError(t, err, tc.reason)
		})
	}
}

func assertCredentialError(t *testing.T, err error, reason string) {
	t.Helper()
	ce, ok := marketplace.IsCredential(err)
	if !ok {
		t.Fatalf("error %v is not a credential error", err)
	}
	if ce.Reason != reason || ce.Marketplace != marketplace.Akeneo {
		t.Errorf("credential error %q from %q, want %q", ce.Reason, ce.Marketplace, reason)
	}
}

func TestRateLimitCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 10, 5))
	client := b.newClient(t, nil)
	ctx := context.Background()
	if err := client.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	b.fake.SetFaults(akeneofake.Faults{RateLimitNext: 1, RetryAfterSeconds: 7})

	_, err := client.Products(ctx, "", time.Time{})
	rl, ok := marketplace.IsRateLimit(err)
	if !ok {
		t.Fatalf("error %v is not a rate limit", err)
	}
	if rl.Wait != 7*time.Second {
		t.Errorf("wait %s, want 7s", rl.Wait)
	}
	if _, err := client.Products(ctx, "", time.Time{}); err != nil {
		t.Errorf("after the rate limit: %v", err)
	}
	if s := client.Stats(); s.RateLimited != 1 {
		t.Errorf("stats count %d rate limits, want 1", s.RateLimited)
	}
}

func TestServerErrorsAreTransient(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 10, 5))
	client := b.newClient(t, nil)
	ctx := context.Background()
	b.fake.SetFaults(akeneofake.Faults{ServerErrorsNext: 2})

	for range 2 {
		_, err := client.Categories(ctx, "")
		if err == nil {
			t.Fatal("no error while the PIM fails")
		}
		var permanent *marketplace.PermanentError
		if _, ok := marketplace.IsCredential(err); ok || errors.As(err, &permanent) {
			t.Errorf("5xx classified as %T: %v", err, err)
		}
		if _, ok := marketplace.IsRateLimit(err); ok {
			t.Errorf("5xx classified as a rate limit: %v", err)
		}
	}
	if _, err := client.Categories(ctx, ""); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

func TestPermanentErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 20, 5))
	client := b.newClient(t, nil)
	ctx := context.Background()

	tests := map[string]struct {
		call   func() error
		status int
		reason string
	}{
		"limit over 100": {
			call: func() error {
				_, err := client.Products(ctx, b.baseURL+"/api/rest/v1/products-uuid?limit=101", time.Time{})
				return err
			},
			status: http.StatusUnprocessableEntity, reason: "You cannot request more than 100 items.",
		},
		"cursor leading elsewhere": {
			call: func() error {
				_, err := client.Products(ctx, "https://attacker.example/api/rest/v1/products-uuid", time.Time{})
				return err
			},
			status: 0,
		},
		"broken image": {
			call: func() error {
				code := mediaCode(b.catalog.Products[13], "image")
				_, _, err := client.DownloadMedia(ctx, b.mediaURL(code))
				return err
			},
			status: http.StatusNotFound,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var permanent *marketplace.PermanentError
			if err := tc.call(); !errors.As(err, &permanent) {
				t.Fatalf("error %v is not permanent", err)
			}
			if permanent.Status != tc.status || tc.reason != "" && permanent.Reason != tc.reason {
				t.Errorf("permanent error %d %q, want %d %q", permanent.Status, permanent.Reason, tc.status, tc.reason)
			}
		})
	}
}

func mediaCode(p akeneofake.Product, attribute string) string {
	var code string
	for _, v := range p.Values[attribute] {
		_ = json.Unmarshal(v.Data, &code)
	}
	return code
}

func TestDownloadMediaStaysWithinMaxInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 60, 5))
	client := b.newClient(t, nil)
	ctx := context.Background()
	if err := client.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	// Each download takes a while, so they overlap as much as the client
	// lets them; the fake answers 429 to a fifth call in flight.
	b.fake.SetFaults(akeneofake.Faults{LatencyMS: 20})

	var codes []string
	for _, p := range b.catalog.Products {
		if code := mediaCode(p, "image"); code != "" && len(codes) < 16 {
			if _, stored := b.catalog.MediaFiles[code]; stored {
				codes = append(codes, code)
			}
		}
	}
	var wg sync.WaitGroup
	for _, code := range codes {
		wg.Go(func() {
			body, contentType, err := client.DownloadMedia(ctx, b.mediaURL(code))
			if err != nil {
				t.Errorf("DownloadMedia(%s): %v", code, err)
				return
			}
			defer body.Close()
			data, err := io.ReadAll(body)
			if err != nil {
				t.Errorf("read %s: %v", code, err)
			}
			if contentType != "image/png" || !bytes.Equal(data, imagegen.PNG(code, 64, 64)) {
				t.Errorf("%s: got %d bytes of %s, want the seeded PNG", code, len(data), contentType)
			}
		})
	}
	wg.Wait()

	counters := b.fake.Counters()
	if counters.MaxConcurrent > akeneo.DefaultMaxInFlight {
		t.Errorf("%d calls in flight at once, want at most %d", counters.MaxConcurrent, akeneo.DefaultMaxInFlight)
	}
	if counters.MaxConcurrent < 2 {
		t.Errorf("downloads never overlapped (%d in flight at most)", counters.MaxConcurrent)
	}
	if counters.RateLimited != 0 {
		t.Errorf("fake answered %d calls 429", counters.RateLimited)
	}
	if len(counters.MediaDownloads) != len(codes) {
		t.Errorf("fake served %d files, want %d", len(counters.MediaDownloads), len(codes))
	}
}

func TestNewRefusesBaseURLs(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"", "acme.cloud.akeneo.com", "ftp://acme.cloud.akeneo.com", "https://", "https://acme.cloud.akeneo.com?x=1"} {
		if _, err := akeneo.New(akeneo.Config{BaseURL: base}); err == nil {
			t.Errorf("New accepted base URL %q", base)
		}
	}
	if _, err := akeneo.New(akeneo.Config{BaseURL: "https://acme.cloud.akeneo.com/"}); err != nil {
		t.Errorf("New refused a PIM URL: %v", err)
	}
}

func TestContextIsHonoured(t *testing.T) {
	t.Parallel()
	b := setup(t, akeneofake.Seed(7, 10, 5))
	client := b.newClient(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := client.Products(ctx, "", time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Products with a cancelled context: %v", err)
	}
	if n := b.fake.Counters().TokenRequests; n != 0 {
		t.Errorf("fake received %d token requests", n)
	}
}

// A client keeping 4 calls in flight would spend a PIM's rate in a moment;
// it spaces its calls at the PIM's rate instead, so a run of downloads is
// never answered 429. (Both sides on the wall clock: the fake refuses what
// comes faster than its rate allows.)
func TestCallsAreSpacedAtThePIMsRate(t *testing.T) {
	t.Parallel()
	const rate = 40
	fake := akeneofake.New(akeneofake.Options{RequestsPerSecond: rate})
	fake.AddClient(clientID, secret, username, password)
	seed := akeneofake.Seed(7, 60, 5)
	fake.SetCatalog(seed)
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	fake.SetPublicURL(server.URL)
	client, err := akeneo.New(akeneo.Config{BaseURL: server.URL, ClientID: clientID, Secret: secret, Username: username, Password: password,
		HTTP: server.Client(), RequestsPerSecond: rate})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	downloads := 0
	for code := range seed.MediaFiles {
		if downloads == 2*rate {
			break
		}
		downloads++
		wg.Go(func() {
			body, _, err := client.DownloadMedia(ctx, server.URL+"/api/rest/v1/media-files/"+code+"/download")
			if err != nil {
				t.Errorf("DownloadMedia(%s): %v", code, err)
				return
			}
			_, _ = io.Copy(io.Discard, body)
			body.Close()
		})
	}
	wg.Wait()
	if downloads < rate+10 {
		t.Fatalf("only %d media files in the seed: not enough to go past the PIM's burst", downloads)
	}
	if got := fake.Counters().RateLimited; got != 0 {
		t.Errorf("the PIM answered %d calls 429", got)
	}
}
