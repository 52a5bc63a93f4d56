package ebay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the fake's quota day is Pacific time on any machine

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/ebay"
	"github.com/dainostore/jobs/internal/sandbox/ebayfake"
)

// setupSandboxSeller serves a fake with opts for the sandbox seller, whose
// location and policies an offer can name, and returns a client of that
// seller sharing the fake's clock. wrap, when not nil, stands between the
// client and the fake.
func setupSandboxSeller(t *testing.T, opts ebayfake.Options, wrap func(http.Handler) http.Handler) (*ebay.Client, *testBundle) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) // 01:00 in Los Angeles
	opts.Now = clk.Now
	fake := ebayfake.New(opts)
	seller := ebayfake.SandboxSeller()
	seller.InventoryItems = nil
	fake.AddSeller(seller)

	var handler http.Handler = fake
	if wrap != nil {
		handler = wrap(fake)
	}
	server := httptest.NewServer(handler)
	t.Cleanup(server.Close)
	bundle := &testBundle{
		fake:  fake,
		clock: clk,
		creds: ebay.Credentials{
			ClientID:        seller.ClientID,
			ClientSecret:    seller.ClientSecret,
			RefreshToken:    seller.RefreshToken,
			MarketplaceID:   "EBAY_US",
			ContentLanguage: "en-US",
		},
		config: ebay.Config{APIURL: server.URL, HTTP: server.Client(), Now: clk.Now},
	}
	return bundle.client(t), bundle
}

// mug is an item eBay can list.
func mug(sku string) ebay.InventoryItem {
	return ebay.InventoryItem{
		SKU:          sku,
		Condition:    "NEW",
		Availability: &ebay.Availability{ShipToLocationAvailability: ebay.ShipToLocationAvailability{Quantity: 4}},
		Product: &ebay.Product{
			Title:       "Stoneware coffee mug, 350 ml",
			Description: "A sturdy stoneware mug.",
			Aspects:     map[string][]string{"Brand": {"Daino"}, "Colour": {"Sand"}},
			Brand:       "Daino",
			MPN:         "MUG-350",
			EAN:         []string{"4006381333931"},
			ImageURLs:   []string{"https://images.example.com/mug.jpg"},
		},
	}
}

// completeOffer is an offer of sku the sandbox seller can publish.
func completeOffer(sku string) ebay.Offer {
	sandbox := ebayfake.SandboxSeller()
	return ebay.Offer{
		SKU:                 sku,
		AvailableQuantity:   4,
		CategoryID:          "20625",
		MerchantLocationKey: sandbox.MerchantLocationKey,
		ListingDescription:  "<p>A sturdy stoneware mug.</p>",
		Price:               ebay.Price{Value: "19.90", Currency: "USD"},
		Policies: ebay.ListingPolicies{
			FulfillmentPolicyID: sandbox.Policies.Fulfillment,
			PaymentPolicyID:     sandbox.Policies.Payment,
			ReturnPolicyID:      sandbox.Policies.Return,
		},
	}
}

func (b *testBundle) putItems(t *testing.T, client *ebay.Client, items ...ebay.InventoryItem) {
	t.Helper()
	results, err := client.BulkCreateOrReplaceInventoryItems(context.Background(), items)
	if err != nil {
		t.Fatalf("BulkCreateOrReplaceInventoryItems: %v", err)
	}
	for _, result := range results {
		if result.Failed() {
			t.Fatalf("item %s refused: %s", result.SKU, result.Reason())
		}
	}
}

func TestBulkCreateOrReplaceInventoryItems(t *testing.T) {
	t.Parallel()
	client, bundle := setupSandboxSeller(t, ebayfake.Options{}, nil)
	ctx := context.Background()

	results, err := client.BulkCreateOrReplaceInventoryItems(ctx, []ebay.InventoryItem{mug("MUG-1"), mug("MUG-2")})
	if err != nil {
		t.Fatalf("all valid: %v", err)
	}
	want := []ebay.ItemResult{{SKU: "MUG-1", StatusCode: http.StatusCreated}, {SKU: "MUG-2", StatusCode: http.StatusCreated}}
	if !reflect.DeepEqual(results, want) {
		t.Errorf("all valid: results = %+v, want %+v", results, want)
	}
	stored, ok := bundle.fake.InventoryItem(bundle.creds.RefreshToken, "MUG-1")
	if !ok || stored.Locale != "en_US" || stored.Product.Title != "Stoneware coffee mug, 350 ml" || stored.Product.EAN[0] != "4006381333931" {
		t.Errorf("stored item = %+v, want the item in the credentials' locale", stored)
	}

	// One replaces MUG-1, one is refused (207 Multi-Status).
	replaced := mug("MUG-1")
	replaced.Product.Title = "Stoneware mug, sand glaze"
	tooLong := mug("MUG-2")
	tooLong.Product.Title = strings.Repeat("x", 81)
	results, err = client.BulkCreateOrReplaceInventoryItems(ctx, []ebay.InventoryItem{replaced, tooLong})
	if err != nil {
		t.Fatalf("mixed: %v", err)
	}
	if len(results) != 2 || results[0].Failed() || results[0].StatusCode != http.StatusOK {
		t.Fatalf("mixed: results = %+v, want MUG-1 replaced (200)", results)
	}
	refused := results[1]
	const reason = "Invalid value for product.title. It has 81 characters; at most 80 are allowed."
	if !refused.Failed() || refused.StatusCode != http.StatusBadRequest || refused.Reason() != reason ||
		len(refused.Errors) != 1 || refused.Errors[0].ErrorID != 25709 ||
		!reflect.DeepEqual(refused.Errors[0].Parameters, []ebay.Parameter{{Name: "text", Value: "product.title"}}) {
		t.Errorf("mixed: refused item = %+v, want 400 errorId 25709 with %q", refused, reason)
	}
	if stored, _ := bundle.fake.InventoryItem(bundle.creds.RefreshToken, "MUG-2"); stored.Product.Title != "Stoneware coffee mug, 350 ml" {
		t.Errorf("a refused item replaced the stored one: %q", stored.Product.Title)
	}
	if got := bundle.fake.Counters(); got.ItemsCreated != 2 || got.ItemsReplaced != 1 || got.BulkItemRequests != 2 {
		t.Errorf("counters = %+v", got)
	}
}

func TestBulkOfMoreThan25ItemsIsRefusedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	client, bundle := setupSandboxSeller(t, ebayfake.Options{}, nil)
	items := make([]ebay.InventoryItem, ebay.MaxBulkItems+1)
	for i := range items {
		items[i] = mug(fmt.Sprintf("MUG-%d", i))
	}

	results, err := client.BulkCreateOrReplaceInventoryItems(context.Background(), items)

	if err == nil || results != nil || !strings.Contains(err.Error(), "26 items, but a call takes at most 25") {
		t.Errorf("BulkCreateOrReplaceInventoryItems = %v, %v, want a refusal", results, err)
	}
	if got := bundle.fake.Counters(); got.TokenRequests != 0 || got.APICalls != 0 {
		t.Errorf("counters = %+v, want no request", got)
	}
}

func TestOffersBySKUWithoutOffersIsEmpty(t *testing.T) {
	t.Parallel()
	client, bundle := setupSandboxSeller(t, ebayfake.Options{}, nil)
	bundle.putItems(t, client, mug("MUG-1"))

	offers, err := client.OffersBySKU(context.Background(), "MUG-1")

	if err != nil || len(offers) != 0 {
		t.Errorf("OffersBySKU = %+v, %v, want none", offers, err)
	}
}

func TestOfferCreateUpdatePublish(t *testing.T) {
	t.Parallel()
	client, bundle := setupSandboxSeller(t, ebayfake.Options{}, nil)
	ctx := context.Background()
	bundle.putItems(t, client, mug("MUG-1"))
	offer := completeOffer("MUG-1")

	offerID, err := client.CreateOffer(ctx, offer)
	if err != nil || offerID == "" {
		t.Fatalf("CreateOffer = %q, %v", offerID, err)
	}
	offers, err := client.OffersBySKU(ctx, "MUG-1")
	want := offer
	want.OfferID, want.MarketplaceID, want.Format, want.Status = offerID, "EBAY_US", ebay.FormatFixedPrice, ebay.OfferUnpublished
	if err != nil || len(offers) != 1 || !reflect.DeepEqual(offers[0], want) {
		t.Fatalf("OffersBySKU = %+v, %v\nwant %+v", offers, err, want)
	}

	_, err = client.CreateOffer(ctx, offer)
	var permanent *marketplace.PermanentError
	if !errors.As(err, &permanent) || permanent.Reason != "A user error has occurred. Offer entity already exists." {
		t.Errorf("second CreateOffer = %v, want eBay's refusal", err)
	}

	listingID, err := client.PublishOffer(ctx, offerID)
	if err != nil || listingID == "" {
		t.Fatalf("PublishOffer = %q, %v", listingID, err)
	}

	offer.AvailableQuantity = 9
	offer.Price.Value = "17.50"
	if err := client.UpdateOffer(ctx, offerID, offer); err != nil {
		t.Fatalf("UpdateOffer: %v", err)
	}
	revised, err := client.PublishOffer(ctx, offerID)
	if err != nil || revised != listingID {
		t.Errorf("PublishOffer again = %q, %v, want the same listing %q", revised, err, listingID)
	}
	offers, err = client.OffersBySKU(ctx, "MUG-1")
	if err != nil || len(offers) != 1 || offers[0].Status != ebay.OfferPublished || offers[0].ListingID != listingID ||
		offers[0].AvailableQuantity != 9 || offers[0].Price != (ebay.Price{Value: "17.50", Currency: "USD"}) {
		t.Errorf("OffersBySKU after publishing = %+v, %v", offers, err)
	}
	if got := bundle.fake.Counters(); got.OffersCreated != 1 || got.OffersUpdated != 1 || got.Publishes != 2 || got.ListingsCreated != 1 {
		t.Errorf("counters = %+v", got)
	}
}

func TestPublishingAnIncompleteOfferIsPermanent(t *testing.T) {
	t.Parallel()
	client, bundle := setupSandboxSeller(t, ebayfake.Options{}, nil)
	ctx := context.Background()
	bundle.putItems(t, client, mug("MUG-1"))
	offer := completeOffer("MUG-1")
	offer.CategoryID = ""
	offer.Policies.ReturnPolicyID = "6196939999" // not one of the seller's
	offerID, err := client.CreateOffer(ctx, offer)
	if err != nil {
		t.Fatalf("CreateOffer: %v", err)
	}

	_, err = client.PublishOffer(ctx, offerID)

	var permanent *marketplace.PermanentError
	if !errors.As(err, &permanent) {
		t.Fatalf("PublishOffer = %v, want a permanent error", err)
	}
	const reason = "Missing field categoryId. The eBay listing associated with the inventory item, or the unpublished offer has " +
		"invalid data in the associated Return policy. The seller has no Return policy 6196939999."
	if permanent.Status != http.StatusBadRequest || permanent.Reason != reason {
		t.Errorf("error = %+v\nwant reason %q", permanent, reason)
	}
}

func TestListingCallErrors(t *testing.T) {
	t.Parallel()
	t.Run("429 is a rate limit", func(t *testing.T) {
		t.Parallel()
		client, bundle := setupSandboxSeller(t, ebayfake.Options{}, nil)
		bundle.fake.SetFaults(ebayfake.Faults{RateLimitNext: 1})

		_, err := client.BulkCreateOrReplaceInventoryItems(context.Background(), []ebay.InventoryItem{mug("MUG-1")})

		if rateErr, ok := marketplace.IsRateLimit(err); !ok || rateErr.Wait != 0 {
			t.Errorf("BulkCreateOrReplaceInventoryItems = %v, want a rate limit without wait", err)
		}
	})
	t.Run("500 concurrent access is transient", func(t *testing.T) {
		t.Parallel()
		concurrentAccess := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/publish/") {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"errors":[{"errorId":25025,"domain":"API_INVENTORY","category":"APPLICATION","message":"Concurrent access of the same Inventory or Inventory Item Group object is not allowed. Please try again later."}]}`))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
		client, bundle := setupSandboxSeller(t, ebayfake.Options{}, concurrentAccess)
		bundle.putItems(t, client, mug("MUG-1"))
		offerID, err := client.CreateOffer(context.Background(), completeOffer("MUG-1"))
		if err != nil {
			t.Fatalf("CreateOffer: %v", err)
		}

		_, err = client.PublishOffer(context.Background(), offerID)

		assertTransient(t, err)
	})
}

func TestDailyQuota(t *testing.T) {
	t.Parallel()
	client, bundle := setupSandboxSeller(t, ebayfake.Options{DailyCallLimit: 2}, nil)
	ctx := context.Background()
	bundle.putItems(t, client, mug("MUG-1"))
	if _, err := client.OffersBySKU(ctx, "MUG-1"); err != nil {
		t.Fatalf("OffersBySKU: %v", err)
	}

	_, err := client.OffersBySKU(ctx, "MUG-1")

	rateErr, ok := marketplace.IsRateLimit(err)
	if !ok || rateErr.Wait != 0 || rateErr.Reason != "Too many requests. The request limit has been reached for the resource." {
		t.Fatalf("third call = %v, want a rate limit without wait", err)
	}
	reset, err := client.QuotaReset(ctx)
	want := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC) // midnight in Los Angeles
	if err != nil || !reset.Equal(want) {
		t.Fatalf("QuotaReset = %s, %v, want %s", reset, err, want)
	}

	bundle.clock.Advance(reset.Sub(bundle.clock.Now()))
	if _, err := client.OffersBySKU(ctx, "MUG-1"); err != nil {
		t.Errorf("OffersBySKU after the reset: %v", err)
	}
}

func TestQuotaResetUsesAnApplicationToken(t *testing.T) {
	t.Parallel()
	client, bundle := setupSandboxSeller(t, ebayfake.Options{}, nil)
	ctx := context.Background()

	for range 2 {
		reset, err := client.QuotaReset(ctx)
		if want := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC); err != nil || !reset.Equal(want) {
			t.Fatalf("QuotaReset = %s, %v, want %s", reset, err, want)
		}
	}
	if got := bundle.fake.Counters(); got.TokenGrants != 1 {
		t.Errorf("grants = %d, want one application token for both calls", got.TokenGrants)
	}

	bundle.creds.ClientSecret = "not-the-secret"
	_, err := bundle.client(t).QuotaReset(ctx)
	if credErr, ok := marketplace.IsCredential(err); !ok || credErr.Reason != "client authentication failed" {
		t.Errorf("QuotaReset with a wrong secret = %v, want a credential error", err)
	}
}

func TestQuotaResetPrefersAQuotaUsedUp(t *testing.T) {
	t.Parallel()
	const answer = `{"rateLimits":[
		{"apiContext":"buy","apiName":"browse","apiVersion":"v1","resources":[{"name":"buy.browse","rates":[{"count":0,"limit":5000,"remaining":0,"reset":"2026-03-02T10:00:00.000Z","timeWindow":86400}]}]},
		{"apiContext":"sell","apiName":"inventory","apiVersion":"v1","resources":[
			{"name":"sell.inventory","rates":[{"count":10,"limit":2000000,"remaining":1999990,"reset":"2026-03-02T12:00:00.000Z","timeWindow":86400}]},
			{"name":"sell.inventory.bulk","rates":[{"count":50,"limit":50,"remaining":0,"reset":"2026-03-03T08:00:00.000Z","timeWindow":86400}]}]}]}`
	rateLimits := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/developer/analytics/") {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(answer))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	client, _ := setupSandboxSeller(t, ebayfake.Options{}, rateLimits)

	reset, err := client.QuotaReset(context.Background())

	if want := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC); err != nil || !reset.Equal(want) {
		t.Errorf("QuotaReset = %s, %v, want the used-up quota's reset %s", reset, err, want)
	}
}
