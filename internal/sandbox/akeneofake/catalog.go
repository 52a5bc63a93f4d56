package akeneofake

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Attribute types, as Akeneo names them. The fake gives the values of the
// media types (image and file) a download link.
const (
	TypeIdentifier      = "pim_catalog_identifier"
	TypeText            = "pim_catalog_text"
	TypeTextarea        = "pim_catalog_textarea"
	TypePriceCollection = "pim_catalog_price_collection"
	TypeSimpleSelect    = "pim_catalog_simpleselect"
	TypeMetric          = "pim_catalog_metric"
	TypeImage           = "pim_catalog_image"
	TypeFile            = "pim_catalog_file"
)

// Catalog is what the fake PIM holds.
type Catalog struct {
	// Attributes by code. A value of an attribute missing here is served
	// as plain data.
	Attributes map[string]Attribute
	// Products in any order; the fake lists them by uuid, as Akeneo does.
	Products []Product
	// Categories in any order; the fake lists each root followed by its
	// tree, as Akeneo does. Seed returns them in that order.
	Categories []Category
	// MediaFiles by code, the path a media value's data holds. A media
	// value whose file is missing here is a broken image: its download link
	// answers 404.
	MediaFiles map[string]MediaFile
}

// Attribute is an attribute of the PIM.
type Attribute struct {
	Code        string
	Type        string
	Localizable bool
	Scopable    bool
}

// Product is a product of the PIM.
type Product struct {
	UUID    string
	Enabled bool
	Family  string // "" for none
	// Parent is the code of the product model the product is a variant of;
	// "" for a simple product.
	Parent     string
	Categories []string
	// Values by attribute code.
	Values  map[string][]Value
	Created time.Time
	Updated time.Time
}

// Value is one value of an attribute, for a locale and a channel ("" for
// all). Data is the value's JSON: a string, a price collection, a metric;
// for a media attribute the file's code.
type Value struct {
	Locale string
	Scope  string
	Data   json.RawMessage
}

// SKU is the product's identifier (the IdentifierAttribute value), or "" if
// it has none.
func (p Product) SKU() string {
	var sku string
	for _, v := range p.Values[IdentifierAttribute] {
		if json.Unmarshal(v.Data, &sku) == nil {
			return sku
		}
	}
	return ""
}

// Category is a node of the PIM's category tree.
type Category struct {
	Code   string
	Parent string // "" for a root
	// Labels by locale.
	Labels  map[string]string
	Updated time.Time
}

// MediaFile is a file of the PIM's media storage. The fake serves it as a
// PNG drawn from its code (sandbox/imagegen), so the same code is always the
// same bytes.
type MediaFile struct {
	Code             string
	OriginalFilename string
	Width, Height    int
}

// clone returns a copy of c that shares nothing mutable with it. Values'
// data is shared: it is never changed in place.
func (c Catalog) clone() Catalog {
	out := Catalog{
		Attributes: maps.Clone(c.Attributes),
		Products:   make([]Product, len(c.Products)),
		Categories: make([]Category, len(c.Categories)),
		MediaFiles: maps.Clone(c.MediaFiles),
	}
	for i, p := range c.Products {
		out.Products[i] = p.clone()
	}
	for i, cat := range c.Categories {
		cat.Labels = maps.Clone(cat.Labels)
		out.Categories[i] = cat
	}
	return out
}

func (p Product) clone() Product {
	p.Categories = slices.Clone(p.Categories)
	values := make(map[string][]Value, len(p.Values))
	for code, vs := range p.Values {
		values[code] = slices.Clone(vs)
	}
	p.Values = values
	return p
}

// treeOrder orders categories as Akeneo lists them: each root, then its
// children depth first, siblings in the order given. A category whose parent
// is missing is treated as a root; one caught in a cycle comes last.
func treeOrder(categories []Category) []Category {
	known := make(map[string]bool, len(categories))
	for _, c := range categories {
		known[c.Code] = true
	}
	children := map[string][]Category{}
	var roots []Category
	for _, c := range categories {
		if c.Parent == "" || !known[c.Parent] {
			roots = append(roots, c)
			continue
		}
		children[c.Parent] = append(children[c.Parent], c)
	}
	ordered := make([]Category, 0, len(categories))
	var walk func(Category)
	visited := make(map[string]bool, len(categories))
	walk = func(c Category) {
		visited[c.Code] = true
		ordered = append(ordered, c)
		for _, child := range children[c.Code] {
			walk(child)
		}
	}
	for _, root := range roots {
		walk(root)
	}
	for _, c := range categories {
		if !visited[c.Code] {
			ordered = append(ordered, c)
		}
	}
	return ordered
}
