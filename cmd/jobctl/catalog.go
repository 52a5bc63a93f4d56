package main

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

func (c *cli) catalogCommand() *cobra.Command {
	var opts client.CatalogOptions
	var all bool
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Show a store's catalog: products, collections, categories",
		Long: `Show the store's catalog as its imports brought it in: products (from Shopify
or Akeneo), Shopify's collections and Akeneo's categories, and one product
with its listing on each marketplace it was exported to.`,
		Example: `  jobctl catalog products --store store-1 --source shopify
  jobctl catalog collections --all
  jobctl catalog product shopify-1001`,
	}
	cmd.PersistentFlags().StringVar(&opts.StoreID, "store", "", "the store (a store token's own when empty)")
	listFlags := func(sub *cobra.Command) *cobra.Command {
		sub.Flags().IntVar(&opts.Limit, "limit", 0, "items per page (the API's default when 0)")
		sub.Flags().BoolVar(&all, "all", false, "read every page")
		return sub
	}

	products := listFlags(&cobra.Command{
		Use:     "products",
		Short:   "List the catalog's products",
		Example: "  jobctl catalog products --source akeneo --limit 50\n  jobctl catalog products --all --json | jq -r .sku",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkChoice(cmd, "source", opts.Source, client.Shopify, client.Akeneo); err != nil {
				return err
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			opts.StoreID = c.store(opts.StoreID)
			if all {
				return listEvery(c, api.Products(cmd.Context(), opts), c.printProducts)
			}
			page, err := api.ProductsPage(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(page)
			}
			c.printProducts(page.Products)
			if page.NextCursor != "" {
				c.out.printf("next page: %s\n", nextPageCommand(cmd, page.NextCursor))
			}
			return nil
		},
	})
	products.Flags().StringVar(&opts.Source, "source", "", "only products from shopify or akeneo")
	products.Flags().StringVar(&opts.Cursor, "cursor", "", "the page to show, from the previous page's hint")

	collections := listFlags(&cobra.Command{
		Use:     "collections",
		Short:   "List the catalog's Shopify collections",
		Example: "  jobctl catalog collections --store store-1",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			opts.StoreID, opts.Limit = c.store(opts.StoreID), firstPageSize(opts.Limit)
			return listItems(c, "collections", api.Collections(cmd.Context(), opts), all, opts.Limit, c.printCollections)
		},
	})

	categories := listFlags(&cobra.Command{
		Use:     "categories",
		Short:   "List the catalog's Akeneo categories",
		Example: "  jobctl catalog categories --all",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			opts.StoreID, opts.Limit = c.store(opts.StoreID), firstPageSize(opts.Limit)
			return listItems(c, "categories", api.Categories(cmd.Context(), opts), all, opts.Limit, c.printCategories)
		},
	})

	product := &cobra.Command{
		Use:     "product ID",
		Short:   "Show one product with its listing on each marketplace",
		Example: "  jobctl catalog product shopify-1001",
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			p, listings, err := api.Product(cmd.Context(), c.store(opts.StoreID), args[0])
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(map[string]any{"product": p, "listings": listings})
			}
			c.printProduct(p, listings)
			return nil
		},
	}
	cmd.AddCommand(products, collections, categories, product)
	return cmd
}

// listEvery prints every item of a paged listing: a table at the end, or
// with --json one item per line as the pages come.
func listEvery[T any](c *cli, items iter.Seq2[T, error], print func([]T)) error {
	var all []T
	for item, err := range items {
		if err != nil {
			return err
		}
		if c.out.json {
			_ = c.out.line(item)
			continue
		}
		all = append(all, item)
	}
	if !c.out.json {
		print(all)
	}
	return nil
}

// firstPageSize is the page size of a listing shown without --all: the
// API's default unless --limit says otherwise.
func firstPageSize(limit int) int {
	if limit > 0 {
		return limit
	}
	return 20
}

// listItems prints a listing the client reads only as a whole (no page
// call, so no cursor to show): every item with --all, else the first
// limit items, and whether there are more (reading one item past them).
func listItems[T any](c *cli, name string, items iter.Seq2[T, error], all bool, limit int, print func([]T)) error {
	if all {
		return listEvery(c, items, print)
	}
	next, stop := iter.Pull2(items)
	defer stop()
	var page []T
	more := false
	for {
		item, err, ok := next()
		if !ok {
			break
		}
		if err != nil {
			return err
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, item)
	}
	if c.out.json {
		return c.out.document(map[string][]T{name: page})
	}
	print(page)
	if more {
		c.out.printf("more %s: add --all to list every one\n", name)
	}
	return nil
}

func (c *cli) printProducts(products []client.Product) {
	if len(products) == 0 {
		c.out.printf("no products\n")
		return
	}
	t := c.out.table("ID", "SOURCE", "SKU", "TITLE", "VARIANTS", "IMAGES", "IMPORTED")
	for _, p := range products {
		t.row(p.ID, p.Source, p.SKU, truncate(p.Title, 40), fmt.Sprint(len(p.Variants)), fmt.Sprint(len(p.Images)), clockPtr(p.ImportedAt))
	}
	t.print()
}

func (c *cli) printCollections(collections []client.Collection) {
	if len(collections) == 0 {
		c.out.printf("no collections\n")
		return
	}
	t := c.out.table("ID", "HANDLE", "TITLE", "KIND", "PRODUCTS")
	for _, col := range collections {
		kind := "manual"
		if col.Smart {
			kind = "smart"
		}
		t.row(col.ID, col.Handle, truncate(col.Title, 40), kind, fmt.Sprint(col.ProductsCount))
	}
	t.print()
}

func (c *cli) printCategories(categories []client.Category) {
	if len(categories) == 0 {
		c.out.printf("no categories\n")
		return
	}
	t := c.out.table("ID", "CODE", "PARENT", "LABEL")
	for _, cat := range categories {
		t.row(cat.ID, cat.Code, cat.Parent, truncate(firstLabel(cat.Labels), 40))
	}
	t.print()
}

// firstLabel is a category's name in English if it has one, else in the
// first locale by name.
func firstLabel(labels map[string]string) string {
	if l, ok := labels["en_US"]; ok {
		return l
	}
	locales := make([]string, 0, len(labels))
	for locale := range labels {
		locales = append(locales, locale)
	}
	slices.Sort(locales)
	if len(locales) == 0 {
		return ""
	}
	return labels[locales[0]]
}

func (c *cli) printProduct(p *client.Product, listings []client.Listing) {
	c.out.printf("product %s  %s\n", p.ID, p.Title)
	tw := tabwriter.NewWriter(c.out.w, 0, 0, 2, ' ', 0)
	field := func(label, value string) {
		if value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", label, oneLine(value))
		}
	}
	stored := 0
	for _, img := range p.Images {
		if img.Key != "" {
			stored++
		}
	}
	field("source", p.Source+" "+p.SourceID)
	field("sku", p.SKU)
	field("vendor", p.Vendor)
	field("type", p.ProductType)
	field("family", p.Family)
	field("status", p.Status)
	field("variants", fmt.Sprint(len(p.Variants)))
	field("images", fmt.Sprintf("%d (%d stored)", len(p.Images), stored))
	field("collections", strings.Join(p.Collections, ", "))
	field("categories", strings.Join(p.Categories, ", "))
	field("imported", clockPtr(p.ImportedAt))
	_ = tw.Flush()
	c.out.printf("\n")
	if len(listings) == 0 {
		c.out.printf("not exported to any marketplace yet\n")
		return
	}
	t := c.out.table("MARKETPLACE", "STATUS", "SKU", "MARKETPLACE-ID", "ISSUES", "EXPORTED")
	for _, l := range listings {
		t.colored([]color.Attribute{noColor, listingColor(l.Status)},
			l.Marketplace, l.Status, l.SKU, firstOf(l.ASIN, l.ListingID, l.OfferID, l.SubmissionID), issues(l.Issues), clock(l.ExportedAt))
	}
	t.print()
}

func listingColor(status string) color.Attribute {
	if status == "listed" {
		return color.FgGreen
	}
	return color.FgRed
}

// issues sums up a listing's problems: how many, and the first.
func issues(list []client.ListingIssue) string {
	if len(list) == 0 {
		return ""
	}
	first := list[0].Message
	if list[0].Field != "" {
		first = list[0].Field + ": " + first
	}
	return truncate(fmt.Sprintf("%d: %s", len(list), first), 50)
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func (c *cli) creditsCommand() *cobra.Command {
	var store string
	cmd := &cobra.Command{
		Use:     "credits",
		Short:   "Show a store's AI credit balance",
		Example: "  jobctl credits --store store-1",
		Args:    args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			credits, err := api.Credits(cmd.Context(), c.store(store))
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(credits)
			}
			c.out.printf("store %s: %d AI credits (an export's AI optimization costs %d per product)\n",
				credits.StoreID, credits.Balance, credits.CreditsPerProduct)
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "", "the store (a store token's own when empty)")
	return cmd
}
