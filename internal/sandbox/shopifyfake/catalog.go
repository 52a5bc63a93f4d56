package shopifyfake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Catalog is one shop's data as the fake serves it, in Shopify's own terms
// (numeric ids, decimal-string prices, option values by name).
type Catalog struct {
	Name     string // shop { name }
	Plan     string // shop { plan { displayName } }
	Currency string // shop { currencyCode }
	// Products and Collections are in id order, the order a sortKey: ID
	// query pages them in; UpdateProduct and UpdateCollection take indexes
	// into them.
	Products    []Product
	Collections []Collection
}

// Product is a Shopify product.
type Product struct {
	ID              int64
	Handle          string
	Title           string
	DescriptionHTML string
	Vendor          string
	ProductType     string
	Status          string   // ACTIVE, DRAFT or ARCHIVED
	Tags            []string // sorted, as Shopify returns them
	Options         []Option
	Variants        []Variant // in position order: the first is position 1
	Images          []Image   // the product's media, all images
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Option is a product option and its values (Size: S, M, L). A product
// without options has Shopify's single "Title" option with the value
// "Default Title".
type Option struct {
	Name   string
	Values []string
}

// Variant is a product variant.
type Variant struct {
	ID                int64
	SKU               string // "" when the merchant gave none
	Title             string // the option values joined by " / "
	Price             string // a decimal string, as the Admin API's Money
	CompareAtPrice    string // "" when the variant is not on sale
	Barcode           string
	InventoryQuantity int
	SelectedOptions   []SelectedOption
	ImageID           int64 // the ID of one of the product's Images, 0 for none
}

// SelectedOption is a variant's value of one option.
type SelectedOption struct {
	Name, Value string
}

// Image is an image on the fake's CDN: a product's MediaImage or a
// collection's image. Its URL is <public URL>/cdn/<shop>/<File>.png?v=<Version>
// (see Fake.ImageURL).
type Image struct {
	ID      int64
	File    string // the file's name on the CDN, without ".png"
	Alt     string
	Width   int
	Height  int
	Version int // bumped whenever the image changes, as Shopify's ?v= is
	// Broken images answer 404, as a file removed from Shopify's CDN does
	// while a product still points at it.
	Broken bool
}

// Collection is a Shopify collection: a smart one (Rules set) selects its
// products by rules, a custom one lists them (ProductIDs).
type Collection struct {
	ID              int64
	Handle          string
	Title           string
	DescriptionHTML string
	SortOrder       string // BEST_SELLING, ALPHA_ASC, CREATED_DESC, MANUAL, PRICE_ASC, ...
	Image           *Image
	Rules           []Rule
	Disjunctive     bool    // a smart collection's products match any rule rather than all
	ProductIDs      []int64 // a custom collection's products
	UpdatedAt       time.Time
}

// Rule is a smart collection's rule, in the Admin API's enum terms: column
// TAG, TYPE, VENDOR, TITLE or VARIANT_PRICE; relation EQUALS, NOT_EQUALS,
// CONTAINS, NOT_CONTAINS, STARTS_WITH, ENDS_WITH, GREATER_THAN or LESS_THAN.
type Rule struct {
	Column, Relation, Condition string
}

// GID is the product's global id, gid://shopify/Product/<ID>.
func (p Product) GID() string { return gid("Product", p.ID) }

// GID is the variant's global id.
func (v Variant) GID() string { return gid("ProductVariant", v.ID) }

// GID is the image's global id as a MediaImage.
func (img Image) GID() string { return gid("MediaImage", img.ID) }

// GID is the collection's global id.
func (c Collection) GID() string { return gid("Collection", c.ID) }

// Smart reports whether rules select the collection's products.
func (c Collection) Smart() bool { return len(c.Rules) > 0 }

func gid(kind string, id int64) string { return fmt.Sprintf("gid://shopify/%s/%d", kind, id) }

// parseGID returns the numeric id of a gid://shopify/<kind>/<id>.
func parseGID(kind, s string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, "gid://shopify/"+kind+"/")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil
}

// Image returns the product's image with the given id.
func (p Product) Image(id int64) (Image, bool) {
	for _, img := range p.Images {
		if img.ID == id {
			return img, true
		}
	}
	return Image{}, false
}

// Contains reports whether the collection holds the product: a custom
// collection lists it, a smart one's rules select it.
func (c Collection) Contains(p Product) bool {
	if !c.Smart() {
		return slices.Contains(c.ProductIDs, p.ID)
	}
	for _, r := range c.Rules {
		matched := r.Matches(p)
		if c.Disjunctive && matched {
			return true
		}
		if !c.Disjunctive && !matched {
			return false
		}
	}
	return !c.Disjunctive
}

// Matches reports whether the product meets the rule. Text comparisons
// ignore case, as Shopify's do; a rule the fake does not know matches
// nothing.
func (r Rule) Matches(p Product) bool {
	switch r.Column {
	case "TAG":
		if r.Relation == "NOT_EQUALS" {
			return !slices.ContainsFunc(p.Tags, func(t string) bool { return strings.EqualFold(t, r.Condition) })
		}
		return slices.ContainsFunc(p.Tags, func(t string) bool { return textMatches(r.Relation, t, r.Condition) })
	case "TYPE":
		return textMatches(r.Relation, p.ProductType, r.Condition)
	case "VENDOR":
		return textMatches(r.Relation, p.Vendor, r.Condition)
	case "TITLE":
		return textMatches(r.Relation, p.Title, r.Condition)
	case "VARIANT_PRICE":
		limit, err := strconv.ParseFloat(r.Condition, 64)
		if err != nil {
			return false
		}
		return slices.ContainsFunc(p.Variants, func(v Variant) bool {
			price, err := strconv.ParseFloat(v.Price, 64)
			if err != nil {
				return false
			}
			switch r.Relation {
			case "GREATER_THAN":
				return price > limit
			case "LESS_THAN":
				return price < limit
			case "EQUALS":
				return price == limit
			case "NOT_EQUALS":
				return price != limit
			}
			return false
		})
	}
	return false
}

func textMatches(relation, value, condition string) bool {
	value, condition = strings.ToLower(value), strings.ToLower(condition)
	switch relation {
	case "EQUALS":
		return value == condition
	case "NOT_EQUALS":
		return value != condition
	case "CONTAINS":
		return strings.Contains(value, condition)
	case "NOT_CONTAINS":
		return !strings.Contains(value, condition)
	case "STARTS_WITH":
		return strings.HasPrefix(value, condition)
	case "ENDS_WITH":
		return strings.HasSuffix(value, condition)
	}
	return false
}

// ProductCollections returns the indexes of the collections that hold
// product i, in id order: what the product's collections connection lists.
func (c *Catalog) ProductCollections(i int) []int {
	var out []int
	for j, col := range c.Collections {
		if col.Contains(c.Products[i]) {
			out = append(out, j)
		}
	}
	return out
}

// CollectionProducts returns the indexes of the products collection j
// holds, in id order.
func (c *Catalog) CollectionProducts(j int) []int {
	var out []int
	for i, p := range c.Products {
		if c.Collections[j].Contains(p) {
			out = append(out, i)
		}
	}
	return out
}

// ProductsWithoutSKU returns the indexes of the products none of whose
// variants has a SKU.
func (c *Catalog) ProductsWithoutSKU() []int {
	var out []int
	for i, p := range c.Products {
		if !slices.ContainsFunc(p.Variants, func(v Variant) bool { return v.SKU != "" }) {
			out = append(out, i)
		}
	}
	return out
}

// ProductsWithBrokenImages returns the indexes of the products with at
// least one image whose URL answers 404.
func (c *Catalog) ProductsWithBrokenImages() []int {
	var out []int
	for i, p := range c.Products {
		if slices.ContainsFunc(p.Images, func(img Image) bool { return img.Broken }) {
			out = append(out, i)
		}
	}
	return out
}

// ProductsWithMoreVariantsThan returns the indexes of the products with
// more than n variants: with n the size of a client's first variants page,
// the products whose import needs nested pagination.
func (c *Catalog) ProductsWithMoreVariantsThan(n int) []int {
	var out []int
	for i, p := range c.Products {
		if len(p.Variants) > n {
			out = append(out, i)
		}
	}
	return out
}

// clone returns a copy of the catalog that shares no slice with it.
func (c Catalog) clone() Catalog {
	c.Products = slices.Clone(c.Products)
	for i := range c.Products {
		c.Products[i] = c.Products[i].clone()
	}
	c.Collections = slices.Clone(c.Collections)
	for i := range c.Collections {
		c.Collections[i] = c.Collections[i].clone()
	}
	return c
}

func (p Product) clone() Product {
	p.Tags = slices.Clone(p.Tags)
	p.Options = slices.Clone(p.Options)
	for i := range p.Options {
		p.Options[i].Values = slices.Clone(p.Options[i].Values)
	}
	p.Variants = slices.Clone(p.Variants)
	for i := range p.Variants {
		p.Variants[i].SelectedOptions = slices.Clone(p.Variants[i].SelectedOptions)
	}
	p.Images = slices.Clone(p.Images)
	return p
}

func (c Collection) clone() Collection {
	if c.Image != nil {
		img := *c.Image
		c.Image = &img
	}
	c.Rules = slices.Clone(c.Rules)
	c.ProductIDs = slices.Clone(c.ProductIDs)
	return c
}
