package catalogexport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/connected"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/ebay"
)

// eBay's limits on an inventory item's text (characters): it has no bullet
// points, and a SKU of at most 50 characters.
var ebayLimits = ai.Limits{Marketplace: "eBay", TitleMax: 80, DescriptionMax: 4000}

const ebaySKUMax = 50

// ebayLocale is the locale inventory items are written in.
const ebayLocale = "en_US"

func (d Deps) ebay(ctx context.Context, rt jobtype.Runtime, o Options) (any, error) {
	var creds connection.Ebay
	conn, err := connected.Load(ctx, d.Connections, rt.StoreID(), marketplace.Ebay, &creds)
	if err != nil {
		return nil, err
	}
	if missing := creds.MissingListingSettings(); len(missing) > 0 {
		return nil, jobtype.Permanent(fmt.Errorf("the eBay connection lacks the listing settings every offer needs (%s): add them in the Marketplace Hub and run the export again",
			strings.Join(missing, ", ")))
	}
	client, err := d.Clients.Ebay(creds)
	if err != nil {
		return nil, jobtype.Permanent(err)
	}
	// A token first: credentials the marketplace rejects fail the export
	// before any product is paid for.
	if _, err := client.AccessToken(ctx); err != nil {
		return nil, connected.Classify(ctx, rt, d.Connections, marketplace.Ebay, conn.Version, err)
	}
	t := target{
		name: marketplace.Ebay, title: "eBay", connectionVersion: conn.Version, limits: ebayLimits,
		check: func(p *catalog.Product) []catalog.ListingIssue {
			var issues []catalog.ListingIssue
			if n := utf8.RuneCountInString(p.SKU); n > ebaySKUMax {
				issues = append(issues, catalog.ListingIssue{Field: "sku", Severity: "ERROR", Source: sourceExport,
					Message: fmt.Sprintf("the SKU is %d characters; eBay allows %d: give the product a shorter SKU", n, ebaySKUMax)})
			}
			if quantity(p) <= 0 {
				// eBay publishes no offer without stock: found before the
				// product is paid for and written.
				issues = append(issues, catalog.ListingIssue{Field: "quantity", Severity: "ERROR", Source: sourceExport,
					Message: "no stock: eBay lists only products with an available quantity above 0"})
			}
			return issues
		},
		// eBay's listing description takes HTML: the source's is kept.
		plainText: func(p *catalog.Product) ai.Text { return ai.Text{Title: p.Title, Description: p.Description} },
		longWait: func(ctx context.Context, err error, wait time.Duration) error {
			// eBay's quotas are daily: a 429 that outlasts the backoff is the
			// day's quota spent, to be retried when it resets, which the
			// Analytics API tells.
			if reset, resetErr := client.QuotaReset(ctx); resetErr == nil {
				if until := reset.Sub(cmp.Or[clock.Clock](d.Clock, clock.Real).Now()); until > wait {
					wait = until
				}
			}
			return jobtype.RateLimited(wait, err)
		},
	}
	settings := creds
	t.send = func(ctx context.Context, e *export, items []*item) error {
		return e.sendToEbay(ctx, client, settings, items)
	}
	return d.run(ctx, rt, o, t)
}

// sendToEbay writes the batch's inventory items in one bulk call (each one
// replacing the SKU's item), then for each item eBay took, updates the
// SKU's offer or creates it when there is none (so sending again never
// makes a second one) and publishes it, which revises the same listing.
func (e *export) sendToEbay(ctx context.Context, client *ebay.Client, settings connection.Ebay, items []*item) error {
	if len(items) == 0 {
		return nil
	}
	requests := make([]ebay.InventoryItem, len(items))
	bySKU := make(map[string]*item, len(items))
	for i, it := range items {
		requests[i] = e.ebayInventoryItem(&it.product, it.text)
		bySKU[it.product.SKU] = it
	}
	var results []ebay.ItemResult
	if err := e.call(ctx, func() (err error) {
		results, err = client.BulkCreateOrReplaceInventoryItems(ctx, requests)
		return err
	}); err != nil {
		return e.classify(ctx, err)
	}
	var accepted []*item
	for _, r := range results {
		it := bySKU[r.SKU]
		if it == nil {
			continue
		}
		if r.StatusCode >= 400 {
			if err := e.record(ctx, it, outcomeInvalid, catalog.ListingInvalid, ebayIssues(r.Errors, "ERROR"), catalog.Listing{}); err != nil {
				return err
			}
			e.finished(true)
			continue
		}
		accepted = append(accepted, it)
	}
	group, gctx := errgroup.WithContext(ctx)
	group.SetLimit(max(e.SendConcurrency, 1))
	for _, it := range accepted {
		group.Go(func() error { return e.offerOnEbay(gctx, client, settings, it) })
	}
	return group.Wait()
}

// offerOnEbay creates or updates the product's offer and publishes it.
func (e *export) offerOnEbay(ctx context.Context, client *ebay.Client, settings connection.Ebay, it *item) error {
	p := &it.product
	amount, currency := price(p)
	offer := ebay.Offer{
		SKU: p.SKU, MarketplaceID: client.MarketplaceID(), Format: "FIXED_PRICE",
		AvailableQuantity: quantity(p), CategoryID: settings.CategoryID, MerchantLocationKey: settings.MerchantLocationKey,
		ListingDescription: it.text.Description,
		Price:              ebay.Price{Value: strconv.FormatFloat(amount, 'f', 2, 64), Currency: currency},
		Policies: ebay.ListingPolicies{FulfillmentPolicyID: settings.FulfillmentPolicyID,
			PaymentPolicyID: settings.PaymentPolicyID, ReturnPolicyID: settings.ReturnPolicyID},
	}
	var offers []ebay.Offer
	if err := e.call(ctx, func() (err error) { offers, err = client.OffersBySKU(ctx, p.SKU); return err }); err != nil {
		return e.classify(ctx, err)
	}
	offerID := ""
	for _, o := range offers {
		if o.MarketplaceID == offer.MarketplaceID && o.Format == offer.Format {
			offerID = o.OfferID
		}
	}
	var listingID string
	err := e.call(ctx, func() (err error) {
		if offerID == "" {
			offerID, err = client.CreateOffer(ctx, offer)
		} else {
			err = client.UpdateOffer(ctx, offerID, offer)
		}
		return err
	})
	if err == nil {
		err = e.call(ctx, func() (err error) { listingID, err = client.PublishOffer(ctx, offerID); return err })
	}
	var refused *marketplace.PermanentError
	switch {
	case errors.As(err, &refused):
		// eBay refuses the offer for this product's data: its words say what.
		err = e.record(ctx, it, outcomeInvalid, catalog.ListingInvalid, []catalog.ListingIssue{{
			Severity: "ERROR", Source: marketplace.Ebay, Message: refused.Reason,
		}}, catalog.Listing{OfferID: offerID})
	case err != nil:
		return e.classify(ctx, err)
	default:
		err = e.record(ctx, it, outcomeExported, catalog.ListingListed, nil, catalog.Listing{OfferID: offerID, ListingID: listingID})
	}
	if err != nil {
		return err
	}
	e.finished(true)
	return nil
}

// ebayInventoryItem is the product as an inventory item.
func (e *export) ebayInventoryItem(p *catalog.Product, text ai.Text) ebay.InventoryItem {
	aspects := map[string][]string{}
	if b := brand(p); b != "" {
		aspects["Brand"] = []string{b}
	}
	for _, o := range p.Options {
		aspects[o.Name] = o.Values
	}
	product := &ebay.Product{
		Title: text.Title, Description: text.Description, Aspects: aspects, Brand: brand(p), ImageURLs: e.imageURLs(p),
	}
	if kind, code := barcode(p); kind == "upc" {
		product.UPC = []string{code}
	} else if code != "" {
		product.EAN = []string{code}
	}
	return ebay.InventoryItem{
		SKU: p.SKU, Locale: ebayLocale, Condition: "NEW",
		Availability: &ebay.Availability{ShipToLocationAvailability: ebay.ShipToLocationAvailability{Quantity: quantity(p)}},
		Product:      product,
	}
}

func ebayIssues(problems []ebay.Problem, severity string) []catalog.ListingIssue {
	var out []catalog.ListingIssue
	for _, pr := range problems {
		field := ""
		for _, param := range pr.Parameters {
			if param.Name == "text" || param.Name == "field" {
				field = param.Value
			}
		}
		out = append(out, catalog.ListingIssue{Field: field, Code: strconv.Itoa(pr.ErrorID), Severity: severity, Message: pr.String(), Source: marketplace.Ebay})
	}
	return out
}
