package shopifyfake

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// member and object make a JSON object that keeps the order of the query's
// selections, as a GraphQL server answers.
type member struct {
	key   string
	value any
}

type object []member

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(m.key)
		if err != nil {
			return nil, err
		}
		value, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(value)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// build answers sels on a value of the concrete type typeName: resolve
// gives each field's value; inline fragments apply when their condition is
// the type or an interface it implements.
func build(typeName string, sels []*selection, resolve func(*selection) any) object {
	out := object{}
	var add func([]*selection)
	add = func(sels []*selection) {
		for _, s := range sels {
			var value any
			switch {
			case s.name == "":
				if fragmentApplies(typeName, s.typeCondition) {
					add(s.selections)
				}
				continue
			case s.name == "__typename":
				value = typeName
			default:
				value = resolve(s)
			}
			replaced := false
			for i := range out {
				if out[i].key == s.key() {
					out[i].value, replaced = value, true
				}
			}
			if !replaced {
				out = append(out, member{s.key(), value})
			}
		}
	}
	add(sels)
	return out
}

// executor answers one checked operation from a shop's catalog and adds up
// its actual cost: what the requested cost would be had every connection
// asked for exactly the nodes it returned.
type executor struct {
	domain    string
	publicURL string
	catalog   *Catalog
	cost      float64
	errors    []graphQLError
	search    []searchReport
}

func (e *executor) run(op *operation) object {
	return build("QueryRoot", op.selections, func(s *selection) any {
		path := []any{s.key()}
		switch s.name {
		case "shop":
			e.cost++
			return e.shop(s.selections)
		case "product":
			id, _ := parseGID("Product", stringArgument(s, "id"))
			for i := range e.catalog.Products {
				if e.catalog.Products[i].ID == id {
					e.cost++
					return e.product(&e.catalog.Products[i], s.selections, path)
				}
			}
			return nil
		case "collection":
			id, _ := parseGID("Collection", stringArgument(s, "id"))
			for i := range e.catalog.Collections {
				if e.catalog.Collections[i].ID == id {
					e.cost++
					return e.collection(&e.catalog.Collections[i], s.selections, path)
				}
			}
			return nil
		case "products":
			return e.productConnection(s, path, e.products(s, path, nil))
		case "productsCount":
			e.cost++
			return e.count(s, len(e.products(s, path, nil)), true)
		case "collections":
			return e.collectionConnection(s, path, e.collections(s, path, nil))
		case "collectionsCount":
			e.cost++
			return e.count(s, len(e.collections(s, path, nil)), true)
		}
		return nil
	})
}

// products returns the products the field's query selects (all without
// one), among those keep accepts (all for nil), in id order.
func (e *executor) products(s *selection, path []any, keep func(Product) bool) []*Product {
	terms := e.searchTerms(s, path, productSearchFields)
	var out []*Product
	for i := range e.catalog.Products {
		p := &e.catalog.Products[i]
		if (keep == nil || keep(*p)) && productMatches(*p, terms) {
			out = append(out, p)
		}
	}
	return out
}

func (e *executor) collections(s *selection, path []any, keep func(Collection) bool) []*Collection {
	terms := e.searchTerms(s, path, collectionSearchFields)
	var out []*Collection
	for i := range e.catalog.Collections {
		c := &e.catalog.Collections[i]
		if (keep == nil || keep(*c)) && collectionMatches(*c, terms) {
			out = append(out, c)
		}
	}
	return out
}

func (e *executor) searchTerms(s *selection, path []any, known map[string]bool) []searchTerm {
	query, _ := s.arguments["query"].(string)
	if query == "" {
		return nil
	}
	terms, warnings := parseSearch(query, known)
	if len(warnings) > 0 {
		e.search = append(e.search, searchReport{Path: path, Query: query, Warnings: warnings})
	}
	return terms
}

func (e *executor) productConnection(s *selection, path []any, products []*Product) any {
	return e.connection(s, path, "Product", len(products),
		func(i int) (int64, int64) { return products[i].ID, products[i].ID },
		func(i int, sels []*selection, path []any) object { return e.product(products[i], sels, path) })
}

func (e *executor) collectionConnection(s *selection, path []any, collections []*Collection) any {
	return e.connection(s, path, "Collection", len(collections),
		func(i int) (int64, int64) { return collections[i].ID, collections[i].ID },
		func(i int, sels []*selection, path []any) object { return e.collection(collections[i], sels, path) })
}

// connection answers a connection field over total items in order: item
// gives an item's id and the increasing key its cursor holds (the id, or
// the position for a product's variants and media).
func (e *executor) connection(s *selection, path []any, nodeType string, total int,
	item func(int) (id, key int64), node func(i int, sels []*selection, path []any) object,
) any {
	first, _ := s.arguments["first"].(int64)
	start := 0
	if after, _ := s.arguments["after"].(string); after != "" {
		last, ok := decodeCursor(after)
		if !ok {
			e.errors = append(e.errors, graphQLError{
				Message:    "Invalid cursor for current pagination.",
				Locations:  []location{{s.line, s.column}},
				Path:       append([]any(nil), path...),
				Extensions: map[string]any{"code": "BAD_USER_INPUT"},
			})
			return nil
		}
		start = sort.Search(total, func(i int) bool { _, key := item(i); return key > last })
	}
	end := min(start+int(first), total)
	cursor := func(i int) string { id, key := item(i); return encodeCursor(id, key) }
	e.cost += 2 + float64(end-start)
	return build(nodeType+"Connection", s.selections, func(c *selection) any {
		childPath := append(append([]any(nil), path...), c.key())
		switch c.name {
		case "nodes":
			nodes := make([]object, 0, end-start)
			for i := start; i < end; i++ {
				nodes = append(nodes, node(i, c.selections, append(childPath, i-start)))
			}
			return nodes
		case "edges":
			edges := make([]object, 0, end-start)
			for i := start; i < end; i++ {
				edges = append(edges, build(nodeType+"Edge", c.selections, func(es *selection) any {
					if es.name == "cursor" {
						return cursor(i)
					}
					return node(i, es.selections, append(childPath, i-start, es.key()))
				}))
			}
			return edges
		case "pageInfo":
			return build("PageInfo", c.selections, func(ps *selection) any {
				switch ps.name {
				case "hasNextPage":
					return end < total
				case "hasPreviousPage":
					return start > 0
				case "startCursor":
					if end > start {
						return cursor(start)
					}
				case "endCursor":
					if end > start {
						return cursor(end - 1)
					}
				}
				return nil
			})
		}
		return nil
	})
}

// Cursors are opaque to clients; like Shopify's, they are base64 JSON.
type cursorData struct {
	LastID    int64  `json:"last_id"`
	LastValue string `json:"last_value"`
}

func encodeCursor(id, key int64) string {
	data, _ := json.Marshal(cursorData{LastID: id, LastValue: strconv.FormatInt(key, 10)})
	return base64.StdEncoding.EncodeToString(data)
}

func decodeCursor(cursor string) (int64, bool) {
	raw, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(cursor); err != nil {
			return 0, false
		}
	}
	var c cursorData
	if err := json.Unmarshal(raw, &c); err != nil {
		return 0, false
	}
	key, err := strconv.ParseInt(c.LastValue, 10, 64)
	return key, err == nil
}

func (e *executor) shop(sels []*selection) object {
	c := e.catalog
	return build("Shop", sels, func(s *selection) any {
		switch s.name {
		case "id":
			return gid("Shop", 1)
		case "name":
			return c.Name
		case "email":
			return "owner@" + e.domain
		case "myshopifyDomain":
			return e.domain
		case "currencyCode":
			return c.Currency
		case "ianaTimezone":
			return "America/New_York"
		case "plan":
			e.cost++
			return build("ShopPlan", s.selections, func(ps *selection) any {
				switch ps.name {
				case "displayName":
					return c.Plan
				case "partnerDevelopment":
					return false
				case "shopifyPlus":
					return c.Plan == "Shopify Plus"
				}
				return nil
			})
		}
		return nil
	})
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

func (e *executor) product(p *Product, sels []*selection, path []any) object {
	return build("Product", sels, func(s *selection) any {
		fieldPath := append(append([]any(nil), path...), s.key())
		switch s.name {
		case "id":
			return p.GID()
		case "handle":
			return p.Handle
		case "title":
			return p.Title
		case "description":
			return htmlTag.ReplaceAllString(p.DescriptionHTML, " ")
		case "descriptionHtml":
			return p.DescriptionHTML
		case "vendor":
			return p.Vendor
		case "productType":
			return p.ProductType
		case "tags":
			return append([]string{}, p.Tags...)
		case "status":
			return p.Status
		case "createdAt":
			return timestamp(p.CreatedAt)
		case "updatedAt":
			return timestamp(p.UpdatedAt)
		case "totalInventory":
			total := 0
			for _, v := range p.Variants {
				total += v.InventoryQuantity
			}
			return total
		case "options":
			return e.options(p, s)
		case "variantsCount":
			e.cost++
			return e.count(s, len(p.Variants), false)
		case "variants":
			return e.connection(s, fieldPath, "ProductVariant", len(p.Variants),
				func(i int) (int64, int64) { return p.Variants[i].ID, int64(i + 1) },
				func(i int, sels []*selection, _ []any) object { return e.variant(p, i, sels) })
		case "media":
			return e.connection(s, fieldPath, "Media", len(p.Images),
				func(i int) (int64, int64) { return p.Images[i].ID, int64(i + 1) },
				func(i int, sels []*selection, _ []any) object { return e.mediaImage(p.Images[i], sels) })
		case "collections":
			return e.collectionConnection(s, fieldPath, e.collections(s, fieldPath, func(c Collection) bool { return c.Contains(*p) }))
		}
		return nil
	})
}

func (e *executor) options(p *Product, s *selection) any {
	options := p.Options
	if first, ok := s.arguments["first"].(int64); ok && int(first) < len(options) {
		options = options[:max(first, 0)]
	}
	out := make([]object, 0, len(options))
	for k, o := range options {
		optionID := p.ID*10 + int64(k) + 1
		out = append(out, build("ProductOption", s.selections, func(os *selection) any {
			switch os.name {
			case "id":
				return gid("ProductOption", optionID)
			case "name":
				return o.Name
			case "position":
				return k + 1
			case "values":
				return append([]string{}, o.Values...)
			case "optionValues":
				values := make([]object, 0, len(o.Values))
				for n, v := range o.Values {
					values = append(values, build("ProductOptionValue", os.selections, func(vs *selection) any {
						switch vs.name {
						case "id":
							return gid("ProductOptionValue", optionID*100+int64(n)+1)
						case "name":
							return v
						}
						return nil
					}))
				}
				return values
			}
			return nil
		}))
	}
	if len(out) > 0 {
		e.cost += listCost("ProductOption", s.selections)
	}
	return out
}

// listCost is what a list of small objects costs: once, whatever its
// length, like the checker prices it.
func listCost(typeName string, sels []*selection) float64 {
	return 1 + (&checker{}).selectionSet(typeName, sels, nil)
}

func (e *executor) variant(p *Product, i int, sels []*selection) object {
	v := &p.Variants[i]
	return build("ProductVariant", sels, func(s *selection) any {
		switch s.name {
		case "id":
			return v.GID()
		case "sku":
			return v.SKU
		case "title":
			return v.Title
		case "price":
			return v.Price
		case "compareAtPrice":
			return nullIfEmpty(v.CompareAtPrice)
		case "barcode":
			return nullIfEmpty(v.Barcode)
		case "inventoryQuantity":
			return v.InventoryQuantity
		case "position":
			return i + 1
		case "createdAt":
			return timestamp(p.CreatedAt)
		case "updatedAt":
			return timestamp(p.UpdatedAt)
		case "selectedOptions":
			out := make([]object, 0, len(v.SelectedOptions))
			for _, o := range v.SelectedOptions {
				out = append(out, build("SelectedOption", s.selections, func(os *selection) any {
					if os.name == "name" {
						return o.Name
					}
					return o.Value
				}))
			}
			if len(out) > 0 {
				e.cost += listCost("SelectedOption", s.selections)
			}
			return out
		case "image":
			img, ok := p.Image(v.ImageID)
			if !ok {
				return nil
			}
			e.cost++
			return e.image(img, s.selections)
		}
		return nil
	})
}

func (e *executor) mediaImage(img Image, sels []*selection) object {
	return build("MediaImage", sels, func(s *selection) any {
		switch s.name {
		case "id":
			return img.GID()
		case "alt":
			return img.Alt
		case "mediaContentType":
			return "IMAGE"
		case "status":
			return "READY"
		case "image":
			e.cost++
			return e.image(img, s.selections)
		}
		return nil
	})
}

func (e *executor) image(img Image, sels []*selection) object {
	return build("Image", sels, func(s *selection) any {
		switch s.name {
		case "id":
			return gid("ImageSource", img.ID)
		case "url":
			return imageURL(e.publicURL, e.domain, img)
		case "altText":
			return nullIfEmpty(img.Alt)
		case "width":
			return img.Width
		case "height":
			return img.Height
		}
		return nil
	})
}

func (e *executor) collection(c *Collection, sels []*selection, path []any) object {
	return build("Collection", sels, func(s *selection) any {
		switch s.name {
		case "id":
			return c.GID()
		case "handle":
			return c.Handle
		case "title":
			return c.Title
		case "description":
			return htmlTag.ReplaceAllString(c.DescriptionHTML, " ")
		case "descriptionHtml":
			return c.DescriptionHTML
		case "updatedAt":
			return timestamp(c.UpdatedAt)
		case "sortOrder":
			return c.SortOrder
		case "image":
			if c.Image == nil {
				return nil
			}
			e.cost++
			return e.image(*c.Image, s.selections)
		case "ruleSet":
			if !c.Smart() {
				return nil
			}
			e.cost++
			return build("CollectionRuleSet", s.selections, func(rs *selection) any {
				if rs.name == "appliedDisjunctively" {
					return c.Disjunctive
				}
				e.cost += listCost("CollectionRule", rs.selections)
				rules := make([]object, 0, len(c.Rules))
				for _, r := range c.Rules {
					rules = append(rules, build("CollectionRule", rs.selections, func(f *selection) any {
						switch f.name {
						case "column":
							return r.Column
						case "relation":
							return r.Relation
						case "condition":
							return r.Condition
						}
						return nil
					}))
				}
				return rules
			})
		case "productsCount":
			e.cost++
			return e.count(s, len(e.products(s, nil, c.Contains)), false)
		case "products":
			fieldPath := append(append([]any(nil), path...), s.key())
			return e.productConnection(s, fieldPath, e.products(s, fieldPath, c.Contains))
		}
		return nil
	})
}

// defaultCountLimit is the count above which Shopify's count fields stop
// counting unless the query passes another limit (null: none).
const defaultCountLimit = 10000

// count answers a Count object for n items. The root counts (limited) stop
// at their limit argument, 10,000 when absent and none when null.
func (e *executor) count(s *selection, n int, limited bool) object {
	limit := int64(0)
	if limited {
		limit = defaultCountLimit
		if raw, present := s.arguments["limit"]; present {
			limit, _ = raw.(int64)
		}
	}
	precision := "EXACT"
	if limit > 0 && int64(n) > limit {
		n, precision = int(limit), "AT_LEAST"
	}
	return build("Count", s.selections, func(cs *selection) any {
		if cs.name == "count" {
			return n
		}
		return precision
	})
}

func stringArgument(s *selection, name string) string {
	v, _ := s.arguments[name].(string)
	return v
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// imageURL is where the fake's CDN serves img for a shop.
func imageURL(publicURL, domain string, img Image) string {
	return fmt.Sprintf("%s/cdn/%s/%s.png?v=%d", publicURL, domain, img.File, img.Version)
}
