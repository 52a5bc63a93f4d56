package catalogexport

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/catalog"
)

// sourceExport marks the issues the export's own checks raise, as opposed
// to the marketplace's.
const sourceExport = "export"

// check is what every marketplace needs of a product, then what the target
// needs. text is what would be sent; with optimize, the AI has not written
// it yet, and is checked once it has.
func (e *export) check(p *catalog.Product, text ai.Text, optimize bool) []catalog.ListingIssue {
	var issues []catalog.ListingIssue
	missing := func(field, message string) {
		issues = append(issues, catalog.ListingIssue{Field: field, Severity: "ERROR", Source: sourceExport, Message: message})
	}
	if p.SKU == "" {
		missing("sku", "no SKU: give the product (or its first variant) a SKU")
	}
	if strings.TrimSpace(p.Title) == "" {
		missing("title", "no title: give the product a title")
	}
	if amount, _ := price(p); amount <= 0 {
		missing("price", "no price: give the product (or its first variant) a price above zero")
	}
	if len(e.imageURLs(p)) == 0 {
		missing("images", "no image: add at least one product image")
	}
	if brand(p) == "" {
		missing("brand", "no brand: set the product's vendor (Shopify) or brand attribute (Akeneo)")
	}
	issues = append(issues, e.target.check(p)...)
	if !optimize {
		issues = append(issues, textIssues(e.target.title, e.target.limits, text, false)...)
	}
	return issues
}

// tooLong is the issue of a text over a marketplace's limit.
func tooLong(field, marketplace string, length, limit int, optimized bool) catalog.ListingIssue {
	remedy := "shorten it, or export with AI optimization, which writes it within the limit"
	if optimized {
		remedy = "the AI's text broke the limit; export again"
	}
	return catalog.ListingIssue{Field: field, Severity: "ERROR", Source: sourceExport,
		Message: fmt.Sprintf("%s is %d characters; %s allows %d: %s", field, length, marketplace, limit, remedy)}
}

// textIssues checks text against limits.
func textIssues(marketplace string, l ai.Limits, t ai.Text, optimized bool) []catalog.ListingIssue {
	var issues []catalog.ListingIssue
	if n := utf8.RuneCountInString(t.Title); l.TitleMax > 0 && n > l.TitleMax {
		issues = append(issues, tooLong("title", marketplace, n, l.TitleMax, optimized))
	}
	if n := utf8.RuneCountInString(t.Description); l.DescriptionMax > 0 && n > l.DescriptionMax {
		issues = append(issues, tooLong("description", marketplace, n, l.DescriptionMax, optimized))
	}
	return issues
}

// price is the product's price: its first priced variant's, else its first
// price (Akeneo's price collection), with the currency ("USD" when unsaid).
func price(p *catalog.Product) (float64, string) {
	for _, v := range p.Variants {
		if amount, err := strconv.ParseFloat(v.Price, 64); err == nil && v.Price != "" {
			return amount, currencyOr(v.Currency)
		}
	}
	for _, pr := range p.Prices {
		if amount, err := strconv.ParseFloat(pr.Amount, 64); err == nil {
			return amount, currencyOr(pr.Currency)
		}
	}
	return 0, ""
}

func currencyOr(c string) string {
	if c == "" {
		return "USD"
	}
	return c
}

// quantity is the stock of every variant together.
func quantity(p *catalog.Product) int {
	total := 0
	for _, v := range p.Variants {
		total += max(v.InventoryQuantity, 0)
	}
	return total
}

// barcode is the first variant's barcode, with its kind (a 12-digit UPC or
// an EAN).
func barcode(p *catalog.Product) (kind, value string) {
	for _, v := range p.Variants {
		if v.Barcode != "" {
			if len(v.Barcode) == 12 {
				return "upc", v.Barcode
			}
			return "ean", v.Barcode
		}
	}
	return "", ""
}

// brand is the product's vendor, or its brand attribute.
func brand(p *catalog.Product) string {
	if p.Vendor != "" {
		return p.Vendor
	}
	for _, v := range p.Attributes["brand"] {
		var s string
		if json.Unmarshal(v.Data, &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// imageURLs are where the marketplace fetches the product's images: the
// public URL of the stored copy when one is configured, else the source's.
func (e *export) imageURLs(p *catalog.Product) []string {
	var urls []string
	for _, img := range p.Images {
		switch {
		case e.ImagesPublicURL != "" && img.Key != "":
			urls = append(urls, strings.TrimRight(e.ImagesPublicURL, "/")+"/"+img.Key)
		case img.SourceURL != "":
			urls = append(urls, img.SourceURL)
		}
	}
	return urls
}

var (
	tags       = regexp.MustCompile(`<[^>]*>`)
	blockEnds  = regexp.MustCompile(`(?i)</(p|li|h[1-6]|div)>|<br\s*/?>`)
	whitespace = regexp.MustCompile(`[ \t]+`)
	blankLines = regexp.MustCompile(`\n\s*\n+`)
)

// plainText is HTML as readable text: blocks on their own lines, tags gone,
// entities decoded.
func plainText(s string) string {
	s = blockEnds.ReplaceAllString(s, "\n")
	s = tags.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = whitespace.ReplaceAllString(s, " ")
	s = blankLines.ReplaceAllString(s, "\n")
	return strings.TrimSpace(s)
}

// features are the product's facts the AI may use: its options, tags and
// simple attributes.
func features(p *catalog.Product) []string {
	var facts []string
	for _, o := range p.Options {
		facts = append(facts, o.Name+": "+strings.Join(o.Values, ", "))
	}
	if len(p.Tags) > 0 {
		facts = append(facts, "Tags: "+strings.Join(p.Tags, ", "))
	}
	if p.ProductType != "" {
		facts = append(facts, "Type: "+p.ProductType)
	}
	return facts
}

// aiProduct is the product as the AI is told it.
func aiProduct(p *catalog.Product) ai.Product {
	return ai.Product{
		Title: p.Title, Description: plainText(p.Description), Brand: brand(p), ProductType: p.ProductType,
		Features: features(p), Language: "en-US",
	}
}
