package shopify

import (
	"context"
	"fmt"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
)

// collectionsPageSize is the number of collections a page holds: each costs
// 5 points (itself, its image, its rule set with its rules, its count), so
// a page costs 252.
const (
	collectionsPageSize = 50
	collectionsPageCost = 2 + collectionsPageSize*5
)

var (
	collectionsOp = operation{"Collections", fmt.Sprintf(`query Collections($first: Int!, $after: String, $query: String) {
  collections(first: $first, after: $after, query: $query, sortKey: ID) {
    %s
    nodes {
      id handle title descriptionHtml updatedAt sortOrder
      image { url }
      ruleSet { appliedDisjunctively rules { column relation condition } }
      productsCount { count }
    }
  }
}`, pageInfoFields)}

	collectionsCountOp = operation{"CollectionsCount", `query CollectionsCount($query: String) { collectionsCount(query: $query) { count } }`}
)

// CollectionPage is one page of a shop's collections.
type CollectionPage struct {
	Collections []catalog.Collection
	EndCursor   string // pass as after for the next page
	HasNextPage bool
}

type collectionNode struct {
	ID              string `json:"id"`
	Handle          string `json:"handle"`
	Title           string `json:"title"`
	DescriptionHTML string `json:"descriptionHtml"`
	UpdatedAt       string `json:"updatedAt"`
	SortOrder       string `json:"sortOrder"`
	Image           *struct {
		URL string `json:"url"`
	} `json:"image"`
	// A smart collection has a rule set; a custom one has null.
	RuleSet *struct {
		AppliedDisjunctively bool `json:"appliedDisjunctively"`
		Rules                []struct {
			Column    string `json:"column"`
			Relation  string `json:"relation"`
			Condition string `json:"condition"`
		} `json:"rules"`
	} `json:"ruleSet"`
	ProductsCount struct {
		Count int `json:"count"`
	} `json:"productsCount"`
}

// Collections returns the page of collections after the cursor after (""
// for the first), in id order; with a non-zero since, only the collections
// updated after it.
func (c *Client) Collections(ctx context.Context, after string, since time.Time) (CollectionPage, error) {
	var data struct {
		Collections connection[collectionNode] `json:"collections"`
	}
	if err := c.query(ctx, collectionsOp, pageVariables(collectionsPageSize, after, since), &data); err != nil {
		return CollectionPage{}, err
	}
	page := CollectionPage{EndCursor: data.Collections.PageInfo.EndCursor, HasNextPage: data.Collections.PageInfo.HasNextPage}
	for _, node := range data.Collections.Nodes {
		page.Collections = append(page.Collections, node.collection())
	}
	return page, nil
}

// CountCollections returns the number of collections (updated after since,
// when it is not zero).
func (c *Client) CountCollections(ctx context.Context, since time.Time) (int, error) {
	var data struct {
		CollectionsCount struct {
			Count int `json:"count"`
		} `json:"collectionsCount"`
	}
	if err := c.query(ctx, collectionsCountOp, searchVariables(since), &data); err != nil {
		return 0, err
	}
	return data.CollectionsCount.Count, nil
}

// collection maps a collection into the catalog. The store is left for the
// caller to set.
func (n collectionNode) collection() catalog.Collection {
	col := catalog.Collection{
		ID:              catalog.ItemID(catalog.SourceShopify, n.ID),
		Source:          catalog.SourceShopify,
		SourceID:        n.ID,
		Handle:          n.Handle,
		Title:           n.Title,
		Description:     n.DescriptionHTML,
		SortOrder:       n.SortOrder,
		ProductsCount:   n.ProductsCount.Count,
		SourceUpdatedAt: n.UpdatedAt,
	}
	if n.Image != nil {
		col.ImageURL = n.Image.URL
	}
	if n.RuleSet != nil {
		col.Smart = true
		col.Disjunctive = n.RuleSet.AppliedDisjunctively
		for _, r := range n.RuleSet.Rules {
			col.Rules = append(col.Rules, catalog.Rule{Column: r.Column, Relation: r.Relation, Condition: r.Condition})
		}
	}
	col.ContentHash = col.Hash()
	return col
}
