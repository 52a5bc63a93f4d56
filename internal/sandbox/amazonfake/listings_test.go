package amazonfake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/amazonfake"
)

const (
	amazonCom = "ATVPDKIKX0DER"  // the sandbox seller's first marketplace
	amazonCA  = "A2EUQ1WTGCTBG2" // and its second
)

// values is an attribute of one value object per text, as SP-API takes
// them.
func values(texts ...string) []any {
	list := make([]any, 0, len(texts))
	for _, text := range texts {
		list = append(list, map[string]any{"value": text, "language_tag": "en_US", "marketplace_id": amazonCom})
	}
	return list
}

// completeAttributes are the attributes of a listing the fake accepts in
// amazon.com.
func completeAttributes() map[string]any {
	return map[string]any{
		"item_name":                              values("Trail Runner 2 Running Shoe"),
		"brand":                                  values("Dainostore"),
		"externally_assigned_product_identifier": []any{map[string]any{"type": "ean", "value": "4006381333931", "marketplace_id": amazonCom}},
		"purchasable_offer": []any{map[string]any{
			"currency": "USD", "marketplace_id": amazonCom,
			"our_price": []any{map[string]any{"schedule": []any{map[string]any{"value_with_tax": 89.9}}}},
		}},
		"condition_type":             values("new_new"),
		"main_product_image_locator": []any{map[string]any{"media_location": "https://images.example.com/trail-runner-2.jpg", "marketplace_id": amazonCom}},
		"fulfillment_availability":   []any{map[string]any{"fulfillment_channel_code": "DEFAULT", "quantity": 12}},
		"bullet_point":               values("Grippy outsole", "Breathable mesh"),
		"product_description":        values("A light trail shoe."),
	}
}

func putBody(t *testing.T, productType, requirements string, attributes map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"productType": productType, "requirements": requirements, "attributes": attributes})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// listingURL is the Listings Items API's URL of a listing of the sandbox
// seller's, sku escaped as a client must.
func (b *testBundle) listingURL(sellerID, sku, query string) string {
	return b.server.URL + "/listings/2021-08-01/items/" + url.PathEscape(sellerID) + "/" + url.PathEscape(sku) + "?" + query
}

func (b *testBundle) putListing(t *testing.T, token, sku, query, body string) answer {
	t.Helper()
	return b.putListingAs(t, token, b.seller.SellerID, sku, query, body)
}

func (b *testBundle) putListingAs(t *testing.T, token, sellerID, sku, query, body string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, b.listingURL(sellerID, sku, query), strings.NewReader(body))
	req.Header.Set("x-amz-access-token", token)
	req.Header.Set("Content-Type", "application/json")
	return b.do(t, req)
}

func (b *testBundle) getListing(t *testing.T, token, sku, query string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.listingURL(b.seller.SellerID, sku, query), nil)
	req.Header.Set("x-amz-access-token", token)
	return b.do(t, req)
}

// submission is putListingsItem's answer as a test reads it.
type submission struct {
	SKU          string            `json:"sku"`
	Status       string            `json:"status"`
	SubmissionID string            `json:"submissionId"`
	Issues       []json.RawMessage `json:"issues"`
	Identifiers  []struct {
		MarketplaceID string `json:"marketplaceId"`
		ASIN          string `json:"asin"`
	} `json:"identifiers"`
}

func decodeSubmission(t *testing.T, got answer) submission {
	t.Helper()
	var s submission
	if got.status != http.StatusOK || json.Unmarshal([]byte(got.body), &s) != nil {
		t.Fatalf("putListingsItem = %d %s", got.status, got.body)
	}
	return s
}

const putQuery = "marketplaceIds=" + amazonCom + "&includedData=issues,identifiers&issueLocale=en_US"

var asinShape = regexp.MustCompile(`^B0[0-9A-Z]{8}$`)

func TestPutListingsItemAcceptsACompleteListing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	attributes := completeAttributes()

	got := b.putListing(t, token, "TR-2/42 blue", putQuery, putBody(t, "SHOES", "LISTING", attributes))

	if got.header.Get("x-amzn-RateLimit-Limit") != "5" || got.header.Get("x-amzn-RequestId") == "" {
		t.Errorf("headers = %v", got.header)
	}
	answer := decodeSubmission(t, got)
	if answer.SKU != "TR-2/42 blue" || answer.Status != "ACCEPTED" || len(answer.SubmissionID) != 32 {
		t.Errorf("answer = %s", got.body)
	}
	if !strings.Contains(got.body, `"issues":[]`) || len(answer.Identifiers) != 1 ||
		answer.Identifiers[0].MarketplaceID != amazonCom || !asinShape.MatchString(answer.Identifiers[0].ASIN) {
		t.Errorf("answer = %s, want no issues and the ASIN in amazon.com", got.body)
	}

	listings := b.fake.Listings(b.seller.SellerID)
	if len(listings) != 1 {
		t.Fatalf("Listings = %+v, want one", listings)
	}
	l := listings[0]
	if l.SellerID != b.seller.SellerID || l.MarketplaceID != amazonCom || l.SKU != "TR-2/42 blue" || l.ASIN != answer.Identifiers[0].ASIN ||
		l.ProductType != "SHOES" || l.Submissions != 1 || !l.UpdatedAt.Equal(b.clock.Now()) {
		t.Errorf("listing = %+v", l)
	}
	if want := roundTrip(t, attributes); !reflect.DeepEqual(l.Attributes, want) {
		t.Errorf("attributes = %v\nwant %v", l.Attributes, want)
	}
	if c := b.fake.Counters(); c.ListingPuts != 1 || c.ListingsCreated != 1 || c.ListingsReplaced != 0 || c.ListingsInvalid != 0 {
		t.Errorf("counters = %+v", c)
	}
}

// roundTrip is v as it reads back from JSON.
func roundTrip(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(v)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutListingsItemValidatesLikeAProductType(t *testing.T) {
	t.Parallel()
	missing := func(name string) string {
		return fmt.Sprintf(`{"code":"90220","message":"'%s' is required but not supplied.","severity":"ERROR","attributeNames":["%s"],"categories":["MISSING_ATTRIBUTE"]}`, name, name)
	}
	without := func(name string) func(map[string]any) {
		return func(a map[string]any) { delete(a, name) }
	}
	set := func(name string, value any) func(map[string]any) {
		return func(a map[string]any) { a[name] = value }
	}
	tests := []struct {
		name         string
		requirements string
		change       func(map[string]any)
		want         []string // the issues; none: accepted
	}{
		{"complete", "LISTING", func(map[string]any) {}, nil},
		{"no item name", "LISTING", without("item_name"), []string{missing("item_name")}},
		{"no brand", "LISTING", without("brand"), []string{missing("brand")}},
		{"no product identifier", "LISTING", without("externally_assigned_product_identifier"), []string{missing("externally_assigned_product_identifier")}},
		{"no offer", "LISTING", without("purchasable_offer"), []string{missing("purchasable_offer")}},
		{"an offer without a price", "LISTING", set("purchasable_offer", []any{map[string]any{"currency": "USD"}}), []string{missing("purchasable_offer")}},
		{"no condition", "LISTING", without("condition_type"), []string{missing("condition_type")}},
		{"no main image", "LISTING", without("main_product_image_locator"), []string{missing("main_product_image_locator")}},
		{"no fulfillment availability", "LISTING", without("fulfillment_availability"), []string{missing("fulfillment_availability")}},
		{"a blank brand", "LISTING", set("brand", values(" ")), []string{missing("brand")}},
		{"a brand for another marketplace only", "LISTING",
			set("brand", []any{map[string]any{"value": "Dainostore", "marketplace_id": amazonCA}}), []string{missing("brand")}},
		{"two missing, in the product type's order", "LISTING", func(a map[string]any) { delete(a, "condition_type"); delete(a, "brand") },
			[]string{missing("brand"), missing("condition_type")}},
		{"an item name of 200 characters", "LISTING", set("item_name", values(strings.Repeat("é", 200))), nil},
		{"an item name of 201 characters", "LISTING", set("item_name", values(strings.Repeat("é", 201))), []string{
			`{"code":"8560","message":"The field 'value' for the attribute 'item_name' has 201 characters. The maximum is '200' character(s).","severity":"ERROR","attributeNames":["item_name"],"categories":["INVALID_ATTRIBUTE"]}`}},
		{"five bullet points of 500 characters", "LISTING", set("bullet_point", values(
			strings.Repeat("a", 500), strings.Repeat("b", 500), strings.Repeat("c", 500), strings.Repeat("d", 500), strings.Repeat("e", 500))), nil},
		{"six bullet points", "LISTING", set("bullet_point", values("1", "2", "3", "4", "5", "6")), []string{
			`{"code":"8560","message":"The attribute 'bullet_point' has 6 values. The maximum is '5' value(s).","severity":"ERROR","attributeNames":["bullet_point"],"categories":["INVALID_ATTRIBUTE"]}`}},
		{"a bullet point of 501 characters", "LISTING", set("bullet_point", values("short", strings.Repeat("x", 501))), []string{
			`{"code":"8560","message":"The field 'value' for the attribute 'bullet_point' has 501 characters. The maximum is '500' character(s).","severity":"ERROR","attributeNames":["bullet_point"],"categories":["INVALID_ATTRIBUTE"]}`}},
		{"a description of 2001 characters", "LISTING", set("product_description", values(strings.Repeat("d", 2001))), []string{
			`{"code":"8560","message":"The field 'value' for the attribute 'product_description' has 2001 characters. The maximum is '2000' character(s).","severity":"ERROR","attributeNames":["product_description"],"categories":["INVALID_ATTRIBUTE"]}`}},
		{"an attribute that is not a list", "LISTING", set("item_name", "Trail Runner 2"), []string{
			`{"code":"4000001","message":"The provided value for 'item_name' is invalid.","severity":"ERROR","attributeNames":["item_name"],"categories":["INVALID_ATTRIBUTE"]}`}},
		{"an identifier of an unknown type", "LISTING",
			set("externally_assigned_product_identifier", []any{map[string]any{"type": "sku", "value": "TR-2"}}), []string{
				`{"code":"4000001","message":"The provided value for 'externally_assigned_product_identifier' is invalid.","severity":"ERROR","attributeNames":["externally_assigned_product_identifier"],"categories":["INVALID_ATTRIBUTE"]}`}},
		{"an offer alone", "LISTING_OFFER_ONLY", func(a map[string]any) {
			for _, name := range []string{"item_name", "brand", "externally_assigned_product_identifier", "main_product_image_locator"} {
				delete(a, name)
			}
		}, nil},
		{"product facts alone", "LISTING_PRODUCT_ONLY", func(a map[string]any) {
			for _, name := range []string{"purchasable_offer", "condition_type", "fulfillment_availability"} {
				delete(a, name)
			}
		}, nil},
		{"an offer alone as a full listing", "LISTING", without("item_name"), []string{missing("item_name")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			attributes := completeAttributes()
			tt.change(attributes)

			got := b.putListing(t, b.accessToken(t), "TR-2", putQuery, putBody(t, "SHOES", tt.requirements, attributes))

			answer := decodeSubmission(t, got)
			issues := make([]string, 0, len(answer.Issues))
			for _, issue := range answer.Issues {
				issues = append(issues, string(issue))
			}
			if len(tt.want) == 0 {
				if answer.Status != "ACCEPTED" || len(issues) != 0 || len(b.fake.Listings(b.seller.SellerID)) != 1 {
					t.Errorf("answer = %s, want it accepted and stored", got.body)
				}
				return
			}
			if answer.Status != "INVALID" || !reflect.DeepEqual(issues, tt.want) {
				t.Errorf("answer = %s\nwant INVALID with issues %s", got.body, strings.Join(tt.want, ","))
			}
			if answer.Identifiers != nil || len(answer.SubmissionID) != 32 {
				t.Errorf("answer = %s, want a submission id and no identifiers", got.body)
			}
			if listings := b.fake.Listings(b.seller.SellerID); len(listings) != 0 {
				t.Errorf("an invalid submission was stored: %+v", listings)
			}
			if c := b.fake.Counters(); c.ListingPuts != 1 || c.ListingsInvalid != 1 || c.ListingsCreated != 0 {
				t.Errorf("counters = %+v", c)
			}
		})
	}
}

func TestPutListingsItemReplacesTheListing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	first := decodeSubmission(t, b.putListing(t, token, "TR-2", putQuery, putBody(t, "SHOES", "LISTING", completeAttributes())))

	b.clock.Advance(time.Minute)
	replacement := completeAttributes()
	replacement["item_name"] = values("Trail Runner 2, now lighter")
	delete(replacement, "bullet_point") // a PUT replaces all: this one is gone
	second := decodeSubmission(t, b.putListing(t, token, "TR-2", putQuery, putBody(t, "SHOES", "LISTING", replacement)))

	if second.Status != "ACCEPTED" || second.Identifiers[0].ASIN != first.Identifiers[0].ASIN || second.SubmissionID == first.SubmissionID {
		t.Errorf("second answer = %+v, want ACCEPTED with the same ASIN, a new submission", second)
	}
	listings := b.fake.Listings(b.seller.SellerID)
	if len(listings) != 1 {
		t.Fatalf("Listings = %+v, want one listing", listings)
	}
	if l := listings[0]; l.Submissions != 2 || !l.UpdatedAt.Equal(b.clock.Now()) || !reflect.DeepEqual(l.Attributes, roundTrip(t, replacement)) {
		t.Errorf("listing = %+v, want the second submission's attributes", l)
	}
	if c := b.fake.Counters(); c.ListingPuts != 2 || c.ListingsCreated != 1 || c.ListingsReplaced != 1 {
		t.Errorf("counters = %+v", c)
	}

	// The same SKU in another marketplace is another listing of the same
	// product; another SKU is another product.
	canada := completeAttributes()
	canada["purchasable_offer"] = []any{map[string]any{"currency": "CAD", "our_price": []any{map[string]any{"schedule": []any{map[string]any{"value_with_tax": 119}}}}}}
	inCanada := decodeSubmission(t, b.putListing(t, token, "TR-2", "marketplaceIds="+amazonCA+"&includedData=identifiers",
		putBody(t, "SHOES", "LISTING", map[string]any{
			"item_name": []any{map[string]any{"value": "Trail Runner 2"}}, "brand": []any{map[string]any{"value": "Dainostore"}},
			"externally_assigned_product_identifier": []any{map[string]any{"type": "ean", "value": "4006381333931"}},
			"purchasable_offer":                      canada["purchasable_offer"],
			"condition_type":                         []any{map[string]any{"value": "new_new"}},
			"main_product_image_locator":             []any{map[string]any{"media_location": "https://images.example.com/trail-runner-2.jpg"}},
			"fulfillment_availability":               []any{map[string]any{"fulfillment_channel_code": "DEFAULT", "quantity": 3}},
		})))
	other := decodeSubmission(t, b.putListing(t, token, "TR-3", putQuery, putBody(t, "SHOES", "LISTING", completeAttributes())))
	if inCanada.Status != "ACCEPTED" || inCanada.Identifiers[0].ASIN != first.Identifiers[0].ASIN || inCanada.Issues != nil {
		t.Errorf("Canada answer = %+v, want ACCEPTED with the same ASIN and no issues (not asked for)", inCanada)
	}
	if other.Identifiers[0].ASIN == first.Identifiers[0].ASIN {
		t.Errorf("two SKUs share ASIN %s", other.Identifiers[0].ASIN)
	}
	var keys []string
	for _, l := range b.fake.Listings(b.seller.SellerID) {
		keys = append(keys, l.MarketplaceID+"/"+l.SKU)
	}
	if want := []string{amazonCA + "/TR-2", amazonCom + "/TR-2", amazonCom + "/TR-3"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("listings = %v, want %v", keys, want)
	}
	if got := b.fake.Listings("A3OTHERSELLER"); len(got) != 0 {
		t.Errorf("another seller has listings %+v", got)
	}
}

func TestListingsItemsRefuseRequestsSPAPIRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	complete := putBody(t, "SHOES", "LISTING", completeAttributes())
	const denied = `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}`
	tests := []struct {
		name, sellerID, query, body string
		wantStatus                  int
		wantBody                    string
	}{
		{"another seller's listing", "A3OTHERSELLER", putQuery, complete, http.StatusForbidden, denied},
		{"no marketplace", b.seller.SellerID, "includedData=issues", complete, http.StatusBadRequest,
			`{"errors":[{"code":"INVALID_INPUT","message":"Missing required parameter 'marketplaceIds'.","details":""}]}`},
		{"a marketplace the seller does not sell in", b.seller.SellerID, "marketplaceIds=A1PA6795UKMFR9", complete, http.StatusBadRequest,
			`{"errors":[{"code":"INVALID_INPUT","message":"Invalid marketplaceIds: the seller does not participate in marketplace A1PA6795UKMFR9.","details":""}]}`},
		{"two marketplaces", b.seller.SellerID, "marketplaceIds=" + amazonCom + "," + amazonCA, complete, http.StatusBadRequest,
			`{"errors":[{"code":"INVALID_INPUT","message":"putListingsItem accepts one marketplace per request; got 2: ATVPDKIKX0DER, A2EUQ1WTGCTBG2.","details":""}]}`},
		{"an unknown data set", b.seller.SellerID, "marketplaceIds=" + amazonCom + "&includedData=offers", complete, http.StatusBadRequest,
			`{"errors":[{"code":"INVALID_INPUT","message":"Invalid includedData \"offers\"; the data sets are identifiers, issues.","details":""}]}`},
		{"no product type", b.seller.SellerID, putQuery, putBody(t, "", "LISTING", completeAttributes()), http.StatusBadRequest,
			`{"errors":[{"code":"BAD_REQUEST","message":"Invalid input","details":"'productType' is required."}]}`},
		{"no attributes", b.seller.SellerID, putQuery, `{"productType":"SHOES","requirements":"LISTING"}`, http.StatusBadRequest,
			`{"errors":[{"code":"BAD_REQUEST","message":"Invalid input","details":"'attributes' is required and must be an object."}]}`},
		{"unknown requirements", b.seller.SellerID, putQuery, putBody(t, "SHOES", "EVERYTHING", completeAttributes()), http.StatusBadRequest,
			`{"errors":[{"code":"BAD_REQUEST","message":"Invalid input","details":"'requirements' \"EVERYTHING\" is not LISTING, LISTING_PRODUCT_ONLY or LISTING_OFFER_ONLY."}]}`},
	}
	for _, tt := range tests {
		got := b.putListingAs(t, token, tt.sellerID, "TR-2", tt.query, tt.body)
		if got.status != tt.wantStatus || got.body != tt.wantBody {
			t.Errorf("%s: answer = %d %s\nwant %d %s", tt.name, got.status, got.body, tt.wantStatus, tt.wantBody)
		}
	}
	if got := b.putListing(t, token, "TR-2", putQuery, `{"productType":`); got.status != http.StatusBadRequest || !strings.Contains(got.body, `"code":"BAD_REQUEST"`) {
		t.Errorf("truncated body: answer = %d %s", got.status, got.body)
	}
	if listings := b.fake.Listings(b.seller.SellerID); len(listings) != 0 {
		t.Errorf("a refused request stored %+v", listings)
	}
	if c := b.fake.Counters(); c.ListingPuts != len(tests)+1 || c.ListingsInvalid != 0 {
		t.Errorf("counters = %+v, want every PUT counted and none answered INVALID", c)
	}
}

func TestGetListingsItemAnswersTheStoredListing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)

	got := b.getListing(t, token, "TR-2", "marketplaceIds="+amazonCom)
	const notFound = `{"errors":[{"code":"NOT_FOUND","message":"SKU 'TR-2' not found in marketplace ATVPDKIKX0DER","details":""}]}`
	if got.status != http.StatusNotFound || got.body != notFound || got.header.Get("x-amzn-RateLimit-Limit") != "5" {
		t.Fatalf("GET before any PUT = %d %s", got.status, got.body)
	}

	attributes := completeAttributes()
	put := decodeSubmission(t, b.putListing(t, token, "TR-2", putQuery, putBody(t, "SHOES", "LISTING", attributes)))
	b.clock.Advance(30 * time.Minute) // within the access token's hour
	decodeSubmission(t, b.putListing(t, token, "TR-2", putQuery, putBody(t, "SHOES", "LISTING", attributes)))

	got = b.getListing(t, token, "TR-2", "marketplaceIds="+amazonCom+"&includedData=summaries,attributes,issues")
	if got.status != http.StatusOK {
		t.Fatalf("GET = %d %s", got.status, got.body)
	}
	var item struct {
		SKU        string            `json:"sku"`
		Summaries  []json.RawMessage `json:"summaries"`
		Attributes map[string]any    `json:"attributes"`
		Issues     []any             `json:"issues"`
	}
	if err := json.Unmarshal([]byte(got.body), &item); err != nil {
		t.Fatal(err)
	}
	wantSummary := `{"marketplaceId":"ATVPDKIKX0DER","asin":"` + put.Identifiers[0].ASIN + `","productType":"SHOES","conditionType":"new_new",` +
		`"status":["BUYABLE"],"itemName":"Trail Runner 2 Running Shoe","createdDate":"2026-03-02T09:00:00Z","lastUpdatedDate":"2026-03-02T09:30:00Z"}`
	if item.SKU != "TR-2" || len(item.Summaries) != 1 || string(item.Summaries[0]) != wantSummary {
		t.Errorf("summaries = %s\nwant [%s]", item.Summaries, wantSummary)
	}
	if !reflect.DeepEqual(item.Attributes, roundTrip(t, attributes)) || item.Issues == nil || len(item.Issues) != 0 {
		t.Errorf("answer = %s, want the attributes sent and no issues", got.body)
	}

	// Without includedData, SP-API answers the summaries alone.
	got = b.getListing(t, token, "TR-2", "marketplaceIds="+amazonCom)
	if got.status != http.StatusOK || got.body != `{"sku":"TR-2","summaries":[`+wantSummary+`]}` {
		t.Errorf("GET with the default data sets = %d %s", got.status, got.body)
	}
	// Listed in amazon.com only, so not found when Canada is asked too.
	got = b.getListing(t, token, "TR-2", "marketplaceIds="+amazonCom+","+amazonCA)
	if got.status != http.StatusNotFound || !strings.Contains(got.body, "not found in marketplace "+amazonCA) {
		t.Errorf("GET in two marketplaces = %d %s", got.status, got.body)
	}
}

func TestListingsItemsHaveTheirOwnQuotas(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	complete := putBody(t, "SHOES", "LISTING", completeAttributes())
	const quotaExceeded = `{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`

	for i := range 10 { // putListingsItem's burst
		if got := b.putListing(t, token, fmt.Sprintf("SKU-%d", i), putQuery, complete); got.status != http.StatusOK {
			t.Fatalf("PUT %d of the burst = %d %s", i+1, got.status, got.body)
		}
	}
	got := b.putListing(t, token, "SKU-10", putQuery, complete)
	if got.status != http.StatusTooManyRequests || got.body != quotaExceeded {
		t.Fatalf("PUT past the burst = %d %s", got.status, got.body)
	}
	if got.header.Get("Retry-After") != "" || got.header.Get("x-amzn-RateLimit-Limit") != "" {
		t.Errorf("429 carries %v; SP-API sends neither Retry-After nor a rate limit", got.header)
	}
	if got := b.getListing(t, token, "SKU-0", "marketplaceIds="+amazonCom); got.status != http.StatusOK {
		t.Errorf("GET while PUT is out of quota = %d %s, want its own quota", got.status, got.body)
	}

	b.clock.Advance(200 * time.Millisecond) // one request back at 5 per second
	if got := b.putListing(t, token, "SKU-10", putQuery, complete); got.status != http.StatusOK {
		t.Errorf("PUT after the refill = %d %s", got.status, got.body)
	}
	if got := b.putListing(t, token, "SKU-11", putQuery, complete); got.status != http.StatusTooManyRequests {
		t.Errorf("second PUT after the refill = %d", got.status)
	}
	if c := b.fake.Counters(); c.ListingPuts != 11 || c.ListingsCreated != 11 {
		t.Errorf("counters = %+v, want the refused PUTs not to reach the handler", c)
	}
}

func TestListingsItemsSufferTheInjectedFaults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := b.accessToken(t)
	complete := putBody(t, "SHOES", "LISTING", completeAttributes())
	b.fake.SetFaults(amazonfake.Faults{ServerErrorsNext: 1, RateLimitNext: 1})

	if got := b.putListing(t, token, "TR-2", putQuery, complete); got.status != http.StatusInternalServerError {
		t.Errorf("first PUT = %d %s", got.status, got.body)
	}
	if got := b.putListing(t, token, "TR-2", putQuery, complete); got.status != http.StatusTooManyRequests {
		t.Errorf("second PUT = %d %s", got.status, got.body)
	}
	if got := b.putListing(t, token, "TR-2", putQuery, complete); got.status != http.StatusOK {
		t.Errorf("third PUT = %d %s", got.status, got.body)
	}

	b.fake.SetFaults(amazonfake.Faults{RevokedRefreshTokens: []string{b.seller.RefreshToken}})
	if got := b.putListing(t, token, "TR-2", putQuery, complete); got.status != http.StatusForbidden {
		t.Errorf("PUT with a revoked authorization = %d %s", got.status, got.body)
	}
	if got := b.getListing(t, token, "TR-2", "marketplaceIds="+amazonCom); got.status != http.StatusForbidden {
		t.Errorf("GET with a revoked authorization = %d %s", got.status, got.body)
	}
	if l := b.fake.Listings(b.seller.SellerID); len(l) != 1 || l[0].Submissions != 1 {
		t.Errorf("listings = %+v, want the one accepted PUT", l)
	}
}
