package catalog

import (
	"encoding/json"
	"testing"
)

func TestItemIDsAreSafeInAPathAndStable(t *testing.T) {
	for _, tt := range []struct{ source, id, want string }{
		{"shopify", "gid://shopify/Product/8123456789", "shopify-8123456789"},
		{"akeneo", "0b7bd1e5-0f7c-4a5c-9d4e-3b2c1a0f9e8d", "akeneo-0b7bd1e5-0f7c-4a5c-9d4e-3b2c1a0f9e8d"},
		{"akeneo", "winter/coats ä", "akeneo-winter_coats__"},
	} {
		if got := ItemID(tt.source, tt.id); got != tt.want {
			t.Errorf("ItemID(%q, %q) = %q, want %q", tt.source, tt.id, got, tt.want)
		}
	}
}

// The hash covers what the source said and nothing the catalog adds: a
// product whose images were stored, or imported again later, hashes the same.
func TestTheContentHashIgnoresWhatTheCatalogAdds(t *testing.T) {
	p := Product{Source: SourceShopify, SourceID: "gid://shopify/Product/1", SKU: "A-1", Title: "Tee",
		Attributes: map[string][]AttributeValue{"name": {{Locale: "en_US", Data: json.RawMessage(`"Tee"`)}}},
		Images:     []Image{{SourceURL: "https://cdn/a.png?v=1", Alt: "front"}}}
	stored := p
	stored.Images = []Image{{SourceURL: "https://cdn/a.png?v=1", Alt: "front", Key: "stores/s/images/x.png", SHA256: "x", ContentType: "image/png", Size: 10}}
	stored.ImportedAt = "2026-11-30T10:00:00Z"
	if p.Hash() != stored.Hash() {
		t.Error("storing the images or the import time changed the hash")
	}
	changed := p
	changed.Images = []Image{{SourceURL: "https://cdn/a.png?v=2", Alt: "front"}}
	if p.Hash() == changed.Hash() {
		t.Error("a new image version did not change the hash")
	}
	renamed := p
	renamed.Title = "Tee, renamed"
	if p.Hash() == renamed.Hash() {
		t.Error("a new title did not change the hash")
	}
}

// A product whose document DynamoDB would refuse is found before it is written.
func TestDocSizeFindsProductsTooLargeToStore(t *testing.T) {
	p := Product{SKU: "BIG", Title: "A product with every colour and size"}
	if DocSize(p) > MaxDocBytes {
		t.Fatal("a small product is too large")
	}
	for i := range 3000 {
		p.Variants = append(p.Variants, Variant{SourceID: "gid://shopify/ProductVariant/" + string(rune('a'+i%26)), SKU: "BIG-VARIANT-WITH-A-LONG-CODE",
			Title: "Extra long colour name / Extra long size name", Price: "129.99", Options: map[string]string{"Color": "Extra long colour name", "Size": "XXL"}})
	}
	if DocSize(p) <= MaxDocBytes {
		t.Fatalf("3,000 variants make %d bytes, within the %d the catalog stores", DocSize(p), MaxDocBytes)
	}
}
