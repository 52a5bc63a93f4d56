package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// kindListing is a product's listing on a marketplace: LISTING#<marketplace>#<product id>.
const kindListing = "LISTING#"

// Listing states, as the last export of the product left it.
const (
	// ListingListed: the marketplace accepted the product (Amazon's
	// ACCEPTED, eBay's published offer).
	ListingListed = "listed"
	// ListingInvalid: the product's data was refused, by the export's own
	// checks or by the marketplace; Issues say what to fix.
	ListingInvalid = "invalid"
	// ListingFailed: the product could not be sent for another reason (its
	// text could not be written); Issues say why.
	ListingFailed = "failed"
)

// Listing is what the catalog remembers of a product's last export to a
// marketplace: what was sent (by hash), and what the marketplace made of
// it. An export skips a product whose listing is listed with the hash it
// would send again.
type Listing struct {
	Marketplace string `json:"marketplace"`
	ProductID   string `json:"product_id"`
	SKU         string `json:"sku"`
	Status      string `json:"status"`
	// ExportHash is the hash of what was sent: the product's content and the
	// export's settings (AI optimization on or off).
	ExportHash  string `json:"export_hash"`
	ProductHash string `json:"product_hash"`
	AIOptimized bool   `json:"ai_optimized"`
	// Title is the title the marketplace got (the AI's, when optimized).
	Title string `json:"title,omitempty"`
	// The marketplace's ids: Amazon's ASIN and submission, eBay's offer and
	// listing.
	ASIN         string `json:"asin,omitempty"`
	SubmissionID string `json:"submission_id,omitempty"`
	OfferID      string `json:"offer_id,omitempty"`
	ListingID    string `json:"listing_id,omitempty"`
	// Issues are what the export's checks or the marketplace said: errors
	// when the listing is invalid, warnings when it is listed.
	Issues     []ListingIssue `json:"issues,omitempty"`
	JobID      string         `json:"job_id"`
	ExportedAt string         `json:"exported_at"`
}

// ListingIssue is one thing wrong (or worth a warning) with a product on a
// marketplace.
type ListingIssue struct {
	// Field is the product's field (sku, title, price, images, brand) or the
	// marketplace's attribute it concerns.
	Field    string `json:"field,omitempty"`
	Code     string `json:"code,omitempty"`
	Severity string `json:"severity,omitempty"` // ERROR or WARNING
	Message  string `json:"message"`
	// Source says who raised it: "export" (the job's checks) or the marketplace.
	Source string `json:"source"`
}

func listingSortKey(marketplace, productID string) string {
	return kindListing + marketplace + "#" + productID
}

// Listings reads the listings of the given products on a marketplace, keyed
// by product id; products never exported are absent.
func (s *Store) Listings(ctx context.Context, storeID, marketplace string, productIDs []string) (map[string]Listing, error) {
	keys := make([]string, len(productIDs))
	for i, id := range productIDs {
		keys[i] = listingSortKey(marketplace, id)
	}
	listings, err := s.readListings(ctx, storeID, keys)
	if err != nil {
		return nil, err
	}
	found := make(map[string]Listing, len(listings))
	for _, l := range listings {
		found[l.ProductID] = l
	}
	return found, nil
}

// ProductListings reads a product's listings on the given marketplaces, in
// no particular order.
func (s *Store) ProductListings(ctx context.Context, storeID, productID string, marketplaces []string) ([]Listing, error) {
	keys := make([]string, len(marketplaces))
	for i, m := range marketplaces {
		keys[i] = listingSortKey(m, productID)
	}
	return s.readListings(ctx, storeID, keys)
}

func (s *Store) readListings(ctx context.Context, storeID string, sortKeys []string) ([]Listing, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, sk := range sortKeys {
		if seen[sk] {
			continue // BatchGetItem refuses a key twice
		}
		seen[sk] = true
		keys = append(keys, key(storeID, sk))
	}
	if len(keys) == 0 {
		return nil, nil
	}
	items, err := s.batchGet(ctx, keys, "doc")
	if err != nil {
		return nil, err
	}
	listings := make([]Listing, 0, len(items))
	for _, item := range items {
		var l Listing
		if err := json.Unmarshal([]byte(str(item["doc"])), &l); err != nil {
			return nil, fmt.Errorf("catalog: decode listing: %w", err)
		}
		listings = append(listings, l)
	}
	return listings, nil
}

// PutListing records a product's listing as an export left it, the moment
// the marketplace answered: a crash after it sends nothing again.
func (s *Store) PutListing(ctx context.Context, storeID string, l Listing) error {
	doc, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("catalog: encode listing: %w", err)
	}
	item := key(storeID, listingSortKey(l.Marketplace, l.ProductID))
	item["doc"] = &types.AttributeValueMemberS{Value: string(doc)}
	item["content_hash"] = &types.AttributeValueMemberS{Value: l.ExportHash}
	item["updated_at"] = &types.AttributeValueMemberS{Value: l.ExportedAt}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("catalog: record listing of %s on %s: %w", l.ProductID, l.Marketplace, err)
	}
	return nil
}

// Products reads the given products, keyed by id; ids the store does not
// have are absent.
func (s *Store) Products(ctx context.Context, storeID string, ids []string) (map[string]Product, error) {
	var keys []map[string]types.AttributeValue
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		keys = append(keys, key(storeID, KindProduct+id))
	}
	found := make(map[string]Product, len(keys))
	if len(keys) == 0 {
		return found, nil
	}
	items, err := s.batchGet(ctx, keys, "doc")
	if err != nil {
		return nil, err
	}
	for _, item := range items {
		var p Product
		if err := json.Unmarshal([]byte(str(item["doc"])), &p); err != nil {
			return nil, fmt.Errorf("catalog: decode product: %w", err)
		}
		found[p.ID] = p
	}
	return found, nil
}

// CursorAfter is the List cursor that continues after the item id of kind:
// an export resumes its walk through the catalog after the last product it
// finished.
func CursorAfter(kind, id string) string {
	if id == "" {
		return ""
	}
	return encodeCursor(kind + id)
}
