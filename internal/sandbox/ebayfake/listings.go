package ebayfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// Limits of the Sell Inventory API, from the field documentation of its
// OpenAPI document (Max Length values) and bulkCreateOrReplaceInventoryItem's
// description (25 items).
const (
	maxBulkItems         = 25
	maxSKULength         = 50
	maxTitleLength       = 80
	maxDescriptionLength = 4000
	maxAspectValueLength = 65
	// maxRequestBytes bounds a write's body: 25 items with long
	// descriptions are well under it.
	maxRequestBytes = 8 << 20
)

// Offer states and the listing formats of EbayOfferDetailsWithKeys.
const (
	OfferUnpublished = "UNPUBLISHED"
	OfferPublished   = "PUBLISHED"
	FormatFixedPrice = "FIXED_PRICE"
	FormatAuction    = "AUCTION"
)

// conditions are the values of eBay's ConditionEnum.
var conditions = []string{
	"NEW", "LIKE_NEW", "NEW_OTHER", "NEW_WITH_DEFECTS",
	"CERTIFIED_REFURBISHED", "EXCELLENT_REFURBISHED", "VERY_GOOD_REFURBISHED", "GOOD_REFURBISHED",
	"SELLER_REFURBISHED", "MANUFACTURER_REFURBISHED",
	"USED_EXCELLENT", "USED_VERY_GOOD", "USED_GOOD", "USED_ACCEPTABLE",
	"PRE_OWNED_EXCELLENT", "PRE_OWNED_FAIR", "FOR_PARTS_OR_NOT_WORKING",
}

var (
	// contentLanguagePattern is the language-COUNTRY form of the
	// Content-Language eBay's writes take.
	contentLanguagePattern = regexp.MustCompile(`^[a-z]{2}-[A-Z]{2}$`)
	// marketplaceIDPattern is the shape of MarketplaceEnum's values.
	marketplaceIDPattern = regexp.MustCompile(`^EBAY_[A-Z]{2,}(_[A-Z]{2,})?$`)
)

// Offer is an offer as the Sell Inventory API reads it
// (EbayOfferDetailsWithAll), with the fields a store's export fills.
type Offer struct {
	OfferID             string           `json:"offerId,omitempty"`
	SKU                 string           `json:"sku"`
	MarketplaceID       string           `json:"marketplaceId"`
	Format              string           `json:"format"`
	AvailableQuantity   int              `json:"availableQuantity"`
	CategoryID          string           `json:"categoryId,omitempty"`
	MerchantLocationKey string           `json:"merchantLocationKey,omitempty"`
	ListingDescription  string           `json:"listingDescription,omitempty"`
	PricingSummary      *PricingSummary  `json:"pricingSummary,omitempty"`
	ListingPolicies     *ListingPolicies `json:"listingPolicies,omitempty"`
	Status              string           `json:"status,omitempty"` // OfferUnpublished or OfferPublished
	Listing             *Listing         `json:"listing,omitempty"`
}

// PricingSummary is an offer's price.
type PricingSummary struct {
	Price *Amount `json:"price,omitempty"`
}

// Amount is a sum of money: a decimal string and an ISO 4217 code.
type Amount struct {
	Currency string `json:"currency"`
	Value    string `json:"value"`
}

// ListingPolicies are the business policies an offer names.
type ListingPolicies struct {
	FulfillmentPolicyID string `json:"fulfillmentPolicyId,omitempty"`
	PaymentPolicyID     string `json:"paymentPolicyId,omitempty"`
	ReturnPolicyID      string `json:"returnPolicyId,omitempty"`
}

// Listing is the eBay listing of a published offer.
type Listing struct {
	ListingID     string `json:"listingId"`
	ListingStatus string `json:"listingStatus,omitempty"`
}

// InventoryItem returns the item of sku of the seller with refreshToken,
// as the last write stored it.
func (s *Server) InventoryItem(refreshToken, sku string) (InventoryItem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, ok := s.sellers[refreshToken]
	if !ok {
		return InventoryItem{}, false
	}
	item, ok := owner.inventory[sku]
	return item, ok
}

// Offers returns the offers of sku of the seller with refreshToken, oldest
// first.
func (s *Server) Offers(refreshToken, sku string) []Offer {
	s.mu.Lock()
	defer s.mu.Unlock()
	var offers []Offer
	if owner, ok := s.sellers[refreshToken]; ok {
		for _, offer := range owner.offers {
			if offer.SKU == sku {
				// Handlers replace an offer's pointers, never write through
				// them, so a shallow copy is the offer as it is now.
				offers = append(offers, *offer)
			}
		}
	}
	return offers
}

// Error answers of the Sell Inventory API. Their wording is eBay's where
// its OpenAPI document gives one (x-response-codes), with the
// {additionalInfo} placeholders filled in by the fake.
func inventoryError(errorID int, message string, parameters ...errorParameter) apiError {
	return apiError{ErrorID: errorID, Domain: "API_INVENTORY", Category: "REQUEST", Message: message, Parameters: parameters}
}

// invalidValue is errorId 25709 for a field, why being what is wrong.
func invalidValue(field, why string) apiError {
	e := inventoryError(25709, "Invalid value for "+field+".", errorParameter{Name: "text", Value: field})
	e.LongMessage = why
	return e
}

// missingField is errorId 25017 for a field that must be given.
func missingField(field string) apiError {
	return inventoryError(25017, "Missing field "+field+".", errorParameter{Name: "text", Value: field})
}

var (
	// offerNotAvailable is eBay's 404 for an offer id or a SKU without
	// offers (the latter is getOffers' usual answer for a SKU not listed).
	offerNotAvailable = inventoryError(25713, "This Offer is not available.")
	// invalidRequest is eBay's answer to a body it cannot read (as public
	// client reports show it; not in the OpenAPI document).
	invalidRequest = apiError{
		ErrorID: 2004, Domain: "ACCESS", Category: "REQUEST",
		Message:     "Invalid request",
		LongMessage: "The request has errors. For help, see the documentation for this API.",
	}
)

// answer writes an API answer: body as JSON, none for 204.
func answer(w http.ResponseWriter, status int, body any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	fakeserver.WriteJSON(w, status, body)
}

// errorsBody is eBay's error body of errs.
func errorsBody(errs ...apiError) apiErrorList { return apiErrorList{Errors: errs} }

// readWrite checks what every write carries, Content-Language and a JSON
// body, and decodes the body into v; otherwise it answers 400 and reports
// false. eBay requires the header on writes; what it answers without it is
// not confirmed, so the fake names the header in a 25709.
func readWrite(w http.ResponseWriter, r *http.Request, v any) bool {
	if !contentLanguagePattern.MatchString(r.Header.Get("Content-Language")) {
		answer(w, http.StatusBadRequest, errorsBody(invalidValue("header Content-Language",
			"Content-Language must name the language of the request's text, such as en-US.")))
		return false
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes)).Decode(v); err != nil {
		answer(w, http.StatusBadRequest, errorsBody(invalidRequest))
		return false
	}
	return true
}

// bulkInventoryItem is bulkCreateOrReplaceInventoryItem's request
// (BulkInventoryItem).
type bulkInventoryItem struct {
	Requests []InventoryItem `json:"requests"`
}

// inventoryItemResponse is one item's answer of a bulk write.
type inventoryItemResponse struct {
	StatusCode int        `json:"statusCode"`
	SKU        string     `json:"sku"`
	Locale     string     `json:"locale,omitempty"`
	Errors     []apiError `json:"errors,omitempty"`
	Warnings   []apiError `json:"warnings,omitempty"`
}

type bulkInventoryItemResponse struct {
	Responses []inventoryItemResponse `json:"responses"`
}

// handleBulkCreateOrReplaceInventoryItem is bulkCreateOrReplaceInventoryItem:
// up to 25 items, each stored whole over the seller's item of its SKU
// unless invalid. The answer is 200 when every item was stored and 207
// otherwise, even when none was; each item has its own statusCode: 201
// created, 200 replaced, 400 refused with its errors.
func (s *Server) handleBulkCreateOrReplaceInventoryItem(w http.ResponseWriter, r *http.Request, caller *seller) {
	s.mu.Lock()
	s.counters.BulkItemRequests++
	s.mu.Unlock()
	var body bulkInventoryItem
	if !readWrite(w, r, &body) {
		return
	}
	switch n := len(body.Requests); {
	case n == 0:
		answer(w, http.StatusBadRequest, errorsBody(invalidValue("requests", "The request has no inventory item.")))
		return
	case n > maxBulkItems:
		answer(w, http.StatusBadRequest, errorsBody(inventoryError(25727,
			fmt.Sprintf("The number of InventoryItems in the request cannot exceed %d.", maxBulkItems))))
		return
	}
	seen := make(map[string]bool, len(body.Requests))
	for _, item := range body.Requests {
		if item.SKU == "" || item.Locale == "" {
			answer(w, http.StatusBadRequest, errorsBody(inventoryError(25733,
				"Valid SKU and locale information are required for all the InventoryItems in the request.")))
			return
		}
		if seen[item.SKU] {
			answer(w, http.StatusBadRequest, errorsBody(inventoryError(25728, "InventoryItems should be unique in the request.")))
			return
		}
		seen[item.SKU] = true
	}

	responses := make([]inventoryItemResponse, 0, len(body.Requests))
	allStored := true
	s.mu.Lock()
	for _, item := range body.Requests {
		response := inventoryItemResponse{SKU: item.SKU, Locale: item.Locale}
		_, exists := caller.inventory[item.SKU]
		switch errs := validateInventoryItem(item); {
		case len(errs) > 0:
			response.StatusCode, response.Errors = http.StatusBadRequest, errs
			allStored = false
		case exists:
			response.StatusCode = http.StatusOK
			s.counters.ItemsReplaced++
		default:
			response.StatusCode = http.StatusCreated
			s.counters.ItemsCreated++
		}
		if response.StatusCode < 300 {
			caller.inventory[item.SKU] = item
		}
		responses = append(responses, response)
	}
	s.mu.Unlock()

	status := http.StatusOK
	if !allStored {
		status = http.StatusMultiStatus
	}
	answer(w, status, bulkInventoryItemResponse{Responses: responses})
}

// validateInventoryItem returns everything wrong with an item, or nothing.
// eBay wants the images only when an offer is published; the fake asks for
// one already here, so an item that can never be listed is refused where
// the export writes it.
func validateInventoryItem(item InventoryItem) []apiError {
	var errs []apiError
	if utf8.RuneCountInString(item.SKU) > maxSKULength {
		errs = append(errs, inventoryError(25707, "Invalid sku. sku has to be alphanumeric with upto 50 characters in length",
			errorParameter{Name: "text", Value: "sku"}))
	}
	if !slices.Contains(conditions, item.Condition) {
		errs = append(errs, invalidValue("condition", fmt.Sprintf("%q is not an item condition such as NEW or USED_EXCELLENT.", item.Condition)))
	}
	if item.Availability != nil && item.Availability.ShipToLocationAvailability.Quantity < 0 {
		errs = append(errs, invalidValue("availability.shipToLocationAvailability.quantity", "The quantity must not be negative."))
	}
	product := item.Product
	if product == nil {
		return append(errs, missingField("product"))
	}
	tooLong := func(field, value string, most int) {
		if n := utf8.RuneCountInString(value); n > most {
			errs = append(errs, invalidValue(field, fmt.Sprintf("It has %d characters; at most %d are allowed.", n, most)))
		}
	}
	if product.Title == "" {
		errs = append(errs, missingField("product.title"))
	}
	tooLong("product.title", product.Title, maxTitleLength)
	tooLong("product.description", product.Description, maxDescriptionLength)
	aspects := make([]string, 0, len(product.Aspects))
	for name := range product.Aspects {
		aspects = append(aspects, name)
	}
	slices.Sort(aspects) // the errors in a stable order
	for _, name := range aspects {
		for _, value := range product.Aspects[name] {
			tooLong("product.aspects."+name, value, maxAspectValueLength)
		}
	}
	if len(product.ImageURLs) == 0 {
		errs = append(errs, missingField("product.imageUrls"))
	}
	return errs
}

// offersPage is getOffers' answer (Offers).
type offersPage struct {
	Href   string  `json:"href"`
	Limit  int     `json:"limit"`
	Next   string  `json:"next,omitempty"`
	Offers []Offer `json:"offers"`
	Prev   string  `json:"prev,omitempty"`
	Size   int     `json:"size"`
	Total  int     `json:"total"`
}

// handleGetOffers is getOffers: the seller's offers of a SKU, narrowed to a
// marketplace and a format when they are given, a page at a time. A SKU
// without any answers 404 errorId 25713.
func (s *Server) handleGetOffers(w http.ResponseWriter, r *http.Request, caller *seller) {
	query := r.URL.Query()
	sku, marketplaceID, format := query.Get("sku"), query.Get("marketplace_id"), query.Get("format")
	limit, limitErr := pagingParameter(query, "limit", 100, 1, 200)
	offset, offsetErr := pagingParameter(query, "offset", 0, 0, 1<<30)
	switch pagingErr := cmp.Or(limitErr, offsetErr); {
	case sku == "":
		answer(w, http.StatusBadRequest, errorsBody(invalidValue("sku", "getOffers needs the sku of the offers.")))
		return
	case format != "" && format != FormatFixedPrice && format != FormatAuction:
		answer(w, http.StatusBadRequest, errorsBody(invalidValue("format", "The format is FIXED_PRICE or AUCTION.")))
		return
	case pagingErr != nil:
		answer(w, http.StatusBadRequest, errorsBody(inventoryError(25706, "You have provided invalid pagination values. "+pagingErr.Error()+".")))
		return
	}

	var matching []Offer
	s.mu.Lock()
	for _, offer := range caller.offers {
		if offer.SKU == sku && (marketplaceID == "" || offer.MarketplaceID == marketplaceID) && (format == "" || offer.Format == format) {
			matching = append(matching, *offer)
		}
	}
	s.mu.Unlock()
	if len(matching) == 0 {
		answer(w, http.StatusNotFound, errorsBody(offerNotAvailable))
		return
	}

	pages := (len(matching) + limit - 1) / limit
	pageURL := func(offset int) string {
		q := url.Values{"sku": {sku}, "limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
		if marketplaceID != "" {
			q.Set("marketplace_id", marketplaceID)
		}
		if format != "" {
			q.Set("format", format)
		}
		return s.publicURL.Of(r) + "/sell/inventory/v1/offer?" + q.Encode()
	}
	page := offersPage{
		Href:   pageURL(offset),
		Limit:  limit,
		Offers: matching[min(offset*limit, len(matching)):min((offset+1)*limit, len(matching))],
		Size:   pages,
		Total:  len(matching),
	}
	if offset+1 < pages {
		page.Next = pageURL(offset + 1)
	}
	if offset > 0 && offset-1 < pages {
		page.Prev = pageURL(offset - 1)
	}
	answer(w, http.StatusOK, page)
}

// offerResponse is createOffer's answer (OfferResponse).
type offerResponse struct {
	OfferID string `json:"offerId"`
}

// handleCreateOffer is createOffer: an unpublished offer of one of the
// seller's items. eBay allows one offer per SKU, marketplace and format; a
// second is refused with errorId 25002 and the existing offer's id as the
// parameter offerId (eBay's wording of this refusal is not in its
// OpenAPI document; this is how public reports quote it).
func (s *Server) handleCreateOffer(w http.ResponseWriter, r *http.Request, caller *seller) {
	var offer Offer
	if !readWrite(w, r, &offer) {
		return
	}
	var errs []apiError
	if offer.SKU == "" || utf8.RuneCountInString(offer.SKU) > maxSKULength {
		errs = append(errs, invalidValue("sku", "The sku is required, with at most 50 characters."))
	}
	if !marketplaceIDPattern.MatchString(offer.MarketplaceID) {
		errs = append(errs, invalidValue("marketplaceId", "The marketplaceId is required, such as EBAY_US."))
	}
	if offer.Format != FormatFixedPrice && offer.Format != FormatAuction {
		errs = append(errs, invalidValue("format", "The format is FIXED_PRICE or AUCTION."))
	}
	if offer.AvailableQuantity < 0 {
		errs = append(errs, invalidValue("availableQuantity", "The quantity must not be negative."))
	}
	if len(errs) > 0 {
		answer(w, http.StatusBadRequest, errorsBody(errs...))
		return
	}

	status, body := func() (int, any) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := caller.inventory[offer.SKU]; !ok {
			return http.StatusBadRequest, errorsBody(inventoryError(25702,
				offer.SKU+" could not be found or is not available in the system.", errorParameter{Name: "text", Value: offer.SKU}))
		}
		for _, existing := range caller.offers {
			if existing.SKU == offer.SKU && existing.MarketplaceID == offer.MarketplaceID && existing.Format == offer.Format {
				return http.StatusBadRequest, errorsBody(inventoryError(25002, "A user error has occurred. Offer entity already exists.",
					errorParameter{Name: "offerId", Value: existing.OfferID}))
			}
		}
		s.lastOfferID++
		offer.OfferID = strconv.FormatInt(5_000_000_000+s.lastOfferID, 10)
		offer.Status = OfferUnpublished
		offer.Listing = nil
		caller.offers = append(caller.offers, &offer)
		s.counters.OffersCreated++
		return http.StatusCreated, offerResponse{OfferID: offer.OfferID}
	}()
	answer(w, status, body)
}

// handleUpdateOffer is updateOffer: the offer's details replaced by the
// body's (EbayOfferDetailsWithId, which has no SKU, marketplace or format:
// those stay). A published offer keeps its listing; eBay would revise it.
func (s *Server) handleUpdateOffer(w http.ResponseWriter, r *http.Request, caller *seller) {
	var update Offer
	if !readWrite(w, r, &update) {
		return
	}
	if update.AvailableQuantity < 0 {
		answer(w, http.StatusBadRequest, errorsBody(invalidValue("availableQuantity", "The quantity must not be negative.")))
		return
	}
	status, body := func() (int, any) {
		s.mu.Lock()
		defer s.mu.Unlock()
		offer := caller.offer(r.PathValue("offerId"))
		if offer == nil {
			return http.StatusNotFound, errorsBody(offerNotAvailable)
		}
		offer.AvailableQuantity = update.AvailableQuantity
		offer.CategoryID = update.CategoryID
		offer.MerchantLocationKey = update.MerchantLocationKey
		offer.ListingDescription = update.ListingDescription
		offer.PricingSummary = update.PricingSummary
		offer.ListingPolicies = update.ListingPolicies
		s.counters.OffersUpdated++
		return http.StatusNoContent, nil
	}()
	answer(w, status, body)
}

// publishResponse is publishOffer's answer (PublishResponse).
type publishResponse struct {
	ListingID string `json:"listingId"`
}

// handlePublishOffer is publishOffer: the offer becomes a listing when it
// and its item have everything a listing needs, and names the seller's
// own location and policies; otherwise it answers 400 with every problem.
// Publishing a published offer revises its listing: the listing id stays.
func (s *Server) handlePublishOffer(w http.ResponseWriter, r *http.Request, caller *seller) {
	status, body := func() (int, any) {
		s.mu.Lock()
		defer s.mu.Unlock()
		offer := caller.offer(r.PathValue("offerId"))
		if offer == nil {
			return http.StatusNotFound, errorsBody(offerNotAvailable)
		}
		if errs := caller.publishProblems(offer); len(errs) > 0 {
			return http.StatusBadRequest, errorsBody(errs...)
		}
		listing := offer.Listing
		if listing == nil {
			s.lastListingID++
			listing = &Listing{ListingID: strconv.FormatInt(110_550_000_000+s.lastListingID, 10), ListingStatus: "ACTIVE"}
			s.counters.ListingsCreated++
		}
		offer.Status, offer.Listing = OfferPublished, listing
		s.counters.Publishes++
		return http.StatusOK, publishResponse{ListingID: listing.ListingID}
	}()
	answer(w, status, body)
}

// offer returns the seller's offer with id, or nil. s.mu is held.
func (c *seller) offer(id string) *Offer {
	for _, offer := range c.offers {
		if offer.OfferID == id {
			return offer
		}
	}
	return nil
}

// publishProblems returns everything that keeps the offer from being
// published, with the error ids eBay's OpenAPI document gives publishOffer:
// 25017 for a missing field, 25003 price, 25004 quantity, 25012 location,
// 25007–25009 the fulfillment, payment and return policies. s.mu is held.
func (c *seller) publishProblems(offer *Offer) []apiError {
	const listingProblem = "The eBay listing associated with the inventory item, or the unpublished offer has "
	var errs []apiError
	if offer.AvailableQuantity <= 0 {
		errs = append(errs, inventoryError(25004, listingProblem+"an invalid quantity. The available quantity must be greater than 0.",
			errorParameter{Name: "text", Value: "availableQuantity"}))
	}
	if offer.CategoryID == "" {
		errs = append(errs, missingField("categoryId"))
	}
	switch {
	case offer.MerchantLocationKey == "":
		errs = append(errs, missingField("merchantLocationKey"))
	case offer.MerchantLocationKey != c.MerchantLocationKey:
		errs = append(errs, inventoryError(25012, fmt.Sprintf("Invalid inventory location. The seller has no location %q.", offer.MerchantLocationKey),
			errorParameter{Name: "text", Value: "merchantLocationKey"}))
	}
	switch price := offer.price(); {
	case price == nil:
		errs = append(errs, missingField("pricingSummary.price"))
	case price.Currency == "":
		errs = append(errs, missingField("pricingSummary.price.currency"))
	default:
		if value, err := strconv.ParseFloat(price.Value, 64); err != nil || !(value > 0) {
			errs = append(errs, inventoryError(25003, fmt.Sprintf(listingProblem+"an invalid price. %q is not a price greater than 0.", price.Value),
				errorParameter{Name: "text", Value: "pricingSummary.price.value"}))
		}
	}
	var policies ListingPolicies
	if offer.ListingPolicies != nil {
		policies = *offer.ListingPolicies
	}
	for _, policy := range []struct {
		errorID         int
		kind, field     string
		named, existing string
	}{
		{25007, "Fulfillment", "fulfillmentPolicyId", policies.FulfillmentPolicyID, c.Policies.Fulfillment},
		{25008, "Payment", "paymentPolicyId", policies.PaymentPolicyID, c.Policies.Payment},
		{25009, "Return", "returnPolicyId", policies.ReturnPolicyID, c.Policies.Return},
	} {
		switch {
		case policy.named == "":
			errs = append(errs, missingField("listingPolicies."+policy.field))
		case policy.named != policy.existing:
			errs = append(errs, inventoryError(policy.errorID,
				fmt.Sprintf(listingProblem+"invalid data in the associated %s policy. The seller has no %s policy %s.",
					policy.kind, policy.kind, policy.named),
				errorParameter{Name: "text", Value: "listingPolicies." + policy.field}))
		}
	}
	item, ok := c.inventory[offer.SKU]
	if !ok {
		return append(errs, inventoryError(25702, offer.SKU+" could not be found or is not available in the system."))
	}
	var product Product
	if item.Product != nil {
		product = *item.Product
	}
	if product.Title == "" {
		errs = append(errs, missingField("product.title"))
	}
	if len(product.ImageURLs) == 0 {
		errs = append(errs, missingField("product.imageUrls"))
	}
	if offer.ListingDescription == "" && product.Description == "" {
		errs = append(errs, missingField("listingDescription"))
	}
	return errs
}

// price is the offer's price, or nil.
func (o *Offer) price() *Amount {
	if o.PricingSummary == nil {
		return nil
	}
	return o.PricingSummary.Price
}
