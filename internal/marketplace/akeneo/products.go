package akeneo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/marketplace"
)

// The attribute whose price collection becomes a product's Prices; it is
// Akeneo's usual code for it.
const priceAttribute = "price"

// searchTimeLayout is the date format of Akeneo's search filters, read in
// the PIM's time zone, which is UTC on Akeneo's cloud.
const searchTimeLayout = "2006-01-02 15:04:05"

// ProductPage is one page of products and the link to the next; Next is
// empty on the last page.
type ProductPage struct {
	Products []catalog.Product
	Next     string
}

// Products returns a page of up to 100 products, in Akeneo's order (by
// uuid). next is "" for the first page, else the Next of the page before,
// as it was returned. A non-zero since keeps only the products updated
// after it; it applies to the first page, and the links carry it on.
func (c *Client) Products(ctx context.Context, next string, since time.Time) (ProductPage, error) {
	link := next
	if link == "" {
		query := url.Values{"pagination_type": {"search_after"}, "limit": {fmt.Sprint(pageSize)}}
		addUpdatedSince(query, since)
		link = c.endpoint("/api/rest/v1/products-uuid", query)
	} else if err := c.checkOrigin(link); err != nil {
		return ProductPage{}, err
	}
	var page listPage[productItem]
	if err := c.getJSON(ctx, link, &page); err != nil {
		return ProductPage{}, fmt.Errorf("list products: %w", err)
	}
	products := make([]catalog.Product, 0, len(page.Embedded.Items))
	for _, item := range page.Embedded.Items {
		products = append(products, c.toProduct(item))
	}
	return ProductPage{Products: products, Next: page.nextLink()}, nil
}

// CountProducts returns how many products there are, or how many were
// updated after since when it is not zero. Akeneo counts only with page
// pagination, so this asks for a page of one.
func (c *Client) CountProducts(ctx context.Context, since time.Time) (int, error) {
	query := url.Values{"limit": {"1"}, "with_count": {"true"}}
	addUpdatedSince(query, since)
	var page listPage[json.RawMessage]
	if err := c.getJSON(ctx, c.endpoint("/api/rest/v1/products-uuid", query), &page); err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	if page.ItemsCount == nil {
		return 0, &marketplace.PermanentError{Marketplace: marketplace.Akeneo, Status: 200, Reason: "product list has no items_count"}
	}
	return *page.ItemsCount, nil
}

// addUpdatedSince adds Akeneo's filter on the update date. Its format has
// whole seconds, so since is rounded down: a product updated in the same
// second may be listed again, none is missed.
func addUpdatedSince(query url.Values, since time.Time) {
	if since.IsZero() {
		return
	}
	filter := map[string][]map[string]any{
		"updated": {{"operator": ">", "value": since.UTC().Format(searchTimeLayout)}},
	}
	search, _ := json.Marshal(filter) // a map of strings always encodes
	query.Set("search", string(search))
}

// listPage is Akeneo's answer to a list request.
type listPage[T any] struct {
	Links struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
	ItemsCount *int `json:"items_count"`
	Embedded   struct {
		Items []T `json:"items"`
	} `json:"_embedded"`
}

func (p listPage[T]) nextLink() string {
	if p.Links.Next == nil {
		return ""
	}
	return p.Links.Next.Href
}

// productItem is a product as /api/rest/v1/products-uuid gives it.
type productItem struct {
	UUID       string                  `json:"uuid"`
	Enabled    bool                    `json:"enabled"`
	Family     *string                 `json:"family"`
	Parent     *string                 `json:"parent"`
	Categories []string                `json:"categories"`
	Values     jsonObject[[]valueItem] `json:"values"`
	Updated    string                  `json:"updated"`
}

// valueItem is one value of an attribute. A media attribute's data is the
// file's path in the PIM's storage, with a link to download it.
type valueItem struct {
	Locale *string         `json:"locale"`
	Scope  *string         `json:"scope"`
	Data   json.RawMessage `json:"data"`
	Links  *struct {
		Download *struct {
			Href string `json:"href"`
		} `json:"download"`
	} `json:"_links"`
}

func (v valueItem) locale() string { return deref(v.Locale) }
func (v valueItem) scope() string  { return deref(v.Scope) }

// downloadLink is the media file link of a media value, or "".
func (v valueItem) downloadLink() string {
	if v.Links == nil || v.Links.Download == nil {
		return ""
	}
	return v.Links.Download.Href
}

func (c *Client) toProduct(item productItem) catalog.Product {
	p := catalog.Product{
		ID:              catalog.ItemID(catalog.SourceAkeneo, item.UUID),
		Source:          catalog.SourceAkeneo,
		SourceID:        item.UUID,
		SKU:             c.text(item.Values[c.cfg.IdentifierAttribute]),
		Title:           c.text(item.Values["name"]),
		Description:     c.text(item.Values["description"]),
		Status:          "disabled",
		Family:          deref(item.Family),
		Parent:          deref(item.Parent),
		Prices:          c.prices(item.Values[priceAttribute]),
		Images:          c.images(item.Values),
		Categories:      item.Categories,
		SourceUpdatedAt: normalizeTime(item.Updated),
	}
	if item.Enabled {
		p.Status = "enabled"
	}
	if len(item.Values) > 0 {
		p.Attributes = make(map[string][]catalog.AttributeValue, len(item.Values))
		for code, values := range item.Values {
			converted := make([]catalog.AttributeValue, len(values))
			for i, v := range values {
				converted[i] = catalog.AttributeValue{Locale: v.locale(), Scope: v.scope(), Data: v.Data}
			}
			p.Attributes[code] = converted
		}
	}
	p.ContentHash = p.Hash()
	return p
}

// pick returns the value that applies to the client's locale and channel:
// the one for both, else one for the locale in every channel, else one for
// the channel in every locale, else one for all. A value of another locale
// or channel never stands in.
func (c *Client) pick(values []valueItem) (valueItem, bool) {
	best, bestRank := valueItem{}, 0
	for _, v := range values {
		rank := 0
		switch {
		case v.locale() == c.cfg.Locale && v.scope() == c.cfg.Scope:
			rank = 4
		case v.locale() == c.cfg.Locale && v.Scope == nil:
			rank = 3
		case v.Locale == nil && v.scope() == c.cfg.Scope:
			rank = 2
		case v.Locale == nil && v.Scope == nil:
			rank = 1
		}
		if rank > bestRank {
			best, bestRank = v, rank
		}
	}
	return best, bestRank > 0
}

// text is the picked value of a text attribute, or "".
func (c *Client) text(values []valueItem) string {
	v, ok := c.pick(values)
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(v.Data, &s) != nil {
		return ""
	}
	return s
}

// prices reads a price collection, the preferred currency first and the
// others by currency code, so the order (and the hash) is stable.
func (c *Client) prices(values []valueItem) []catalog.Price {
	v, ok := c.pick(values)
	if !ok {
		return nil
	}
	var collection []struct {
		Amount   json.RawMessage `json:"amount"`
		Currency string          `json:"currency"`
	}
	if json.Unmarshal(v.Data, &collection) != nil {
		return nil
	}
	var prices []catalog.Price
	for _, entry := range collection {
		amount := decimalString(entry.Amount)
		if amount == "" || entry.Currency == "" {
			continue // a currency the PIM has no amount for
		}
		prices = append(prices, catalog.Price{Amount: amount, Currency: entry.Currency})
	}
	slices.SortStableFunc(prices, func(a, b catalog.Price) int {
		if (a.Currency == c.cfg.Currency) != (b.Currency == c.cfg.Currency) {
			if a.Currency == c.cfg.Currency {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Currency, b.Currency)
	})
	return prices
}

// decimalString reads an amount that Akeneo gives as a string ("15.50")
// or, for prices without decimals, sometimes as a number.
func decimalString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	if decoder.Decode(&n) == nil {
		return n.String()
	}
	return ""
}

// images lists the media files of the product's media attributes that apply
// to the client's locale and channel, by attribute code, each file once.
func (c *Client) images(values map[string][]valueItem) []catalog.Image {
	var images []catalog.Image
	seen := map[string]bool{}
	for _, code := range sortedKeys(values) {
		for _, v := range values[code] {
			href := v.downloadLink()
			if href == "" || seen[href] {
				continue
			}
			if (v.Locale != nil && *v.Locale != c.cfg.Locale) || (v.Scope != nil && *v.Scope != c.cfg.Scope) {
				continue
			}
			seen[href] = true
			images = append(images, catalog.Image{SourceURL: href})
		}
	}
	return images
}

// normalizeTime writes Akeneo's dates (2016-06-23T18:24:44+02:00) in UTC,
// so that dates compare as strings; one it cannot read is kept as is.
func normalizeTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonObject is a JSON object that Akeneo's PHP encoder writes as [] when it
// is empty.
type jsonObject[V any] map[string]V

func (o *jsonObject[V]) UnmarshalJSON(data []byte) error {
	if trimmed := bytes.TrimSpace(data); bytes.Equal(trimmed, []byte("[]")) || bytes.Equal(trimmed, []byte("null")) {
		*o = nil
		return nil
	}
	var m map[string]V
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*o = m
	return nil
}
