package amazon

// These tests sit inside the package to check the listings limiter's
// configuration; everything else they check is what a caller sees.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox/amazonfake"
	"golang.org/x/time/rate"
)

const (
	amazonCom = "ATVPDKIKX0DER"
	amazonCA  = "A2EUQ1WTGCTBG2"
)

type listingsBundle struct {
	fake   *amazonfake.Server
	clock  *clock.Fake
	creds  Credentials
	config Config
}

// setupListings serves the fake, as the sandbox does, to a client of its
// seller in amazon.com that shares its clock and does not space its calls.
func setupListings(t *testing.T) (*Client, *listingsBundle) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	fake := amazonfake.New(amazonfake.Options{Now: clk.Now})
	seller := amazonfake.Seller{
		ClientID:       "amzn1.application-oa2-client.test",
		ClientSecret:   "test-secret",
		RefreshToken:   "Atzr|test-refresh-token",
		SellerID:       "A3TESTSELLER42",
		MarketplaceIDs: []string{amazonCom, amazonCA},
	}
	fake.AddSeller(seller)
	mux := http.NewServeMux()
	mux.Handle("/amazon/", http.StripPrefix("/amazon", fake))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)

	bundle := &listingsBundle{
		fake:  fake,
		clock: clk,
		creds: Credentials{
			ClientID: seller.ClientID, ClientSecret: seller.ClientSecret, RefreshToken: seller.RefreshToken,
			SellerID: seller.SellerID, MarketplaceIDs: []string{amazonCom}, Region: RegionNorthAmerica,
		},
		config: Config{
			LWAURL:       server.URL + "/amazon/auth/o2/token",
			SPAPIURL:     server.URL + "/amazon",
			HTTP:         server.Client(),
			Now:          clk.Now,
			ListingsRate: rate.Inf,
		},
	}
	return bundle.client(t), bundle
}

func (b *listingsBundle) client(t *testing.T) *Client {
	t.Helper()
	client, err := New(b.config, b.creds)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return client
}

// shoe are the attributes of a listing the fake accepts; its value objects
// name no marketplace, so they apply in each.
func shoe() map[string]any {
	text := func(value string) []any { return []any{map[string]any{"value": value, "language_tag": "en_US"}} }
	return map[string]any{
		"item_name":                              text("Trail Runner 2 Running Shoe"),
		"brand":                                  text("Dainostore"),
		"externally_assigned_product_identifier": []any{map[string]any{"type": "ean", "value": "4006381333931"}},
		"purchasable_offer": []any{map[string]any{
			"currency": "USD", "our_price": []any{map[string]any{"schedule": []any{map[string]any{"value_with_tax": 89.9}}}},
		}},
		"condition_type":             text("new_new"),
		"main_product_image_locator": []any{map[string]any{"media_location": "https://images.example.com/trail-runner-2.jpg"}},
		"fulfillment_availability":   []any{map[string]any{"fulfillment_channel_code": "DEFAULT", "quantity": 12}},
		"bullet_point":               text("Grippy outsole"),
	}
}

var asinShape = regexp.MustCompile(`^B0[0-9A-Z]{8}$`)

func TestPutListingsItemAccepted(t *testing.T) {
	t.Parallel()
	client, bundle := setupListings(t)
	const sku = "TR-2/42 blue" // a slash and a space, escaped in the path

	got, err := client.PutListingsItem(context.Background(), sku, "SHOES", shoe())

	if err != nil {
		t.Fatalf("PutListingsItem: %v", err)
	}
	if got.SKU != sku || got.Status != SubmissionAccepted || got.SubmissionID == "" || len(got.Issues) != 0 {
		t.Errorf("submission = %+v, want ACCEPTED without issues", got)
	}
	if len(got.Identifiers) != 1 || got.Identifiers[0].MarketplaceID != amazonCom || !asinShape.MatchString(got.Identifiers[0].ASIN) {
		t.Errorf("identifiers = %+v, want the ASIN in amazon.com", got.Identifiers)
	}
	listings := bundle.fake.Listings(client.SellerID())
	if len(listings) != 1 || listings[0].SKU != sku || listings[0].ProductType != "SHOES" || listings[0].ASIN != got.Identifiers[0].ASIN {
		t.Fatalf("Amazon holds %+v, want the listing of %q", listings, sku)
	}
	if want := jsonRoundTrip(t, shoe()); !reflect.DeepEqual(listings[0].Attributes, want) {
		t.Errorf("Amazon holds attributes %v\nwant %v", listings[0].Attributes, want)
	}
}

func jsonRoundTrip(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(v)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutListingsItemInvalidIsASubmissionNotAnError(t *testing.T) {
	t.Parallel()
	client, bundle := setupListings(t)
	attributes := shoe()
	delete(attributes, "brand")
	attributes["item_name"] = []any{map[string]any{"value": strings.Repeat("Trail Runner ", 20)}} // 260 characters

	got, err := client.PutListingsItem(context.Background(), "TR-2", "SHOES", attributes)

	if err != nil {
		t.Fatalf("PutListingsItem = %v, want an INVALID submission", err)
	}
	want := []Issue{
		{Code: "90220", Message: "'brand' is required but not supplied.", Severity: "ERROR",
			AttributeNames: []string{"brand"}, Categories: []string{"MISSING_ATTRIBUTE"}, MarketplaceIDs: []string{amazonCom}},
		{Code: "8560", Message: "The field 'value' for the attribute 'item_name' has 260 characters. The maximum is '200' character(s).", Severity: "ERROR",
			AttributeNames: []string{"item_name"}, Categories: []string{"INVALID_ATTRIBUTE"}, MarketplaceIDs: []string{amazonCom}},
	}
	if got.Status != SubmissionInvalid || got.SubmissionID == "" || !reflect.DeepEqual(got.Issues, want) {
		t.Errorf("submission = %+v\nwant INVALID with issues %+v", got, want)
	}
	if listings := bundle.fake.Listings(client.SellerID()); len(listings) != 0 {
		t.Errorf("Amazon stored an invalid listing: %+v", listings)
	}
}

func TestPutListingsItemSubmitsToEveryMarketplace(t *testing.T) {
	t.Parallel()
	_, bundle := setupListings(t)
	bundle.creds.MarketplaceIDs = []string{amazonCom, amazonCA}
	client := bundle.client(t)
	ctx := context.Background()

	got, err := client.PutListingsItem(ctx, "TR-2", "SHOES", shoe())
	if err != nil {
		t.Fatalf("PutListingsItem: %v", err)
	}
	if got.Status != SubmissionAccepted || len(strings.Split(got.SubmissionID, ",")) != 2 || len(got.Identifiers) != 2 ||
		got.Identifiers[0].MarketplaceID != amazonCom || got.Identifiers[1].MarketplaceID != amazonCA {
		t.Errorf("submission = %+v, want one accepted in each marketplace", got)
	}
	if c := bundle.fake.Counters(); c.ListingPuts != 2 || c.ListingsCreated != 2 {
		t.Errorf("counters = %+v, want one PUT per marketplace", c)
	}

	// A brand for amazon.com only leaves the Canadian listing without one.
	attributes := shoe()
	attributes["brand"] = []any{map[string]any{"value": "Dainostore", "marketplace_id": amazonCom}}
	got, err = client.PutListingsItem(ctx, "TR-3", "SHOES", attributes)
	if err != nil {
		t.Fatalf("PutListingsItem: %v", err)
	}
	if got.Status != SubmissionInvalid || len(got.Issues) != 1 || !reflect.DeepEqual(got.Issues[0].MarketplaceIDs, []string{amazonCA}) ||
		len(got.Identifiers) != 1 || got.Identifiers[0].MarketplaceID != amazonCom {
		t.Errorf("submission = %+v, want INVALID for the Canadian issue, accepted in amazon.com", got)
	}
}

func TestPutListingsItemRateLimitIsARateLimitError(t *testing.T) {
	t.Parallel()
	t.Run("injected", func(t *testing.T) {
		t.Parallel()
		client, bundle := setupListings(t)
		bundle.fake.SetFaults(amazonfake.Faults{RateLimitNext: 1})

		_, err := client.PutListingsItem(context.Background(), "TR-2", "SHOES", shoe())

		rateErr, ok := marketplace.IsRateLimit(err)
		if !ok || rateErr.Wait != 0 || rateErr.Reason != "You exceeded your quota for the requested resource." {
			t.Fatalf("PutListingsItem = %v, want a rate limit error without a wait (SP-API gives no hint)", err)
		}
		if _, err := client.PutListingsItem(context.Background(), "TR-2", "SHOES", shoe()); err != nil {
			t.Errorf("PutListingsItem after the fault: %v", err)
		}
	})
	t.Run("past the usage plan", func(t *testing.T) {
		t.Parallel()
		client, _ := setupListings(t) // which does not space its calls
		var err error
		for range 11 { // one past the burst, on a clock that stands still
			if _, err = client.PutListingsItem(context.Background(), "TR-2", "SHOES", shoe()); err != nil {
				break
			}
		}
		if _, ok := marketplace.IsRateLimit(err); !ok {
			t.Errorf("11th PutListingsItem = %v, want a rate limit error", err)
		}
	})
}

func TestPutListingsItemRenewsARejectedToken(t *testing.T) {
	t.Parallel()
	_, bundle := setupListings(t)
	// The client's clock stands still while Amazon's moves on, so Amazon
	// rejects a token the client still trusts.
	start := bundle.clock.Now()
	bundle.config.Now = func() time.Time { return start }
	client := bundle.client(t)
	ctx := context.Background()
	if _, err := client.AccessToken(ctx); err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	bundle.clock.Advance(2 * time.Hour)

	got, err := client.PutListingsItem(ctx, "TR-2", "SHOES", shoe())

	if err != nil || got.Status != SubmissionAccepted {
		t.Fatalf("PutListingsItem with an expired token = %+v, %v", got, err)
	}
	if c := bundle.fake.Counters(); c.TokenGrants != 2 || c.APICalls != 2 || c.ListingPuts != 1 {
		t.Errorf("counters = %+v, want 2 grants, 2 calls (rejected, then renewed) and 1 PUT served", c)
	}
}

func TestPutListingsItemRefusals(t *testing.T) {
	t.Parallel()
	t.Run("a marketplace the seller does not sell in is permanent", func(t *testing.T) {
		t.Parallel()
		_, bundle := setupListings(t)
		bundle.creds.MarketplaceIDs = []string{"A1AM78C64UM0Y8"}

		_, err := bundle.client(t).PutListingsItem(context.Background(), "TR-2", "SHOES", shoe())

		var permanent *marketplace.PermanentError
		if !errors.As(err, &permanent) || permanent.Status != http.StatusBadRequest ||
			permanent.Reason != "Invalid marketplaceIds: the seller does not participate in marketplace A1AM78C64UM0Y8." {
			t.Errorf("PutListingsItem = %v, want a permanent error with Amazon's words", err)
		}
	})
	t.Run("another seller's listings are a credential error", func(t *testing.T) {
		t.Parallel()
		_, bundle := setupListings(t)
		bundle.creds.SellerID = "A3SOMEONEELSE"

		_, err := bundle.client(t).PutListingsItem(context.Background(), "TR-2", "SHOES", shoe())

		if credErr, ok := marketplace.IsCredential(err); !ok || credErr.Reason != "Access to requested resource is denied." {
			t.Errorf("PutListingsItem = %v, want a credential error", err)
		}
	})
	t.Run("a server error is transient", func(t *testing.T) {
		t.Parallel()
		client, bundle := setupListings(t)
		bundle.fake.SetFaults(amazonfake.Faults{ServerErrorsNext: 1})

		_, err := client.PutListingsItem(context.Background(), "TR-2", "SHOES", shoe())

		var permanent *marketplace.PermanentError
		_, isCredential := marketplace.IsCredential(err)
		_, isRateLimit := marketplace.IsRateLimit(err)
		if err == nil || isCredential || isRateLimit || errors.As(err, &permanent) {
			t.Errorf("PutListingsItem = %v, want a transient error", err)
		}
	})
	t.Run("no SKU is permanent, and nothing is sent", func(t *testing.T) {
		t.Parallel()
		client, bundle := setupListings(t)

		_, err := client.PutListingsItem(context.Background(), "", "SHOES", shoe())

		var permanent *marketplace.PermanentError
		if !errors.As(err, &permanent) || bundle.fake.Counters().APICalls != 0 {
			t.Errorf("PutListingsItem = %v, want a permanent error before any call", err)
		}
	})
}

func TestListingsLimiterHasThePublishedRate(t *testing.T) {
	t.Parallel()
	_, bundle := setupListings(t)
	bundle.config.ListingsRate = 0
	client := bundle.client(t)
	if got, burst := client.listings.Limit(), client.listings.Burst(); got != 5 || burst != 5 {
		t.Errorf("default limiter = %v per second, burst %d; want putListingsItem's 5, and half its burst of 10", got, burst)
	}

	bundle.config.ListingsRate, bundle.config.ListingsBurst = 2, 3
	client = bundle.client(t)
	if got, burst := client.listings.Limit(), client.listings.Burst(); got != 2 || burst != 3 {
		t.Errorf("configured limiter = %v per second, burst %d; want 2, burst 3", got, burst)
	}

	bundle.config.ListingsRate = -1
	if _, err := New(bundle.config, bundle.creds); err == nil {
		t.Errorf("New accepted a negative listings rate")
	}
}

func TestListingsCallsWaitForTheLimiter(t *testing.T) {
	t.Parallel()
	_, bundle := setupListings(t)
	// One call an hour, two at once: the third must wait far longer than
	// its context allows, which the limiter knows without waiting.
	bundle.config.ListingsRate, bundle.config.ListingsBurst = rate.Every(time.Hour), 2
	client := bundle.client(t)
	ctx := context.Background()

	for range 3 { // Verify is outside the listings limiter
		if err := client.Verify(ctx); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	for _, sku := range []string{"TR-1", "TR-2"} {
		if _, err := client.PutListingsItem(ctx, sku, "SHOES", shoe()); err != nil {
			t.Fatalf("PutListingsItem %s within the burst: %v", sku, err)
		}
	}
	deadlineCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	_, err := client.PutListingsItem(deadlineCtx, "TR-3", "SHOES", shoe())

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutListingsItem past the burst = %v, want the deadline in the chain", err)
	}
	if got := bundle.fake.Counters().ListingPuts; got != 2 {
		t.Errorf("Amazon got %d PUTs, want 2: the third waits for the limiter", got)
	}
}

func TestClientTellsItsSellerAndMarketplaces(t *testing.T) {
	t.Parallel()
	client, _ := setupListings(t)

	ids := client.MarketplaceIDs()
	ids[0] = "A1PA6795UKMFR9"

	if client.SellerID() != "A3TESTSELLER42" || !reflect.DeepEqual(client.MarketplaceIDs(), []string{amazonCom}) {
		t.Errorf("SellerID, MarketplaceIDs = %q, %v; a caller's change must not reach the client", client.SellerID(), client.MarketplaceIDs())
	}
}
