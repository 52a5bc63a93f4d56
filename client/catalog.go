package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The marketplaces a store connects.
const (
	Shopify = "shopify"
	Akeneo  = "akeneo"
	Amazon  = "amazon"
	Ebay    = "ebay"
)

// Connection is a store's connection to one marketplace. Its credentials
// are never returned.
type Connection struct {
	Marketplace string `json:"marketplace"`
	// State is connected, invalid (Reason says why, since InvalidSince) or
	// not_connected.
	State string `json:"state"`
	// Account is what identifies the account (a shop domain, a seller id,
	// marketplace ids), never a secret.
	Account      map[string]any `json:"account,omitempty"`
	Reason       string         `json:"reason,omitempty"`
	InvalidSince *time.Time     `json:"invalid_since,omitempty"`
	ConnectedAt  *time.Time     `json:"connected_at,omitempty"`
	VerifiedAt   *time.Time     `json:"verified_at,omitempty"`
}

// The API's answers about connections.
type (
	connectionEnvelope struct {
		Connection *Connection `json:"connection"`
	}
	connectionList struct {
		Connections []Connection `json:"connections"`
	}
)

// Connections lists the store's connection to each marketplace; storeID is
// for operators.
func (c *Client) Connections(ctx context.Context, storeID string) ([]Connection, error) {
	var out connectionList
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/marketplace/connections", query: storeQuery(storeID), idempotent: true}, &out)
	return out.Connections, err
}

// Connect saves the store's credentials of a marketplace after the
// marketplace accepted them; credentials are the fields the marketplace
// needs (see the OpenAPI document's ConnectionRequest), such as
// {"shop_domain": "…", "access_token": "…"} for Shopify. A refused
// credential is ErrValidation with the marketplace's reason.
func (c *Client) Connect(ctx context.Context, storeID, marketplace string, credentials any) (*Connection, error) {
	var out connectionEnvelope
	// Saving the same credentials twice saves them once.
	_, err := c.do(ctx, request{
		method: http.MethodPut, path: "/api/marketplace/connections/" + escape(marketplace),
		query: storeQuery(storeID), body: credentials, idempotent: true,
	}, &out)
	return out.Connection, err
}

// Disconnect deletes the store's credentials of a marketplace.
func (c *Client) Disconnect(ctx context.Context, storeID, marketplace string) (*Connection, error) {
	var out connectionEnvelope
	_, err := c.do(ctx, request{
		method: http.MethodDelete, path: "/api/marketplace/connections/" + escape(marketplace),
		query: storeQuery(storeID), idempotent: true,
	}, &out)
	return out.Connection, err
}

// CatalogOptions page a catalog listing.
type CatalogOptions struct {
	StoreID string
	// Source keeps products of one source: shopify or akeneo.
	Source string
	Limit  int
	Cursor string
}

func (o CatalogOptions) query() url.Values {
	q := storeQuery(o.StoreID)
	if o.Source != "" {
		q.Set("source", o.Source)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	return q
}

// Product is a product of the store's catalog, as its import brought it in.
type Product struct {
	ID       string `json:"id"`
	StoreID  string `json:"store_id"`
	Source   string `json:"source"`
	SourceID string `json:"source_id"`
	SKU      string `json:"sku"`
	Title    string `json:"title"`
	// Description is HTML, as the source has it.
	Description string `json:"description,omitempty"`
	Vendor      string `json:"vendor,omitempty"`
	// ProductType is Shopify's product type.
	ProductType string   `json:"product_type,omitempty"`
	Status      string   `json:"status,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	// Family and Parent are Akeneo's.
	Family  string          `json:"family,omitempty"`
	Parent  string          `json:"parent,omitempty"`
	Options []ProductOption `json:"options,omitempty"`
	// Variants are Shopify's.
	Variants []Variant `json:"variants,omitempty"`
	// Prices and Attributes are Akeneo's.
	Prices          []Price                     `json:"prices,omitempty"`
	Attributes      map[string][]AttributeValue `json:"attributes,omitempty"`
	Images          []Image                     `json:"images,omitempty"`
	Collections     []string                    `json:"collections,omitempty"`
	Categories      []string                    `json:"categories,omitempty"`
	SourceUpdatedAt string                      `json:"source_updated_at,omitempty"`
	ContentHash     string                      `json:"content_hash"`
	ImportedAt      *time.Time                  `json:"imported_at,omitempty"`
}

// ProductOption is an option a product's variants differ in.
type ProductOption struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Variant is one variant of a Shopify product.
type Variant struct {
	SourceID          string            `json:"source_id"`
	SKU               string            `json:"sku,omitempty"`
	Title             string            `json:"title,omitempty"`
	Price             string            `json:"price,omitempty"`
	CompareAtPrice    string            `json:"compare_at_price,omitempty"`
	Currency          string            `json:"currency,omitempty"`
	Barcode           string            `json:"barcode,omitempty"`
	InventoryQuantity int               `json:"inventory_quantity"`
	Position          int               `json:"position,omitempty"`
	Options           map[string]string `json:"options,omitempty"`
	ImageURL          string            `json:"image_url,omitempty"`
}

// Price is an amount in a currency.
type Price struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// AttributeValue is one value of an Akeneo attribute, per locale and
// channel (scope).
type AttributeValue struct {
	Locale string          `json:"locale,omitempty"`
	Scope  string          `json:"scope,omitempty"`
	Data   json.RawMessage `json:"data"`
}

// Image is a product image; Key is set once it is stored (see ImageURL).
type Image struct {
	SourceURL   string `json:"source_url"`
	Alt         string `json:"alt,omitempty"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Key         string `json:"key,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// Listing is a product's listing on a marketplace, as its last export left
// it.
type Listing struct {
	Marketplace string `json:"marketplace"`
	ProductID   string `json:"product_id"`
	SKU         string `json:"sku"`
	// Status is listed, invalid or failed.
	Status       string         `json:"status"`
	ExportHash   string         `json:"export_hash"`
	ProductHash  string         `json:"product_hash"`
	AIOptimized  bool           `json:"ai_optimized"`
	Title        string         `json:"title,omitempty"`
	ASIN         string         `json:"asin,omitempty"`
	SubmissionID string         `json:"submission_id,omitempty"`
	OfferID      string         `json:"offer_id,omitempty"`
	ListingID    string         `json:"listing_id,omitempty"`
	Issues       []ListingIssue `json:"issues,omitempty"`
	JobID        string         `json:"job_id"`
	ExportedAt   time.Time      `json:"exported_at"`
}

// ListingIssue is a problem the export or the marketplace found with a
// product.
type ListingIssue struct {
	Field    string `json:"field,omitempty"`
	Code     string `json:"code,omitempty"`
	Severity string `json:"severity,omitempty"`
	Message  string `json:"message"`
	// Source is the export's own checks, amazon or ebay.
	Source string `json:"source"`
}

// ProductPage is one page of products.
type ProductPage struct {
	Products   []Product `json:"products"`
	NextCursor string    `json:"next_cursor"`
}

// ProductsPage reads one page of the catalog's products.
func (c *Client) ProductsPage(ctx context.Context, opts CatalogOptions) (*ProductPage, error) {
	var out ProductPage
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/catalog/products", query: opts.query(), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Products yields every product of the catalog (see List).
func (c *Client) Products(ctx context.Context, opts CatalogOptions) iter.Seq2[Product, error] {
	return pages(ctx, opts.Cursor, func(cursor string) ([]Product, string, error) {
		opts.Cursor = cursor
		page, err := c.ProductsPage(ctx, opts)
		if err != nil {
			return nil, "", err
		}
		return page.Products, page.NextCursor, nil
	})
}

type productEnvelope struct {
	Product  *Product  `json:"product"`
	Listings []Listing `json:"listings"`
}

// Product reads one product with its listing on each marketplace it was
// exported to.
func (c *Client) Product(ctx context.Context, storeID, id string) (*Product, []Listing, error) {
	var out productEnvelope
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/catalog/products/" + escape(id), query: storeQuery(storeID), idempotent: true}, &out)
	return out.Product, out.Listings, err
}

// Collection is a Shopify collection.
type Collection struct {
	ID          string           `json:"id"`
	StoreID     string           `json:"store_id"`
	Source      string           `json:"source"`
	SourceID    string           `json:"source_id"`
	Handle      string           `json:"handle"`
	Title       string           `json:"title"`
	Description string           `json:"description,omitempty"`
	Smart       bool             `json:"smart"`
	Rules       []CollectionRule `json:"rules,omitempty"`
	Disjunctive bool             `json:"disjunctive,omitempty"`
	SortOrder   string           `json:"sort_order,omitempty"`
	ImageURL    string           `json:"image_url,omitempty"`
	// ProductsCount is how many products Shopify says it has.
	ProductsCount   int        `json:"products_count"`
	SourceUpdatedAt string     `json:"source_updated_at,omitempty"`
	ContentHash     string     `json:"content_hash"`
	ImportedAt      *time.Time `json:"imported_at,omitempty"`
}

// CollectionRule is one rule of a smart collection.
type CollectionRule struct {
	Column    string `json:"column"`
	Relation  string `json:"relation"`
	Condition string `json:"condition"`
}

// CollectionPage is one page of collections.
type CollectionPage struct {
	Collections []Collection `json:"collections"`
	NextCursor  string       `json:"next_cursor"`
}

// Collections yields every collection of the catalog (see List).
func (c *Client) Collections(ctx context.Context, opts CatalogOptions) iter.Seq2[Collection, error] {
	return pages(ctx, opts.Cursor, func(cursor string) ([]Collection, string, error) {
		opts.Cursor = cursor
		var out CollectionPage
		_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/catalog/collections", query: opts.query(), idempotent: true}, &out)
		return out.Collections, out.NextCursor, err
	})
}

// Category is an Akeneo category.
type Category struct {
	ID       string `json:"id"`
	StoreID  string `json:"store_id"`
	Source   string `json:"source"`
	Code     string `json:"code"`
	Parent   string `json:"parent,omitempty"`
	Position int    `json:"position,omitempty"`
	// Labels are the category's names by locale.
	Labels          map[string]string `json:"labels,omitempty"`
	SourceUpdatedAt string            `json:"source_updated_at,omitempty"`
	ContentHash     string            `json:"content_hash"`
	ImportedAt      *time.Time        `json:"imported_at,omitempty"`
}

// CategoryPage is one page of categories.
type CategoryPage struct {
	Categories []Category `json:"categories"`
	NextCursor string     `json:"next_cursor"`
}

// Categories yields every category of the catalog (see List).
func (c *Client) Categories(ctx context.Context, opts CatalogOptions) iter.Seq2[Category, error] {
	return pages(ctx, opts.Cursor, func(cursor string) ([]Category, string, error) {
		opts.Cursor = cursor
		var out CategoryPage
		_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/catalog/categories", query: opts.query(), idempotent: true}, &out)
		return out.Categories, out.NextCursor, err
	})
}

// ImageURL is a short-lived link to a stored product image.
type ImageURL struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ImageURL signs a link to a product image by its Image.Key.
func (c *Client) ImageURL(ctx context.Context, storeID, key string) (*ImageURL, error) {
	segments := strings.Split(key, "/")
	for i, s := range segments {
		segments[i] = escape(s)
	}
	var out ImageURL
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/catalog/images/" + strings.Join(segments, "/"), query: storeQuery(storeID), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Credits are the store's AI credits.
type Credits struct {
	StoreID string `json:"store_id"`
	Balance int64  `json:"balance"`
	// CreditsPerProduct is what an export's AI optimization costs per
	// product.
	CreditsPerProduct int64 `json:"credits_per_product"`
}

// Credits reads the store's AI credit balance.
func (c *Client) Credits(ctx context.Context, storeID string) (*Credits, error) {
	var out Credits
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/credits", query: storeQuery(storeID), idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UILabel is one UI label of the store in one language.
type UILabel struct {
	Key  string `json:"key"`
	Text string `json:"text,omitempty"`
	// SourceHash is the hash of the source text a translation was made
	// from.
	SourceHash string `json:"source_hash,omitempty"`
	// Missing: no text in this language; Stale: the source text changed
	// since this translation.
	Missing bool `json:"missing"`
	Stale   bool `json:"stale"`
	// Origin is source, translated or corrected.
	Origin    string     `json:"origin,omitempty"`
	JobID     string     `json:"job_id,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// UILabelPage is one page of the store's UI labels in a language.
type UILabelPage struct {
	StoreID         string    `json:"store_id"`
	Language        string    `json:"language"`
	DefaultLanguage string    `json:"default_language"`
	Labels          []UILabel `json:"labels"`
	NextCursor      string    `json:"next_cursor"`
}

// UILabelsOptions choose the labels.
type UILabelsOptions struct {
	StoreID string
	// Language is the language read (the store's default language when
	// empty).
	Language string
	Limit    int
	Cursor   string
}

// UILabels reads a page of the store's UI labels.
func (c *Client) UILabels(ctx context.Context, opts UILabelsOptions) (*UILabelPage, error) {
	q := storeQuery(opts.StoreID)
	if opts.Language != "" {
		q.Set("language", opts.Language)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	if opts.Cursor != "" {
		q.Set("cursor", opts.Cursor)
	}
	var out UILabelPage
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/api/catalog/ui-labels", query: q, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// UILabelText is a label's text to write.
type UILabelText struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

type uiLabelsRequest struct {
	Labels []UILabelText `json:"labels"`
}

// UILabelsWritten says how many labels a write stored.
type UILabelsWritten struct {
	StoreID         string `json:"store_id"`
	Language        string `json:"language"`
	DefaultLanguage string `json:"default_language"`
	Written         int    `json:"written"`
}

// PutUILabels writes up to 1,000 labels in language: in the store's
// default language they are the source texts; in another, corrections of
// the translations.
func (c *Client) PutUILabels(ctx context.Context, storeID, language string, labels []UILabelText) (*UILabelsWritten, error) {
	q := storeQuery(storeID)
	q.Set("language", language)
	body := uiLabelsRequest{labels}
	var out UILabelsWritten
	// Writing the same texts twice writes them once.
	_, err := c.do(ctx, request{method: http.MethodPut, path: "/api/catalog/ui-labels", query: q, body: body, idempotent: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
