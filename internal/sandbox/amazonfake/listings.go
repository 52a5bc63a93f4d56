package amazonfake

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
	"github.com/google/uuid"
)

// listingsItemPath is the Listings Items API's path of one listing.
const listingsItemPath = "/listings/2021-08-01/items/{sellerId}/{sku}"

// maxListingBytes bounds a putListingsItem body. Amazon publishes no limit,
// only that it answers 413 past one; a listing is a few kilobytes.
const maxListingBytes = 1 << 20

// Listing is a listing the fake holds: the last accepted putListingsItem of
// a SKU in a marketplace.
type Listing struct {
	SellerID      string
	MarketplaceID string
	SKU           string
	ASIN          string
	ProductType   string
	// Attributes are the attributes of the last accepted submission, as
	// sent.
	Attributes map[string]any
	// Submissions counts the putListingsItem calls accepted for it.
	Submissions int
	UpdatedAt   time.Time
}

// listingKey names a listing: SP-API keeps one per seller, marketplace and
// SKU.
type listingKey struct {
	sellerID, marketplaceID, sku string
}

// storedListing is a Listing with its attributes kept as the JSON sent, so
// every reader decodes a copy of its own.
type storedListing struct {
	Listing
	attributes json.RawMessage
	createdAt  time.Time
}

// Listings returns the seller's listings, sorted by marketplace, then SKU.
func (s *Server) Listings(sellerID string) []Listing {
	s.mu.Lock()
	var stored []storedListing
	for key, l := range s.listings {
		if key.sellerID == sellerID {
			stored = append(stored, *l)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(stored, func(a, b storedListing) int {
		return cmp.Or(strings.Compare(a.MarketplaceID, b.MarketplaceID), strings.Compare(a.SKU, b.SKU))
	})
	listings := make([]Listing, 0, len(stored))
	for _, l := range stored {
		listing := l.Listing
		listing.Attributes = decodeAttributes(l.attributes)
		listings = append(listings, listing)
	}
	return listings
}

func decodeAttributes(raw json.RawMessage) map[string]any {
	var attributes map[string]any
	_ = json.Unmarshal(raw, &attributes) // stored only after it decoded
	return attributes
}

// Submission statuses of putListingsItem.
const (
	statusAccepted = "ACCEPTED"
	statusInvalid  = "INVALID"
	statusValid    = "VALID" // VALIDATION_PREVIEW only
)

// requirements sets a putListingsItem may declare; an empty one is LISTING.
const (
	requirementsListing     = "LISTING"
	requirementsProductOnly = "LISTING_PRODUCT_ONLY"
	requirementsOfferOnly   = "LISTING_OFFER_ONLY"
)

// putRequest is putListingsItem's body (ListingsItemPutRequest).
type putRequest struct {
	ProductType  string          `json:"productType"`
	Requirements string          `json:"requirements"`
	Attributes   json.RawMessage `json:"attributes"`
}

// issue is the Listings Items API's Issue.
type issue struct {
	Code           string   `json:"code"`
	Message        string   `json:"message"`
	Severity       string   `json:"severity"`
	AttributeNames []string `json:"attributeNames,omitempty"`
	Categories     []string `json:"categories"`
}

type identifier struct {
	MarketplaceID string `json:"marketplaceId"`
	ASIN          string `json:"asin"`
}

// submissionResponse is putListingsItem's answer
// (ListingsItemSubmissionResponse). Issues and identifiers are left out
// unless includedData asks for them.
type submissionResponse struct {
	SKU          string       `json:"sku"`
	Status       string       `json:"status"`
	SubmissionID string       `json:"submissionId"`
	Issues       []issue      `json:"issues,omitzero"`
	Identifiers  []identifier `json:"identifiers,omitzero"`
}

// handlePutListingsItem is putListingsItem: it validates the submission for
// the one marketplace of the request and, valid, stores it in place of the
// SKU's listing there.
func (s *Server) handlePutListingsItem(w http.ResponseWriter, r *http.Request, seller Seller) {
	s.mu.Lock()
	s.counters.ListingPuts++
	s.mu.Unlock()

	if r.PathValue("sellerId") != seller.SellerID {
		unauthorized.write(w) // as SP-API answers for a seller the app may not act for
		return
	}
	query := r.URL.Query()
	marketplaceIDs, ok := requestMarketplaces(w, query, seller)
	if !ok {
		return
	}
	if len(marketplaceIDs) > 1 {
		// The model allows one marketplace per submission (maxItems 1).
		invalidInput(w, fmt.Sprintf("putListingsItem accepts one marketplace per request; got %d: %s.",
			len(marketplaceIDs), strings.Join(marketplaceIDs, ", ")))
		return
	}
	marketplaceID := marketplaceIDs[0]
	included, ok := requestIncludedData(w, query, []string{"issues"}, "identifiers", "issues")
	if !ok {
		return
	}
	preview := false
	switch mode := query.Get("mode"); mode {
	case "":
	case "VALIDATION_PREVIEW":
		preview = true
	default:
		invalidInput(w, fmt.Sprintf("Invalid mode %q; the only mode is VALIDATION_PREVIEW.", mode))
		return
	}

	request, attributes, ok := decodePutRequest(w, r)
	if !ok {
		return
	}
	sku := r.PathValue("sku")
	answer := submissionResponse{SKU: sku, SubmissionID: newSubmissionID()}
	issues := validateListing(marketplaceID, request.Requirements, attributes)
	if included["issues"] {
		answer.Issues = append([]issue{}, issues...)
	}
	if hasError(issues) {
		answer.Status = statusInvalid
		s.mu.Lock()
		s.counters.ListingsInvalid++
		s.mu.Unlock()
		fakeserver.WriteJSON(w, http.StatusOK, answer)
		return
	}
	asin := asinOf(seller.SellerID, sku)
	if included["identifiers"] {
		answer.Identifiers = []identifier{{MarketplaceID: marketplaceID, ASIN: asin}}
	}
	if preview {
		answer.Status = statusValid
		fakeserver.WriteJSON(w, http.StatusOK, answer)
		return
	}

	answer.Status = statusAccepted
	now := s.now()
	key := listingKey{sellerID: seller.SellerID, marketplaceID: marketplaceID, sku: sku}
	s.mu.Lock()
	stored, exists := s.listings[key]
	if exists {
		s.counters.ListingsReplaced++
	} else {
		stored = &storedListing{
			Listing:   Listing{SellerID: seller.SellerID, MarketplaceID: marketplaceID, SKU: sku, ASIN: asin},
			createdAt: now,
		}
		s.listings[key] = stored
		s.counters.ListingsCreated++
	}
	// A PUT replaces the whole listing: attributes left out are gone.
	stored.ProductType = request.ProductType
	stored.attributes = request.Attributes
	stored.Submissions++
	stored.UpdatedAt = now
	s.mu.Unlock()
	fakeserver.WriteJSON(w, http.StatusOK, answer)
}

// decodePutRequest reads putListingsItem's body, answering 400 (or 413)
// when it is not a ListingsItemPutRequest.
func decodePutRequest(w http.ResponseWriter, r *http.Request) (putRequest, map[string]any, bool) {
	var request putRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxListingBytes)).Decode(&request); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"The request size exceeded the maximum accepted size.", "")
			return putRequest{}, nil, false
		}
		badRequest(w, "The body is not valid JSON: "+err.Error()+".")
		return putRequest{}, nil, false
	}
	if request.ProductType == "" {
		badRequest(w, "'productType' is required.")
		return putRequest{}, nil, false
	}
	var attributes map[string]any
	if err := json.Unmarshal(request.Attributes, &attributes); err != nil || attributes == nil {
		badRequest(w, "'attributes' is required and must be an object.")
		return putRequest{}, nil, false
	}
	switch request.Requirements {
	case "":
		request.Requirements = requirementsListing
	case requirementsListing, requirementsProductOnly, requirementsOfferOnly:
	default:
		badRequest(w, fmt.Sprintf("'requirements' %q is not LISTING, LISTING_PRODUCT_ONLY or LISTING_OFFER_ONLY.", request.Requirements))
		return putRequest{}, nil, false
	}
	return request, attributes, true
}

// requiredAttribute is an attribute every product type of the fake asks
// for, with the member of its value objects that carries the value.
type requiredAttribute struct {
	name, member string
	// salesTerm tells the offer's attributes (all LISTING_OFFER_ONLY asks
	// for) from the product's facts (all LISTING_PRODUCT_ONLY asks for).
	salesTerm bool
}

// requiredAttributes are what a real product type's schema requires of a
// new listing, reduced to what every product type shares.
var requiredAttributes = []requiredAttribute{
	{name: "item_name", member: "value"},
	{name: "brand", member: "value"},
	{name: "externally_assigned_product_identifier", member: "value"},
	{name: "main_product_image_locator", member: "media_location"},
	{name: "condition_type", member: "value", salesTerm: true},
	{name: "purchasable_offer", member: "our_price", salesTerm: true},
	{name: "fulfillment_availability", member: "fulfillment_channel_code", salesTerm: true},
}

// lengthLimit bounds an attribute's values: how many (0: no bound) and how
// many characters each.
type lengthLimit struct {
	name                     string
	maxValues, maxCharacters int
}

var lengthLimits = []lengthLimit{
	{name: "item_name", maxCharacters: 200},
	{name: "bullet_point", maxValues: 5, maxCharacters: 500},
	{name: "product_description", maxCharacters: 2000},
}

// productIdentifierTypes are the kinds of externally_assigned_product_identifier.
var productIdentifierTypes = []string{"ean", "upc", "gtin", "isbn"}

// Issue codes. 90220 and 4000001 are the codes SP-API gives for a missing
// and for an unreadable attribute; SP-API's code for a value too long
// varies with the product type, so 8560 is illustrative.
const (
	codeMissing = "90220"
	codeTooLong = "8560"
	codeInvalid = "4000001"

	severityError   = "ERROR"
	categoryMissing = "MISSING_ATTRIBUTE"
	categoryInvalid = "INVALID_ATTRIBUTE"
)

// validateListing returns the issues a product type would raise about
// attributes in marketplaceID. Every attribute is a list of value objects;
// a value object applies in the marketplace it names in marketplace_id, or
// in every marketplace when it names none.
func validateListing(marketplaceID, requirements string, attributes map[string]any) []issue {
	var issues []issue
	values := make(map[string][]map[string]any, len(attributes))
	unreadable := make(map[string]bool)
	for _, name := range slices.Sorted(maps.Keys(attributes)) {
		applicable, wellFormed := valuesIn(attributes[name], marketplaceID)
		if !wellFormed {
			issues = append(issues, invalidIssue(name))
			unreadable[name] = true
			continue
		}
		values[name] = applicable
	}
	for _, required := range requiredAttributes {
		if requirements == requirementsProductOnly && required.salesTerm ||
			requirements == requirementsOfferOnly && !required.salesTerm {
			continue
		}
		if unreadable[required.name] {
			continue // reported as invalid above
		}
		if !slices.ContainsFunc(values[required.name], func(v map[string]any) bool { return present(v[required.member]) }) {
			issues = append(issues, issue{
				Code:           codeMissing,
				Message:        fmt.Sprintf("'%s' is required but not supplied.", required.name),
				Severity:       severityError,
				AttributeNames: []string{required.name},
				Categories:     []string{categoryMissing},
			})
		}
	}
	for _, limit := range lengthLimits {
		issues = append(issues, limit.check(values[limit.name])...)
	}
	for _, v := range values["externally_assigned_product_identifier"] {
		if kind, _ := v["type"].(string); present(v["value"]) && !slices.Contains(productIdentifierTypes, kind) {
			issues = append(issues, invalidIssue("externally_assigned_product_identifier"))
			break
		}
	}
	return issues
}

// valuesIn returns the value objects of an attribute that apply in
// marketplaceID, and whether the attribute is a list of objects at all.
func valuesIn(attribute any, marketplaceID string) ([]map[string]any, bool) {
	list, ok := attribute.([]any)
	if !ok {
		return nil, false
	}
	var applicable []map[string]any
	for _, item := range list {
		value, ok := item.(map[string]any)
		if !ok {
			return nil, false
		}
		if named, ok := value["marketplace_id"].(string); !ok || named == "" || named == marketplaceID {
			applicable = append(applicable, value)
		}
	}
	return applicable, true
}

// present reports whether a member carries a value: a non-blank string, a
// non-empty list or object, or any number or boolean.
func present(member any) bool {
	switch m := member.(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(m) != ""
	case []any:
		return len(m) > 0
	case map[string]any:
		return len(m) > 0
	default:
		return true
	}
}

// check returns an issue for each bound the values break, once per bound.
func (l lengthLimit) check(values []map[string]any) []issue {
	var issues []issue
	if l.maxValues > 0 && len(values) > l.maxValues {
		issues = append(issues, tooLongIssue(l.name,
			fmt.Sprintf("The attribute '%s' has %d values. The maximum is '%d' value(s).", l.name, len(values), l.maxValues)))
	}
	for _, v := range values {
		text, _ := v["value"].(string)
		if n := utf8.RuneCountInString(text); n > l.maxCharacters {
			issues = append(issues, tooLongIssue(l.name,
				fmt.Sprintf("The field 'value' for the attribute '%s' has %d characters. The maximum is '%d' character(s).", l.name, n, l.maxCharacters)))
			break
		}
	}
	return issues
}

func tooLongIssue(name, message string) issue {
	return issue{Code: codeTooLong, Message: message, Severity: severityError, AttributeNames: []string{name}, Categories: []string{categoryInvalid}}
}

func invalidIssue(name string) issue {
	return issue{
		Code:           codeInvalid,
		Message:        fmt.Sprintf("The provided value for '%s' is invalid.", name),
		Severity:       severityError,
		AttributeNames: []string{name},
		Categories:     []string{categoryInvalid},
	}
}

func hasError(issues []issue) bool {
	return slices.ContainsFunc(issues, func(i issue) bool { return i.Severity == severityError })
}

// asinOf is the ASIN the fake's catalog gives a seller's SKU: the same in
// every marketplace and on every submission, shaped like Amazon's (B0 and
// eight capitals or digits).
func asinOf(sellerID, sku string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	sum := sha256.Sum256([]byte(sellerID + "\x00" + sku))
	asin := []byte("B0")
	for _, b := range sum[:8] {
		asin = append(asin, alphabet[int(b)%len(alphabet)])
	}
	return string(asin)
}

// newSubmissionID returns an id shaped like SP-API's: 32 hex digits.
func newSubmissionID() string { return strings.ReplaceAll(uuid.NewString(), "-", "") }

// listingsItem is getListingsItem's answer (Item), with the data sets
// includedData asks for.
type listingsItem struct {
	SKU        string         `json:"sku"`
	Summaries  []itemSummary  `json:"summaries,omitzero"`
	Attributes map[string]any `json:"attributes,omitzero"`
	Issues     []issue        `json:"issues,omitzero"`
}

// itemSummary is the Listings Items API's ItemSummaryByMarketplace.
type itemSummary struct {
	MarketplaceID   string   `json:"marketplaceId"`
	ASIN            string   `json:"asin"`
	ProductType     string   `json:"productType"`
	ConditionType   string   `json:"conditionType,omitempty"`
	Status          []string `json:"status"`
	ItemName        string   `json:"itemName,omitempty"`
	CreatedDate     string   `json:"createdDate"`
	LastUpdatedDate string   `json:"lastUpdatedDate"`
}

// handleGetListingsItem is getListingsItem: the SKU's listing in each
// marketplace of the request, 404 if one of them has none. The attributes
// answered are those of the first marketplace's listing.
func (s *Server) handleGetListingsItem(w http.ResponseWriter, r *http.Request, seller Seller) {
	if r.PathValue("sellerId") != seller.SellerID {
		unauthorized.write(w)
		return
	}
	query := r.URL.Query()
	marketplaceIDs, ok := requestMarketplaces(w, query, seller)
	if !ok {
		return
	}
	included, ok := requestIncludedData(w, query, []string{"summaries"},
		"summaries", "attributes", "issues", "offers", "fulfillmentAvailability", "procurement", "relationships", "productTypes")
	if !ok {
		return
	}
	sku := r.PathValue("sku")

	s.mu.Lock()
	found := make([]storedListing, 0, len(marketplaceIDs))
	for _, id := range marketplaceIDs {
		stored, ok := s.listings[listingKey{sellerID: seller.SellerID, marketplaceID: id, sku: sku}]
		if !ok {
			s.mu.Unlock()
			writeAPIError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("SKU '%s' not found in marketplace %s", sku, id), "")
			return
		}
		found = append(found, *stored)
	}
	s.mu.Unlock()

	// Offers and the other data sets are not modelled; they are left out.
	item := listingsItem{SKU: sku}
	if included["summaries"] {
		item.Summaries = make([]itemSummary, 0, len(found))
		for _, l := range found {
			item.Summaries = append(item.Summaries, summaryOf(l))
		}
	}
	if included["attributes"] {
		item.Attributes = decodeAttributes(found[0].attributes)
	}
	if included["issues"] {
		item.Issues = []issue{} // an accepted listing has none in the fake
	}
	fakeserver.WriteJSON(w, http.StatusOK, item)
}

func summaryOf(l storedListing) itemSummary {
	attributes := decodeAttributes(l.attributes)
	first := func(name string) map[string]any {
		values, _ := valuesIn(attributes[name], l.MarketplaceID)
		if len(values) == 0 {
			return nil
		}
		return values[0]
	}
	itemName, _ := first("item_name")["value"].(string)
	condition, _ := first("condition_type")["value"].(string)
	status := []string{"DISCOVERABLE"}
	if first("purchasable_offer") != nil {
		status = []string{"BUYABLE"}
	}
	return itemSummary{
		MarketplaceID:   l.MarketplaceID,
		ASIN:            l.ASIN,
		ProductType:     l.ProductType,
		ConditionType:   condition,
		Status:          status,
		ItemName:        itemName,
		CreatedDate:     l.createdAt.UTC().Format(time.RFC3339),
		LastUpdatedDate: l.UpdatedAt.UTC().Format(time.RFC3339),
	}
}

// requestMarketplaces reads the required marketplaceIds (comma-delimited,
// or repeated), answering 400 INVALID_INPUT unless each is one the seller
// participates in.
func requestMarketplaces(w http.ResponseWriter, query url.Values, seller Seller) ([]string, bool) {
	ids := splitList(query["marketplaceIds"])
	if len(ids) == 0 {
		invalidInput(w, "Missing required parameter 'marketplaceIds'.")
		return nil, false
	}
	for _, id := range ids {
		if !slices.Contains(seller.MarketplaceIDs, id) {
			// The wording is illustrative; the code is SP-API's.
			invalidInput(w, fmt.Sprintf("Invalid marketplaceIds: the seller does not participate in marketplace %s.", id))
			return nil, false
		}
	}
	return ids, true
}

// requestIncludedData reads includedData (fallback when absent), answering
// 400 INVALID_INPUT for a data set the operation does not have.
func requestIncludedData(w http.ResponseWriter, query url.Values, fallback []string, known ...string) (map[string]bool, bool) {
	sets := splitList(query["includedData"])
	if len(sets) == 0 {
		sets = fallback
	}
	included := make(map[string]bool, len(sets))
	for _, set := range sets {
		if !slices.Contains(known, set) {
			invalidInput(w, fmt.Sprintf("Invalid includedData %q; the data sets are %s.", set, strings.Join(known, ", ")))
			return nil, false
		}
		included[set] = true
	}
	return included, true
}

// splitList reads a comma-delimited query parameter that may also be
// repeated.
func splitList(values []string) []string {
	var items []string
	for _, value := range values {
		for item := range strings.SplitSeq(value, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
	}
	return items
}

func invalidInput(w http.ResponseWriter, message string) {
	writeAPIError(w, http.StatusBadRequest, "INVALID_INPUT", message, "")
}

// badRequest is SP-API's answer to a body it cannot read.
func badRequest(w http.ResponseWriter, details string) {
	writeAPIError(w, http.StatusBadRequest, "BAD_REQUEST", "Invalid input", details)
}

func writeAPIError(w http.ResponseWriter, status int, code, message, details string) {
	fakeserver.WriteJSON(w, status, apiErrorList{Errors: []apiError{{Code: code, Message: message, Details: details}}})
}
