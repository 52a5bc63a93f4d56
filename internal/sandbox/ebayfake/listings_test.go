package ebayfake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/dainostore/jobs/internal/sandbox/ebayfake"
)

const inventoryAPI = "/sell/inventory/v1"

// send calls the API with accessToken; a body is sent as JSON with
// Content-Language en-US, as a write should be.
func (b *testBundle) send(t *testing.T, method, path, accessToken string, body any) answer {
	t.Helper()
	req := b.request(t, method, path, accessToken, body)
	if body != nil {
		req.Header.Set("Content-Language", "en-US")
	}
	return b.do(t, req)
}

func (b *testBundle) request(t *testing.T, method, path, accessToken string, body any) *http.Request {
	t.Helper()
	var payload string
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode %T: %v", body, err)
		}
		payload = string(raw)
	}
	req, _ := http.NewRequest(method, b.base+path, strings.NewReader(payload))
	req.Header.Set("Authorization", "Bearer "+accessToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// item is an inventory item eBay can list.
func item(sku string) ebayfake.InventoryItem {
	return ebayfake.InventoryItem{
		SKU:          sku,
		Locale:       "en_US",
		Condition:    "USED_EXCELLENT",
		Availability: &ebayfake.Availability{ShipToLocationAvailability: ebayfake.ShipToLocationAvailability{Quantity: 3}},
		Product: &ebayfake.Product{
			Title:       "Stoneware coffee mug, 350 ml",
			Description: "A sturdy stoneware mug.",
			Aspects:     map[string][]string{"Brand": {"Daino"}, "Colour": {"Sand"}},
			ImageURLs:   []string{"https://images.example.com/mug.jpg"},
		},
	}
}

func bulk(items ...ebayfake.InventoryItem) map[string]any { return map[string]any{"requests": items} }

type bulkAnswer struct {
	Responses []struct {
		StatusCode  int
		SKU, Locale string
		Errors      []problem
	}
}

type problem struct {
	ErrorID    int
	Message    string
	Parameters []struct{ Name, Value string }
}

// summary is a problem as the tests compare it: its id and what it names.
func (p problem) summary() string {
	var names []string
	for _, parameter := range p.Parameters {
		names = append(names, parameter.Name+"="+parameter.Value)
	}
	return fmt.Sprintf("%d %s", p.ErrorID, strings.Join(names, ","))
}

func decode[T any](t *testing.T, got answer) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(got.body), &v); err != nil {
		t.Fatalf("answer %d %q: %v", got.status, got.body, err)
	}
	return v
}

func errorSummaries(t *testing.T, got answer) []string {
	t.Helper()
	var summaries []string
	for _, p := range decode[struct{ Errors []problem }](t, got).Errors {
		summaries = append(summaries, p.summary())
	}
	return summaries
}

func TestBulkStoresAndReplacesItems(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)

	got := b.send(t, http.MethodPost, inventoryAPI+"/bulk_create_or_replace_inventory_item", token, bulk(item("MUG-1"), item("MUG-2")))
	want := `{"responses":[{"statusCode":201,"sku":"MUG-1","locale":"en_US"},{"statusCode":201,"sku":"MUG-2","locale":"en_US"}]}`
	if got.status != http.StatusOK || got.body != want {
		t.Errorf("new items: answer = %d %s\nwant 200 %s", got.status, got.body, want)
	}

	replacing := item("MUG-1")
	replacing.Product.Title = "Stoneware mug, sand glaze"
	invalid := item("MUG-3")
	invalid.Product.ImageURLs = nil
	got = b.send(t, http.MethodPost, inventoryAPI+"/bulk_create_or_replace_inventory_item", token, bulk(replacing, invalid))
	answer := decode[bulkAnswer](t, got)
	if got.status != http.StatusMultiStatus || len(answer.Responses) != 2 ||
		answer.Responses[0].StatusCode != http.StatusOK || answer.Responses[1].StatusCode != http.StatusBadRequest {
		t.Errorf("mixed: answer = %d %s, want 207 with 200 and 400", got.status, got.body)
	}
	if stored, _ := b.fake.InventoryItem(b.seller.RefreshToken, "MUG-1"); stored.Product.Title != "Stoneware mug, sand glaze" {
		t.Errorf("MUG-1 title = %q, want the replacement's", stored.Product.Title)
	}
	if _, ok := b.fake.InventoryItem(b.seller.RefreshToken, "MUG-3"); ok {
		t.Errorf("the refused item was stored")
	}
	if page := decode[struct{ Total int }](t, b.inventoryItems(t, token, "")); page.Total != 3 {
		t.Errorf("inventory total = %d, want 3 (the sandbox item, MUG-1 once, MUG-2)", page.Total)
	}
	if c := b.fake.Counters(); c.BulkItemRequests != 2 || c.ItemsCreated != 2 || c.ItemsReplaced != 1 {
		t.Errorf("counters = %+v", c)
	}
}

func TestBulkValidatesEachItem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*ebayfake.InventoryItem)
		want   []string // errorId and parameters of each error; none means stored
	}{
		{"a SKU of 51 characters", func(i *ebayfake.InventoryItem) { i.SKU = strings.Repeat("S", 51) }, []string{"25707 text=sku"}},
		{"an unknown condition", func(i *ebayfake.InventoryItem) { i.Condition = "MINT" }, []string{"25709 text=condition"}},
		{"no condition", func(i *ebayfake.InventoryItem) { i.Condition = "" }, []string{"25709 text=condition"}},
		{"a negative quantity", func(i *ebayfake.InventoryItem) { i.Availability.ShipToLocationAvailability.Quantity = -1 },
			[]string{"25709 text=availability.shipToLocationAvailability.quantity"}},
		{"a title of 81 characters", func(i *ebayfake.InventoryItem) { i.Product.Title = strings.Repeat("t", 81) }, []string{"25709 text=product.title"}},
		{"a title of 80 characters in 160 bytes", func(i *ebayfake.InventoryItem) { i.Product.Title = strings.Repeat("é", 80) }, nil},
		{"a description of 4001 characters", func(i *ebayfake.InventoryItem) { i.Product.Description = strings.Repeat("d", 4001) },
			[]string{"25709 text=product.description"}},
		{"an aspect value of 66 characters", func(i *ebayfake.InventoryItem) {
			i.Product.Aspects["Colour"] = []string{"Sand", strings.Repeat("c", 66)}
		},
			[]string{"25709 text=product.aspects.Colour"}},
		{"no image", func(i *ebayfake.InventoryItem) { i.Product.ImageURLs = nil }, []string{"25017 text=product.imageUrls"}},
		{"no title and no image", func(i *ebayfake.InventoryItem) { i.Product.Title, i.Product.ImageURLs = "", nil },
			[]string{"25017 text=product.title", "25017 text=product.imageUrls"}},
		{"no product", func(i *ebayfake.InventoryItem) { i.Product = nil }, []string{"25017 text=product"}},
	}
	b := setup(t)
	token := b.accessToken(t)
	for i, tt := range tests {
		candidate := item(fmt.Sprintf("MUG-%d", i))
		tt.change(&candidate)

		got := b.send(t, http.MethodPost, inventoryAPI+"/bulk_create_or_replace_inventory_item", token, bulk(candidate))

		answer := decode[bulkAnswer](t, got)
		if len(answer.Responses) != 1 {
			t.Fatalf("%s: answer = %d %s", tt.name, got.status, got.body)
		}
		response := answer.Responses[0]
		var summaries []string
		for _, p := range response.Errors {
			summaries = append(summaries, p.summary())
		}
		_, stored := b.fake.InventoryItem(b.seller.RefreshToken, candidate.SKU)
		if tt.want == nil {
			if got.status != http.StatusOK || response.StatusCode != http.StatusCreated || !stored {
				t.Errorf("%s: answer = %d %s, want the item stored", tt.name, got.status, got.body)
			}
			continue
		}
		// Every item failed: eBay still answers 207.
		if got.status != http.StatusMultiStatus || response.StatusCode != http.StatusBadRequest || !reflect.DeepEqual(summaries, tt.want) || stored {
			t.Errorf("%s: answer = %d %s (stored %v), want 207 with %v", tt.name, got.status, got.body, stored, tt.want)
		}
	}
}

func TestBulkRefusesTheWholeRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	tooMany := make([]ebayfake.InventoryItem, 26)
	for i := range tooMany {
		tooMany[i] = item(fmt.Sprintf("MUG-%d", i))
	}
	noLocale := item("MUG-1")
	noLocale.Locale = ""
	tests := []struct {
		name string
		body any
		want string
	}{
		{"26 items", bulk(tooMany...),
			`{"errors":[{"errorId":25727,"domain":"API_INVENTORY","category":"REQUEST","message":"The number of InventoryItems in the request cannot exceed 25."}]}`},
		{"a SKU twice", bulk(item("MUG-1"), item("MUG-1")),
			`{"errors":[{"errorId":25728,"domain":"API_INVENTORY","category":"REQUEST","message":"InventoryItems should be unique in the request."}]}`},
		{"an item without locale", bulk(noLocale),
			`{"errors":[{"errorId":25733,"domain":"API_INVENTORY","category":"REQUEST","message":"Valid SKU and locale information are required for all the InventoryItems in the request."}]}`},
		{"a body that is not JSON", json.RawMessage(`"requests"`),
			`{"errors":[{"errorId":2004,"domain":"ACCESS","category":"REQUEST","message":"Invalid request","longMessage":"The request has errors. For help, see the documentation for this API."}]}`},
	}
	for _, tt := range tests {
		if got := b.send(t, http.MethodPost, inventoryAPI+"/bulk_create_or_replace_inventory_item", token, tt.body); got.status != http.StatusBadRequest || got.body != tt.want {
			t.Errorf("%s: answer = %d %s\nwant 400 %s", tt.name, got.status, got.body, tt.want)
		}
	}
	if c := b.fake.Counters(); c.ItemsCreated != 0 {
		t.Errorf("counters = %+v, want nothing stored", c)
	}
}

func TestWritesRequireContentLanguage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	offerID := b.createOffer(t, token, offer("SANDBOX-MUG-001"))
	writes := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, inventoryAPI + "/bulk_create_or_replace_inventory_item", bulk(item("MUG-1"))},
		{http.MethodPost, inventoryAPI + "/offer", offer("SANDBOX-MUG-001")},
		{http.MethodPut, inventoryAPI + "/offer/" + offerID, offer("SANDBOX-MUG-001")},
	}
	for _, write := range writes {
		got := b.do(t, b.request(t, write.method, write.path, token, write.body))
		if got.status != http.StatusBadRequest || !reflect.DeepEqual(errorSummaries(t, got), []string{"25709 text=header Content-Language"}) {
			t.Errorf("%s %s without Content-Language: answer = %d %s", write.method, write.path, got.status, got.body)
		}
	}
	if c := b.fake.Counters(); c.ItemsCreated != 0 || c.OffersCreated != 1 || c.OffersUpdated != 0 {
		t.Errorf("counters = %+v, want no write but the first offer", c)
	}
}

// offer is an offer of sku the sandbox seller can publish.
func offer(sku string) ebayfake.Offer {
	seller := ebayfake.SandboxSeller()
	return ebayfake.Offer{
		SKU:                 sku,
		MarketplaceID:       "EBAY_US",
		Format:              ebayfake.FormatFixedPrice,
		AvailableQuantity:   3,
		CategoryID:          "20625",
		MerchantLocationKey: seller.MerchantLocationKey,
		PricingSummary:      &ebayfake.PricingSummary{Price: &ebayfake.Amount{Currency: "USD", Value: "19.90"}},
		ListingPolicies: &ebayfake.ListingPolicies{
			FulfillmentPolicyID: seller.Policies.Fulfillment,
			PaymentPolicyID:     seller.Policies.Payment,
			ReturnPolicyID:      seller.Policies.Return,
		},
	}
}

func (b *testBundle) createOffer(t *testing.T, token string, o ebayfake.Offer) string {
	t.Helper()
	got := b.send(t, http.MethodPost, inventoryAPI+"/offer", token, o)
	created := decode[struct{ OfferID string }](t, got)
	if got.status != http.StatusCreated || created.OfferID == "" {
		t.Fatalf("createOffer = %d %s", got.status, got.body)
	}
	return created.OfferID
}

func TestGetOffersOfASKUWithoutOffers(t *testing.T) {
	t.Parallel()
	b := setup(t)

	got := b.send(t, http.MethodGet, inventoryAPI+"/offer?sku=SANDBOX-MUG-001&marketplace_id=EBAY_US&format=FIXED_PRICE", b.accessToken(t), nil)

	const want = `{"errors":[{"errorId":25713,"domain":"API_INVENTORY","category":"REQUEST","message":"This Offer is not available."}]}`
	if got.status != http.StatusNotFound || got.body != want {
		t.Errorf("answer = %d %s\nwant 404 %s", got.status, got.body, want)
	}
}

func TestCreateOffer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)

	got := b.send(t, http.MethodPost, inventoryAPI+"/offer", token, offer("NO-SUCH-SKU"))
	if got.status != http.StatusBadRequest || !reflect.DeepEqual(errorSummaries(t, got), []string{"25702 text=NO-SUCH-SKU"}) {
		t.Errorf("offer of an unknown SKU: answer = %d %s", got.status, got.body)
	}

	offerID := b.createOffer(t, token, offer("SANDBOX-MUG-001"))

	got = b.send(t, http.MethodPost, inventoryAPI+"/offer", token, offer("SANDBOX-MUG-001"))
	want := `{"errors":[{"errorId":25002,"domain":"API_INVENTORY","category":"REQUEST","message":"A user error has occurred. Offer entity already exists.","parameters":[{"name":"offerId","value":"` + offerID + `"}]}]}`
	if got.status != http.StatusBadRequest || got.body != want {
		t.Errorf("second offer: answer = %d %s\nwant 400 %s", got.status, got.body, want)
	}
	auction := offer("SANDBOX-MUG-001")
	auction.Format = ebayfake.FormatAuction
	auctionID := b.createOffer(t, token, auction) // another format is another offer

	page := decode[struct {
		Total  int
		Offers []ebayfake.Offer
	}](t, b.send(t, http.MethodGet, inventoryAPI+"/offer?sku=SANDBOX-MUG-001&format=FIXED_PRICE", token, nil))
	if page.Total != 1 || page.Offers[0].OfferID != offerID || page.Offers[0].Status != ebayfake.OfferUnpublished ||
		page.Offers[0].PricingSummary.Price.Value != "19.90" || page.Offers[0].Listing != nil {
		t.Errorf("fixed-price offers = %+v", page)
	}
	if offers := b.fake.Offers(b.seller.RefreshToken, "SANDBOX-MUG-001"); len(offers) != 2 || offers[1].OfferID != auctionID {
		t.Errorf("Offers = %+v, want both formats", offers)
	}
	if c := b.fake.Counters(); c.OffersCreated != 2 {
		t.Errorf("counters = %+v", c)
	}
}

func TestUpdateOffer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	offerID := b.createOffer(t, token, offer("SANDBOX-MUG-001"))
	update := offer("SANDBOX-MUG-001")
	update.AvailableQuantity = 7
	update.CategoryID = "46254"
	update.SKU = "ANOTHER-SKU" // not part of an update: ignored

	got := b.send(t, http.MethodPut, inventoryAPI+"/offer/"+offerID, token, update)

	if got.status != http.StatusNoContent || got.body != "" {
		t.Errorf("answer = %d %s, want 204", got.status, got.body)
	}
	offers := b.fake.Offers(b.seller.RefreshToken, "SANDBOX-MUG-001")
	if len(offers) != 1 || offers[0].AvailableQuantity != 7 || offers[0].CategoryID != "46254" || offers[0].OfferID != offerID {
		t.Errorf("Offers = %+v", offers)
	}
	if got := b.send(t, http.MethodPut, inventoryAPI+"/offer/1", token, update); got.status != http.StatusNotFound || !strings.Contains(got.body, `"errorId":25713`) {
		t.Errorf("unknown offer: answer = %d %s", got.status, got.body)
	}
	if c := b.fake.Counters(); c.OffersUpdated != 1 {
		t.Errorf("counters = %+v", c)
	}
}

func TestPublishOffer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	if got := b.send(t, http.MethodPost, inventoryAPI+"/bulk_create_or_replace_inventory_item", token, bulk(item("MUG-1"))); got.status != http.StatusOK {
		t.Fatalf("bulk = %d %s", got.status, got.body)
	}
	publish := func(offerID, slash string) answer {
		return b.send(t, http.MethodPost, inventoryAPI+"/offer/"+offerID+"/publish"+slash, token, nil)
	}

	t.Run("an offer with nothing but its keys, of an item without image", func(t *testing.T) {
		bare := ebayfake.Offer{SKU: "SANDBOX-MUG-001", MarketplaceID: "EBAY_US", Format: ebayfake.FormatFixedPrice}
		got := publish(b.createOffer(t, token, bare), "")
		want := []string{
			"25004 text=availableQuantity", "25017 text=categoryId", "25017 text=merchantLocationKey", "25017 text=pricingSummary.price",
			"25017 text=listingPolicies.fulfillmentPolicyId", "25017 text=listingPolicies.paymentPolicyId",
			"25017 text=listingPolicies.returnPolicyId", "25017 text=product.imageUrls",
		}
		if summaries := errorSummaries(t, got); got.status != http.StatusBadRequest || !reflect.DeepEqual(summaries, want) {
			t.Errorf("answer = %d %v\nwant 400 %v", got.status, summaries, want)
		}
	})
	t.Run("an offer naming what the seller does not have", func(t *testing.T) {
		strange := offer("MUG-1")
		strange.MerchantLocationKey = "warehouse-2"
		strange.PricingSummary.Price.Value = "0.00"
		strange.ListingPolicies = &ebayfake.ListingPolicies{FulfillmentPolicyID: "1", PaymentPolicyID: "2", ReturnPolicyID: "3"}
		got := publish(b.createOffer(t, token, strange), "/")
		want := []string{
			"25012 text=merchantLocationKey", "25003 text=pricingSummary.price.value", "25007 text=listingPolicies.fulfillmentPolicyId",
			"25008 text=listingPolicies.paymentPolicyId", "25009 text=listingPolicies.returnPolicyId",
		}
		if summaries := errorSummaries(t, got); got.status != http.StatusBadRequest || !reflect.DeepEqual(summaries, want) {
			t.Errorf("answer = %d %v\nwant 400 %v", got.status, summaries, want)
		}
		if !strings.Contains(got.body, `"message":"Invalid inventory location. The seller has no location \"warehouse-2\"."`) {
			t.Errorf("answer = %s, want the location named", got.body)
		}
	})
	if c := b.fake.Counters(); c.Publishes != 0 {
		t.Fatalf("counters = %+v, want no publish yet", c)
	}

	auction := offer("MUG-1")
	auction.Format = ebayfake.FormatAuction
	offerID := b.createOffer(t, token, auction)
	first := decode[struct{ ListingID string }](t, publish(offerID, ""))
	again := decode[struct{ ListingID string }](t, publish(offerID, "/"))
	if first.ListingID == "" || again.ListingID != first.ListingID {
		t.Errorf("listing ids = %q then %q, want one listing revised", first.ListingID, again.ListingID)
	}
	offers := b.fake.Offers(b.seller.RefreshToken, "MUG-1")
	published := offers[len(offers)-1]
	if published.Status != ebayfake.OfferPublished || published.Listing == nil || published.Listing.ListingID != first.ListingID {
		t.Errorf("offer = %+v, want it published as %s", published, first.ListingID)
	}
	if c := b.fake.Counters(); c.Publishes != 2 || c.ListingsCreated != 1 {
		t.Errorf("counters = %+v, want 2 publishes and 1 listing", c)
	}
	if got := publish("1", ""); got.status != http.StatusNotFound || !strings.Contains(got.body, `"errorId":25713`) {
		t.Errorf("unknown offer: answer = %d %s", got.status, got.body)
	}
}

func TestFaultsApplyToListingCalls(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	offerID := b.createOffer(t, token, offer("SANDBOX-MUG-001"))
	calls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, inventoryAPI + "/bulk_create_or_replace_inventory_item", bulk(item("MUG-1"))},
		{http.MethodGet, inventoryAPI + "/offer?sku=SANDBOX-MUG-001", nil},
		{http.MethodPost, inventoryAPI + "/offer", offer("SANDBOX-MUG-001")},
		{http.MethodPut, inventoryAPI + "/offer/" + offerID, offer("SANDBOX-MUG-001")},
		{http.MethodPost, inventoryAPI + "/offer/" + offerID + "/publish", nil},
	}
	for _, call := range calls {
		b.fake.SetFaults(ebayfake.Faults{ServerErrorsNext: 1, RateLimitNext: 1, RateLimitRetryAfter: 1})
		if got := b.send(t, call.method, call.path, token, call.body); got.status != http.StatusInternalServerError {
			t.Errorf("%s %s with a server error: answer = %d %s", call.method, call.path, got.status, got.body)
		}
		if got := b.send(t, call.method, call.path, token, call.body); got.status != http.StatusTooManyRequests || got.header.Get("Retry-After") != "1" {
			t.Errorf("%s %s rate limited: answer = %d %v %s", call.method, call.path, got.status, got.header, got.body)
		}
		b.fake.SetFaults(ebayfake.Faults{RevokedRefreshTokens: []string{b.seller.RefreshToken}})
		if got := b.send(t, call.method, call.path, token, call.body); got.status != http.StatusUnauthorized {
			t.Errorf("%s %s revoked: answer = %d %s", call.method, call.path, got.status, got.body)
		}
	}
	if c := b.fake.Counters(); c.BulkItemRequests != 0 || c.OffersCreated != 1 || c.OffersUpdated != 0 || c.Publishes != 0 {
		t.Errorf("counters = %+v, want no refused call served", c)
	}
}

func TestWritesNeedTheWriteScope(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seller := b.seller
	seller.RefreshToken = "v^1.1#read-only"
	seller.Scopes = []string{ebayfake.ScopeSellInventoryReadOnly}
	b.fake.AddSeller(seller)
	got := b.grant(t, seller.ClientID, seller.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {seller.RefreshToken}})
	token := decode[struct {
		AccessToken string `json:"access_token"`
	}](t, got).AccessToken

	got = b.send(t, http.MethodPost, inventoryAPI+"/bulk_create_or_replace_inventory_item", token, bulk(item("MUG-1")))

	if got.status != http.StatusForbidden || !strings.Contains(got.body, `"errorId":1100`) {
		t.Errorf("answer = %d %s, want 403 errorId 1100", got.status, got.body)
	}
}
