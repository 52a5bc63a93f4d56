// Package catalog is the store's catalog that the imports fill and the
// exports read: products with their variants, prices, attributes and
// images, Shopify's collections and Akeneo's categories. Each item is keyed
// by its source and the id it has there, so a re-import updates it and never
// duplicates it, and carries a hash of its content, so an unchanged item
// costs no write.
package catalog

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
)

// Sources of catalog items.
const (
	SourceShopify = "shopify"
	SourceAkeneo  = "akeneo"
)

// Product is one product of a store's catalog.
type Product struct {
	// ID is the catalog's id: the source and the source's id, made safe for
	// a URL path (see ItemID).
	ID       string `json:"id"`
	StoreID  string `json:"store_id"`
	Source   string `json:"source"`
	SourceID string `json:"source_id"`
	// SKU is the product's identifier for the marketplaces: Akeneo's
	// identifier, or the first Shopify variant's SKU.
	SKU         string    `json:"sku"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"` // HTML as the source has it
	Vendor      string    `json:"vendor,omitempty"`
	ProductType string    `json:"product_type,omitempty"`
	Status      string    `json:"status,omitempty"` // ACTIVE, DRAFT, ARCHIVED (Shopify); enabled/disabled (Akeneo)
	Tags        []string  `json:"tags,omitempty"`
	Family      string    `json:"family,omitempty"` // Akeneo
	Parent      string    `json:"parent,omitempty"` // Akeneo's product model
	Options     []Option  `json:"options,omitempty"`
	Variants    []Variant `json:"variants,omitempty"`
	Prices      []Price   `json:"prices,omitempty"`
	// Attributes are the source's attribute values by code, each with its
	// locale and scope (Akeneo's values as they are).
	Attributes  map[string][]AttributeValue `json:"attributes,omitempty"`
	Images      []Image                     `json:"images,omitempty"`
	Collections []string                    `json:"collections,omitempty"` // Shopify collection ids (catalog ids)
	Categories  []string                    `json:"categories,omitempty"`  // Akeneo category codes
	// SourceUpdatedAt is when the source last changed the product.
	SourceUpdatedAt string `json:"source_updated_at,omitempty"`
	// ContentHash is the hash of everything above but the images' storage
	// fields: two imports of the same source content have the same hash.
	ContentHash string `json:"content_hash"`
	ImportedAt  string `json:"imported_at,omitempty"`
}

// Option is a product option and its values (Size: S, M, L).
type Option struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Variant is one purchasable variant of a product.
type Variant struct {
	SourceID          string            `json:"source_id"`
	SKU               string            `json:"sku,omitempty"`
	Title             string            `json:"title,omitempty"`
	Price             string            `json:"price,omitempty"` // a decimal string, as the source gives it
	CompareAtPrice    string            `json:"compare_at_price,omitempty"`
	Currency          string            `json:"currency,omitempty"`
	Barcode           string            `json:"barcode,omitempty"`
	InventoryQuantity int               `json:"inventory_quantity"`
	Position          int               `json:"position,omitempty"`
	Options           map[string]string `json:"options,omitempty"`
	ImageURL          string            `json:"image_url,omitempty"`
}

// Price is an amount in a currency (Akeneo's price collections).
type Price struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// AttributeValue is one value of an attribute for a locale and a scope
// (either may be empty: the value applies to all).
type AttributeValue struct {
	Locale string          `json:"locale,omitempty"`
	Scope  string          `json:"scope,omitempty"`
	Data   json.RawMessage `json:"data"`
}

// Image is a product image: where the source has it, and where the catalog
// stored it.
type Image struct {
	SourceURL string `json:"source_url"`
	Alt       string `json:"alt,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	// Set once the image is stored: the S3 key (content-addressed), the
	// content's SHA-256, its type and size.
	Key         string `json:"key,omitempty"`
	SHA256      string `json:"sha256,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// Collection is a Shopify collection.
type Collection struct {
	ID          string `json:"id"`
	StoreID     string `json:"store_id"`
	Source      string `json:"source"`
	SourceID    string `json:"source_id"`
	Handle      string `json:"handle"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// Smart collections select products by rules; custom ones list them.
	Smart           bool   `json:"smart"`
	Rules           []Rule `json:"rules,omitempty"`
	Disjunctive     bool   `json:"disjunctive,omitempty"`
	SortOrder       string `json:"sort_order,omitempty"`
	ImageURL        string `json:"image_url,omitempty"`
	ProductsCount   int    `json:"products_count"`
	SourceUpdatedAt string `json:"source_updated_at,omitempty"`
	ContentHash     string `json:"content_hash"`
	ImportedAt      string `json:"imported_at,omitempty"`
}

// Rule is one rule of a smart collection.
type Rule struct {
	Column    string `json:"column"`
	Relation  string `json:"relation"`
	Condition string `json:"condition"`
}

// Category is an Akeneo category, a node of the category tree.
type Category struct {
	ID       string `json:"id"`
	StoreID  string `json:"store_id"`
	Source   string `json:"source"`
	Code     string `json:"code"`
	Parent   string `json:"parent,omitempty"` // the parent's code; empty for a root
	Position int    `json:"position,omitempty"`
	// Labels by locale.
	Labels          map[string]string `json:"labels,omitempty"`
	SourceUpdatedAt string            `json:"source_updated_at,omitempty"`
	ContentHash     string            `json:"content_hash"`
	ImportedAt      string            `json:"imported_at,omitempty"`
}

// MaxDocBytes is the largest item document the catalog stores: DynamoDB
// refuses items over 400 KB, and the item's other attributes and the
// import's additions (stored images) need room.
const MaxDocBytes = 360 << 10

// DocSize is the size of the document an item is stored as.
func DocSize(doc any) int {
	data, err := json.Marshal(doc)
	if err != nil {
		return 0 // Put reports it
	}
	return len(data)
}

// ItemID is the catalog id of a source's item: "shopify-8123456789" for
// gid://shopify/Product/8123456789, "akeneo-<uuid or code>" for Akeneo.
// Only letters, digits, '-', '_' and '.' survive, so the id is safe in a
// path.
func ItemID(source, sourceID string) string {
	if i := strings.LastIndexByte(sourceID, '/'); i >= 0 && strings.HasPrefix(sourceID, "gid://") {
		sourceID = sourceID[i+1:]
	}
	var b strings.Builder
	b.WriteString(source)
	b.WriteByte('-')
	for _, r := range sourceID {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// hashOf is the SHA-256 of v's JSON, which encoding/json writes with sorted
// map keys, so equal content always has the same hash.
func hashOf(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic("catalog: hashing an item that cannot be encoded: " + err.Error())
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Hash returns the product's content hash: everything the source said,
// without what the catalog adds (its stored images, the hash itself and the
// import time).
func (p Product) Hash() string {
	p.ContentHash, p.ImportedAt = "", ""
	images := make([]Image, len(p.Images))
	for i, img := range p.Images {
		images[i] = Image{SourceURL: img.SourceURL, Alt: img.Alt, Width: img.Width, Height: img.Height}
	}
	p.Images = images
	return hashOf(p)
}

// Hash returns the collection's content hash.
func (c Collection) Hash() string {
	c.ContentHash, c.ImportedAt = "", ""
	return hashOf(c)
}

// Hash returns the category's content hash.
func (c Category) Hash() string {
	c.ContentHash, c.ImportedAt = "", ""
	return hashOf(c)
}
