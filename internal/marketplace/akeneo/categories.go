package akeneo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/marketplace"
)

// CategoryPage is one page of categories and the link to the next; Next is
// empty on the last page.
type CategoryPage struct {
	Categories []catalog.Category
	Next       string
}

// Categories returns a page of up to 100 categories, in Akeneo's order (a
// root, then its tree, then the next root). next is "" for the first page,
// else the Next of the page before, as it was returned.
func (c *Client) Categories(ctx context.Context, next string) (CategoryPage, error) {
	link := next
	if link == "" {
		// Akeneo gives a category's position among its siblings only when
		// asked; the link to the next page keeps the parameter.
		query := url.Values{"limit": {fmt.Sprint(pageSize)}, "page": {"1"}, "with_position": {"true"}}
		link = c.endpoint("/api/rest/v1/categories", query)
	} else if err := c.checkOrigin(link); err != nil {
		return CategoryPage{}, err
	}
	var page listPage[categoryItem]
	if err := c.getJSON(ctx, link, &page); err != nil {
		return CategoryPage{}, fmt.Errorf("list categories: %w", err)
	}
	categories := make([]catalog.Category, 0, len(page.Embedded.Items))
	for _, item := range page.Embedded.Items {
		categories = append(categories, item.toCategory())
	}
	return CategoryPage{Categories: categories, Next: page.nextLink()}, nil
}

// CountCategories returns how many categories the PIM has.
func (c *Client) CountCategories(ctx context.Context) (int, error) {
	query := url.Values{"limit": {"1"}, "with_count": {"true"}}
	var page listPage[json.RawMessage]
	if err := c.getJSON(ctx, c.endpoint("/api/rest/v1/categories", query), &page); err != nil {
		return 0, fmt.Errorf("count categories: %w", err)
	}
	if page.ItemsCount == nil {
		return 0, &marketplace.PermanentError{Marketplace: marketplace.Akeneo, Status: 200, Reason: "category list has no items_count"}
	}
	return *page.ItemsCount, nil
}

// categoryItem is a category as /api/rest/v1/categories gives it.
type categoryItem struct {
	Code     string             `json:"code"`
	Parent   *string            `json:"parent"`
	Position int                `json:"position"`
	Labels   jsonObject[string] `json:"labels"`
	Updated  string             `json:"updated"`
}

func (item categoryItem) toCategory() catalog.Category {
	category := catalog.Category{
		ID:              catalog.ItemID(catalog.SourceAkeneo, item.Code),
		Source:          catalog.SourceAkeneo,
		Code:            item.Code,
		Parent:          deref(item.Parent),
		Position:        item.Position,
		Labels:          item.Labels,
		SourceUpdatedAt: normalizeTime(item.Updated),
	}
	category.ContentHash = category.Hash()
	return category
}
