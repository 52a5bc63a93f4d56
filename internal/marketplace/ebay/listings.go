package ebay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// MaxBulkItems is how many inventory items one
// bulkCreateOrReplaceInventoryItem call takes.
const MaxBulkItems = 25

// FormatFixedPrice is the listing format of the offers the client reads and
// writes when an Offer names none.
const FormatFixedPrice = "FIXED_PRICE"

// Offer states.
const (
	OfferUnpublished = "UNPUBLISHED"
	OfferPublished   = "PUBLISHED"
)

// errorIDOfferNotAvailable is eBay's answer (404) to getOffers for a SKU
// without offers, and to an unknown offer id.
const errorIDOfferNotAvailable = 25713

// InventoryItem is an inventory item as bulkCreateOrReplaceInventoryItem
// takes it (InventoryItemWithSkuLocale), with the fields a store's export
// fills. eBay replaces the whole item: a field left empty is removed.
type InventoryItem struct {
	SKU string `json:"sku"`
	// Locale is the item's language, en_US; empty means the credentials'
	// content language.
	Locale       string        `json:"locale"`
	Condition    string        `json:"condition,omitempty"` // NEW, USED_EXCELLENT, … (ConditionEnum)
	Availability *Availability `json:"availability,omitempty"`
	Product      *Product      `json:"product,omitempty"`
}

// Availability is the quantity an item can be sold in.
type Availability struct {
	ShipToLocationAvailability ShipToLocationAvailability `json:"shipToLocationAvailability"`
}

// ShipToLocationAvailability is the quantity available to ship to buyers.
type ShipToLocationAvailability struct {
	Quantity int `json:"quantity"`
}

// Product is an inventory item's product details. eBay takes a title of
// up to 80 characters, a description of up to 4,000, aspect values of up to
// 65, and needs an image to publish.
type Product struct {
	Title       string              `json:"title,omitempty"`
	Description string              `json:"description,omitempty"`
	Aspects     map[string][]string `json:"aspects,omitempty"`
	Brand       string              `json:"brand,omitempty"`
	MPN         string              `json:"mpn,omitempty"`
	EAN         []string            `json:"ean,omitempty"`
	UPC         []string            `json:"upc,omitempty"`
	ImageURLs   []string            `json:"imageUrls,omitempty"`
}

// ItemResult is eBay's answer for one item of a bulk write: 200 replaced,
// 201 created, 400 refused with its errors.
type ItemResult struct {
	SKU        string    `json:"sku"`
	StatusCode int       `json:"statusCode"`
	Errors     []Problem `json:"errors,omitempty"`
	Warnings   []Problem `json:"warnings,omitempty"`
}

// Failed reports whether eBay refused the item.
func (r ItemResult) Failed() bool { return r.StatusCode < 200 || r.StatusCode > 299 }

// Reason is eBay's words for a refused item.
func (r ItemResult) Reason() string {
	if reason := problemsReason(r.Errors); reason != "" {
		return reason
	}
	return fmt.Sprintf("HTTP %d", r.StatusCode)
}

// BulkCreateOrReplaceInventoryItems writes up to MaxBulkItems items in one
// call and returns eBay's answer for each: eBay answers 200 when it stored
// every item and 207 otherwise, and both come back as results, the refused
// items with eBay's errors. Only a refusal of the whole call is an error.
func (c *Client) BulkCreateOrReplaceInventoryItems(ctx context.Context, items []InventoryItem) ([]ItemResult, error) {
	if len(items) == 0 {
		return nil, nil
	}
	if len(items) > MaxBulkItems {
		return nil, fmt.Errorf("ebay bulk inventory items: %d items, but a call takes at most %d", len(items), MaxBulkItems)
	}
	requests := make([]InventoryItem, len(items))
	for i, item := range items {
		if item.Locale == "" {
			item.Locale = c.locale()
		}
		requests[i] = item
	}
	var answer struct {
		Responses []ItemResult `json:"responses"`
	}
	body := struct {
		Requests []InventoryItem `json:"requests"`
	}{requests}
	if err := c.call(ctx, http.MethodPost, "/sell/inventory/v1/bulk_create_or_replace_inventory_item", nil, body, &answer); err != nil {
		return nil, fmt.Errorf("ebay bulk inventory items: %w", err)
	}
	return answer.Responses, nil
}

// locale is the credentials' content language as an inventory item's
// locale: en-US becomes en_US.
func (c *Client) locale() string { return strings.Replace(c.creds.ContentLanguage, "-", "_", 1) }

// Price is a sum of money: a decimal string ("9.99") and an ISO 4217 code.
type Price struct {
	Value    string `json:"value"`
	Currency string `json:"currency"`
}

// ListingPolicies are the seller's business policies an offer lists under.
type ListingPolicies struct {
	FulfillmentPolicyID string `json:"fulfillmentPolicyId,omitempty"`
	PaymentPolicyID     string `json:"paymentPolicyId,omitempty"`
	ReturnPolicyID      string `json:"returnPolicyId,omitempty"`
}

// Offer is an offer of an inventory item on one eBay marketplace. To be
// published it needs a quantity above 0, a category, the seller's
// location, a price and the three policies.
type Offer struct {
	OfferID string // eBay's, read only
	SKU     string
	// MarketplaceID and Format, when empty, are the credentials'
	// marketplace and FormatFixedPrice.
	MarketplaceID       string
	Format              string
	AvailableQuantity   int
	CategoryID          string
	MerchantLocationKey string
	ListingDescription  string
	Price               Price
	Policies            ListingPolicies
	Status              string // OfferUnpublished or OfferPublished, read only
	ListingID           string // the listing of a published offer, read only
}

// offerDetails is Offer on the wire: EbayOfferDetailsWithKeys to create,
// EbayOfferDetailsWithId (without the keys) to update, and
// EbayOfferDetailsWithAll read.
type offerDetails struct {
	OfferID             string           `json:"offerId,omitempty"`
	SKU                 string           `json:"sku,omitempty"`
	MarketplaceID       string           `json:"marketplaceId,omitempty"`
	Format              string           `json:"format,omitempty"`
	AvailableQuantity   int              `json:"availableQuantity"`
	CategoryID          string           `json:"categoryId,omitempty"`
	MerchantLocationKey string           `json:"merchantLocationKey,omitempty"`
	ListingDescription  string           `json:"listingDescription,omitempty"`
	PricingSummary      *pricingSummary  `json:"pricingSummary,omitempty"`
	ListingPolicies     *ListingPolicies `json:"listingPolicies,omitempty"`
	Status              string           `json:"status,omitempty"`
	Listing             *listingDetails  `json:"listing,omitempty"`
}

type pricingSummary struct {
	Price *Price `json:"price,omitempty"`
}

type listingDetails struct {
	ListingID string `json:"listingId"`
}

// details is the offer as createOffer (withKeys) or updateOffer takes it.
func (c *Client) details(o Offer, withKeys bool) offerDetails {
	d := offerDetails{
		AvailableQuantity:   o.AvailableQuantity,
		CategoryID:          o.CategoryID,
		MerchantLocationKey: o.MerchantLocationKey,
		ListingDescription:  o.ListingDescription,
	}
	if withKeys {
		d.SKU, d.MarketplaceID, d.Format = o.SKU, c.marketplaceOf(o), formatOf(o)
	}
	if o.Price != (Price{}) {
		d.PricingSummary = &pricingSummary{Price: &o.Price}
	}
	if o.Policies != (ListingPolicies{}) {
		d.ListingPolicies = &o.Policies
	}
	return d
}

func (d offerDetails) offer() Offer {
	o := Offer{
		OfferID:             d.OfferID,
		SKU:                 d.SKU,
		MarketplaceID:       d.MarketplaceID,
		Format:              d.Format,
		AvailableQuantity:   d.AvailableQuantity,
		CategoryID:          d.CategoryID,
		MerchantLocationKey: d.MerchantLocationKey,
		ListingDescription:  d.ListingDescription,
		Status:              d.Status,
	}
	if d.PricingSummary != nil && d.PricingSummary.Price != nil {
		o.Price = *d.PricingSummary.Price
	}
	if d.ListingPolicies != nil {
		o.Policies = *d.ListingPolicies
	}
	if d.Listing != nil {
		o.ListingID = d.Listing.ListingID
	}
	return o
}

func (c *Client) marketplaceOf(o Offer) string {
	if o.MarketplaceID != "" {
		return o.MarketplaceID
	}
	return c.creds.MarketplaceID
}

func formatOf(o Offer) string {
	if o.Format != "" {
		return o.Format
	}
	return FormatFixedPrice
}

// MarketplaceID is the eBay site the client's offers are for, from the
// credentials.
func (c *Client) MarketplaceID() string { return c.creds.MarketplaceID }

// OffersBySKU returns the seller's fixed-price offers of sku on the
// credentials' marketplace: none or one, as eBay allows one offer per SKU,
// marketplace and format. eBay answers "none" with 404 errorId 25713, which
// comes back as an empty list.
func (c *Client) OffersBySKU(ctx context.Context, sku string) ([]Offer, error) {
	query := url.Values{"sku": {sku}, "marketplace_id": {c.creds.MarketplaceID}, "format": {FormatFixedPrice}}
	var page struct {
		Offers []offerDetails `json:"offers"`
	}
	err := c.call(ctx, http.MethodGet, "/sell/inventory/v1/offer", query, nil, &page)
	var refused *refusal
	if errors.As(err, &refused) && refused.has(errorIDOfferNotAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ebay offers of %s: %w", sku, err)
	}
	offers := make([]Offer, 0, len(page.Offers))
	for _, d := range page.Offers {
		offers = append(offers, d.offer())
	}
	return offers, nil
}

// CreateOffer creates an unpublished offer of o.SKU, whose inventory item
// must exist, and returns its id. A second offer of the same SKU,
// marketplace and format is refused (*marketplace.PermanentError): look it
// up with OffersBySKU and update it instead.
func (c *Client) CreateOffer(ctx context.Context, o Offer) (string, error) {
	var answer struct {
		OfferID string `json:"offerId"`
	}
	if err := c.call(ctx, http.MethodPost, "/sell/inventory/v1/offer", nil, c.details(o, true), &answer); err != nil {
		return "", fmt.Errorf("ebay create offer of %s: %w", o.SKU, err)
	}
	if answer.OfferID == "" {
		return "", fmt.Errorf("ebay create offer of %s: answer without offerId", o.SKU)
	}
	return answer.OfferID, nil
}

// UpdateOffer replaces the details of offer offerID with o's; its SKU,
// marketplace and format stay. The listing of a published offer is revised
// at once.
func (c *Client) UpdateOffer(ctx context.Context, offerID string, o Offer) error {
	if offerID == "" {
		return errors.New("ebay update offer: no offer id")
	}
	if err := c.call(ctx, http.MethodPut, "/sell/inventory/v1/offer/"+url.PathEscape(offerID), nil, c.details(o, false), nil); err != nil {
		return fmt.Errorf("ebay update offer %s: %w", offerID, err)
	}
	return nil
}

// PublishOffer lists offer offerID and returns the listing's id. Publishing
// a published offer revises its listing, whose id stays. An offer eBay
// cannot list is a *marketplace.PermanentError with eBay's words for every
// problem.
func (c *Client) PublishOffer(ctx context.Context, offerID string) (string, error) {
	if offerID == "" {
		return "", errors.New("ebay publish offer: no offer id")
	}
	var answer struct {
		ListingID string `json:"listingId"`
	}
	// The path as eBay's OpenAPI document spells it, with a trailing slash.
	if err := c.call(ctx, http.MethodPost, "/sell/inventory/v1/offer/"+url.PathEscape(offerID)+"/publish/", nil, nil, &answer); err != nil {
		return "", fmt.Errorf("ebay publish offer %s: %w", offerID, err)
	}
	if answer.ListingID == "" {
		return "", fmt.Errorf("ebay publish offer %s: answer without listingId", offerID)
	}
	return answer.ListingID, nil
}
