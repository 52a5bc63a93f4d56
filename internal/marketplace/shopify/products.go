package shopify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
)

// Shopify refuses a query whose requested cost is over maxQueryCost.
const maxQueryCost = 1000

// How much of each product's nested connections a products page asks for,
// and how much each follow-up query fetches of the rest.
const (
	variantsPerProduct    = 20
	mediaPerProduct       = 10
	collectionsPerProduct = 10
	followUpPageSize      = 250
)

// What queries cost by Shopify's published rules: an object 1, a connection
// 2 plus first × what one node costs. A variant costs 3 (with its selected
// options and its image), a media image 2 (with its image), a collection
// link 1; a product 1, plus 2 for its options with their values, plus its
// nested connections.
const (
	variantCost        = 3
	mediaCost          = 2
	collectionLinkCost = 1
	productCost        = 1 + 2 + (2 + variantsPerProduct*variantCost) + (2 + mediaPerProduct*mediaCost) + (2 + collectionsPerProduct*collectionLinkCost)
)

func productsPageCost(pageSize int) int { return 2 + pageSize*productCost }

func maxProductsPageSize() int { return (maxQueryCost - 2) / productCost }

// followUpCost is what a follow-up query costs: the product and a page of
// one of its connections.
func followUpCost(nodeCost int) int { return 1 + 2 + followUpPageSize*nodeCost }

const (
	variantFields  = `id sku title price compareAtPrice barcode inventoryQuantity position selectedOptions { name value } image { url }`
	mediaFields    = `... on MediaImage { id alt image { url altText width height } }`
	pageInfoFields = `pageInfo { hasNextPage endCursor }`
)

var (
	productsOp = operation{"Products", fmt.Sprintf(`query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: ID) {
    %[1]s
    nodes {
      id title descriptionHtml vendor productType tags status updatedAt
      options { name optionValues { name } }
      variants(first: %[2]d) { %[1]s nodes { %[3]s } }
      media(first: %[4]d) { %[1]s nodes { %[5]s } }
      collections(first: %[6]d) { %[1]s nodes { id } }
    }
  }
}`, pageInfoFields, variantsPerProduct, variantFields, mediaPerProduct, mediaFields, collectionsPerProduct)}

	productVariantsOp    = followUp("ProductVariants", "variants", variantFields)
	productMediaOp       = followUp("ProductMedia", "media", mediaFields)
	productCollectionsOp = followUp("ProductCollections", "collections", "id")

	productsCountOp = operation{"ProductsCount", `query ProductsCount($query: String) { productsCount(query: $query) { count } }`}
)

// followUp is the query that fetches the rest of one of a product's
// connections, aliased "page" so one decoder reads them all.
func followUp(name, connection, fields string) operation {
	return operation{name, fmt.Sprintf(`query %s($id: ID!, $after: String) {
  product(id: $id) { page: %s(first: %d, after: $after) { %s nodes { %s } } }
}`, name, connection, followUpPageSize, pageInfoFields, fields)}
}

// ProductPage is one page of a shop's products, each complete.
type ProductPage struct {
	Products    []catalog.Product
	EndCursor   string // pass as after for the next page
	HasNextPage bool
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type connection[T any] struct {
	PageInfo pageInfo `json:"pageInfo"`
	Nodes    []T      `json:"nodes"`
}

type productNode struct {
	ID              string   `json:"id"`
	Title           string   `json:"title"`
	DescriptionHTML string   `json:"descriptionHtml"`
	Vendor          string   `json:"vendor"`
	ProductType     string   `json:"productType"`
	Tags            []string `json:"tags"`
	Status          string   `json:"status"`
	UpdatedAt       string   `json:"updatedAt"`
	Options         []struct {
		Name         string `json:"name"`
		OptionValues []struct {
			Name string `json:"name"`
		} `json:"optionValues"`
	} `json:"options"`
	Variants    connection[variantNode]    `json:"variants"`
	Media       connection[mediaNode]      `json:"media"`
	Collections connection[collectionLink] `json:"collections"`
}

type variantNode struct {
	ID                string `json:"id"`
	SKU               string `json:"sku"`
	Title             string `json:"title"`
	Price             string `json:"price"`
	CompareAtPrice    string `json:"compareAtPrice"`
	Barcode           string `json:"barcode"`
	InventoryQuantity int    `json:"inventoryQuantity"`
	Position          int    `json:"position"`
	SelectedOptions   []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"selectedOptions"`
	Image *struct {
		URL string `json:"url"`
	} `json:"image"`
}

// mediaNode is a product's media; only images fill it, videos and 3D
// models come back empty.
type mediaNode struct {
	ID    string `json:"id"`
	Alt   string `json:"alt"`
	Image *struct {
		URL     string `json:"url"`
		AltText string `json:"altText"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
	} `json:"image"`
}

type collectionLink struct {
	ID string `json:"id"`
}

// Products returns the page of products after the cursor after ("" for the
// first), in id order; with a non-zero since, only the products updated
// after it. Each product comes with all its variants, images and
// collections, fetched with follow-up queries when a product has more than
// the page holds.
func (c *Client) Products(ctx context.Context, after string, since time.Time) (ProductPage, error) {
	var data struct {
		Products connection[productNode] `json:"products"`
	}
	if err := c.query(ctx, productsOp, pageVariables(c.pageSize, after, since), &data); err != nil {
		return ProductPage{}, err
	}
	page := ProductPage{EndCursor: data.Products.PageInfo.EndCursor, HasNextPage: data.Products.PageInfo.HasNextPage}
	for i := range data.Products.Nodes {
		node := &data.Products.Nodes[i]
		if err := c.completeProduct(ctx, node); err != nil {
			return ProductPage{}, err
		}
		page.Products = append(page.Products, node.product())
	}
	return page, nil
}

// CountProducts returns the number of products (updated after since, when
// it is not zero). Shopify stops counting at 10,000, so a larger count is a
// lower bound.
func (c *Client) CountProducts(ctx context.Context, since time.Time) (int, error) {
	var data struct {
		ProductsCount struct {
			Count int `json:"count"`
		} `json:"productsCount"`
	}
	if err := c.query(ctx, productsCountOp, searchVariables(since), &data); err != nil {
		return 0, err
	}
	return data.ProductsCount.Count, nil
}

func (c *Client) completeProduct(ctx context.Context, p *productNode) error {
	if err := fetchRest(ctx, c, productVariantsOp, p.ID, &p.Variants); err != nil {
		return err
	}
	if err := fetchRest(ctx, c, productMediaOp, p.ID, &p.Media); err != nil {
		return err
	}
	return fetchRest(ctx, c, productCollectionsOp, p.ID, &p.Collections)
}

// fetchRest appends the rest of one of a product's connections to conn.
func fetchRest[T any](ctx context.Context, c *Client, op operation, productID string, conn *connection[T]) error {
	for conn.PageInfo.HasNextPage {
		var data struct {
			Product *struct {
				Page connection[T] `json:"page"`
			} `json:"product"`
		}
		variables := map[string]any{"id": productID, "after": conn.PageInfo.EndCursor}
		if err := c.query(ctx, op, variables, &data); err != nil {
			return err
		}
		if data.Product == nil {
			// Deleted while we read it: reading the page again leaves it out.
			return fmt.Errorf("shopify %s query: product %s was deleted while it was read", op.name, productID)
		}
		if len(data.Product.Page.Nodes) == 0 && data.Product.Page.PageInfo.HasNextPage {
			return fmt.Errorf("shopify %s query: product %s: an empty page that says more follow", op.name, productID)
		}
		conn.Nodes = append(conn.Nodes, data.Product.Page.Nodes...)
		conn.PageInfo = data.Product.Page.PageInfo
	}
	return nil
}

// product maps a complete product into the catalog. The store is left for
// the caller to set.
func (n *productNode) product() catalog.Product {
	p := catalog.Product{
		ID:              catalog.ItemID(catalog.SourceShopify, n.ID),
		Source:          catalog.SourceShopify,
		SourceID:        n.ID,
		Title:           n.Title,
		Description:     n.DescriptionHTML,
		Vendor:          n.Vendor,
		ProductType:     n.ProductType,
		Status:          n.Status,
		SourceUpdatedAt: n.UpdatedAt,
	}
	if len(n.Tags) > 0 {
		p.Tags = n.Tags
	}
	for _, o := range n.Options {
		option := catalog.Option{Name: o.Name}
		for _, v := range o.OptionValues {
			option.Values = append(option.Values, v.Name)
		}
		p.Options = append(p.Options, option)
	}
	variants := slices.Clone(n.Variants.Nodes)
	slices.SortStableFunc(variants, func(a, b variantNode) int { return a.Position - b.Position })
	for _, v := range variants {
		variant := catalog.Variant{
			SourceID:          v.ID,
			SKU:               v.SKU,
			Title:             v.Title,
			Price:             v.Price,
			CompareAtPrice:    v.CompareAtPrice,
			Barcode:           v.Barcode,
			InventoryQuantity: v.InventoryQuantity,
			Position:          v.Position,
		}
		for _, o := range v.SelectedOptions {
			if variant.Options == nil {
				variant.Options = map[string]string{}
			}
			variant.Options[o.Name] = o.Value
		}
		if v.Image != nil {
			variant.ImageURL = v.Image.URL
		}
		p.Variants = append(p.Variants, variant)
		// The product's SKU is its first variant's that has one; a product
		// with none keeps "" for the import to report.
		if p.SKU == "" {
			p.SKU = v.SKU
		}
	}
	for _, m := range n.Media.Nodes {
		if m.Image == nil || m.Image.URL == "" {
			continue
		}
		alt := m.Alt
		if alt == "" {
			alt = m.Image.AltText
		}
		p.Images = append(p.Images, catalog.Image{SourceURL: m.Image.URL, Alt: alt, Width: m.Image.Width, Height: m.Image.Height})
	}
	for _, col := range n.Collections.Nodes {
		p.Collections = append(p.Collections, catalog.ItemID(catalog.SourceShopify, col.ID))
	}
	p.ContentHash = p.Hash()
	return p
}

func pageVariables(first int, after string, since time.Time) map[string]any {
	variables := searchVariables(since)
	if variables == nil {
		variables = map[string]any{}
	}
	variables["first"] = first
	if after != "" {
		variables["after"] = after
	}
	return variables
}

// searchVariables selects the items updated after since; nil selects all.
// Shopify's search takes whole seconds, so an item updated in since's own
// second comes again, which costs nothing: its content hash is unchanged.
func searchVariables(since time.Time) map[string]any {
	if since.IsZero() {
		return nil
	}
	return map[string]any{"query": "updated_at:>'" + since.UTC().Format(time.RFC3339) + "'"}
}
