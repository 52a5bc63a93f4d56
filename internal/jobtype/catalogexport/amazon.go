package catalogexport

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/connected"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/amazon"
)

// amazonProductType is the product type listings are sent as: Amazon's
// generic one. Which attributes a type requires comes from its definition
// (the Product Type Definitions API); the ones sent here are those every
// type asks for.
const amazonProductType = "PRODUCT"

// Amazon's limits on a listing's text (characters), and on a seller SKU.
var amazonLimits = ai.Limits{Marketplace: "Amazon", TitleMax: 200, DescriptionMax: 2000, BulletMax: 500, BulletsMax: 5}

const amazonSKUMax = 40

// amazonLanguage is the language tag of the text sent.
const amazonLanguage = "en_US"

func (d Deps) amazon(ctx context.Context, rt jobtype.Runtime, o Options) (any, error) {
	var creds connection.Amazon
	conn, err := connected.Load(ctx, d.Connections, rt.StoreID(), marketplace.Amazon, &creds)
	if err != nil {
		return nil, err
	}
	client, err := d.Clients.Amazon(creds)
	if err != nil {
		return nil, jobtype.Permanent(err)
	}
	// A token first: credentials the marketplace rejects fail the export
	// before any product is paid for.
	if _, err := client.AccessToken(ctx); err != nil {
		return nil, connected.Classify(ctx, rt, d.Connections, marketplace.Amazon, conn.Version, err)
	}
	t := target{
		name: marketplace.Amazon, title: "Amazon", connectionVersion: conn.Version, limits: amazonLimits,
		check: func(p *catalog.Product) []catalog.ListingIssue {
			var issues []catalog.ListingIssue
			if n := utf8.RuneCountInString(p.SKU); n > amazonSKUMax {
				issues = append(issues, catalog.ListingIssue{Field: "sku", Severity: "ERROR", Source: sourceExport,
					Message: fmt.Sprintf("the SKU is %d characters; Amazon allows %d: give the product a shorter SKU", n, amazonSKUMax)})
			}
			return issues
		},
		plainText: func(p *catalog.Product) ai.Text {
			return ai.Text{Title: p.Title, Description: plainText(p.Description)}
		},
		longWait: retryAt,
	}
	t.send = func(ctx context.Context, e *export, items []*item) error {
		group, gctx := errgroup.WithContext(ctx)
		group.SetLimit(max(e.SendConcurrency, 1))
		for _, it := range items {
			group.Go(func() error { return e.sendToAmazon(gctx, client, it) })
		}
		return group.Wait()
	}
	return d.run(ctx, rt, o, t)
}

// sendToAmazon puts one product's listing in each marketplace of the
// connection (a full replace of the SKU's listing, so sending it again never
// makes a second one) and records what Amazon made of it.
func (e *export) sendToAmazon(ctx context.Context, client *amazon.Client, it *item) error {
	p := &it.product
	attributes := e.amazonAttributes(p, it.text)
	var sub amazon.Submission
	err := e.call(ctx, func() (err error) {
		sub, err = client.PutListingsItem(ctx, p.SKU, amazonProductType, attributes)
		return err
	})
	var refused *marketplace.PermanentError
	switch {
	case errors.As(err, &refused):
		// A request Amazon refuses for this product's data (400).
		err = e.record(ctx, it, outcomeInvalid, catalog.ListingInvalid, []catalog.ListingIssue{{
			Severity: "ERROR", Source: marketplace.Amazon, Message: refused.Reason,
		}}, catalog.Listing{})
	case err != nil:
		return e.classify(ctx, err)
	case sub.Status == amazon.SubmissionAccepted:
		ids := catalog.Listing{SubmissionID: sub.SubmissionID}
		if len(sub.Identifiers) > 0 {
			ids.ASIN = sub.Identifiers[0].ASIN
		}
		err = e.record(ctx, it, outcomeExported, catalog.ListingListed, amazonIssues(sub.Issues), ids)
	default: // INVALID: Amazon's issues say what to fix.
		err = e.record(ctx, it, outcomeInvalid, catalog.ListingInvalid, amazonIssues(sub.Issues), catalog.Listing{SubmissionID: sub.SubmissionID})
	}
	if err != nil {
		return err
	}
	e.finished(true)
	return nil
}

func amazonIssues(issues []amazon.Issue) []catalog.ListingIssue {
	var out []catalog.ListingIssue
	for _, is := range issues {
		field := ""
		if len(is.AttributeNames) > 0 {
			field = is.AttributeNames[0]
		}
		out = append(out, catalog.ListingIssue{Field: field, Code: is.Code, Severity: is.Severity, Message: is.Message, Source: marketplace.Amazon})
	}
	return out
}

// amazonAttributes are the listing's attributes: the text the export
// writes, and the rest mapped from the catalog. They name no marketplace,
// so the same values go to each marketplace of the connection.
func (e *export) amazonAttributes(p *catalog.Product, text ai.Text) map[string]any {
	value := func(v any) []map[string]any { return []map[string]any{{"value": v}} }
	texts := func(vs ...string) []map[string]any {
		out := make([]map[string]any, 0, len(vs))
		for _, v := range vs {
			out = append(out, map[string]any{"value": v, "language_tag": amazonLanguage})
		}
		return out
	}
	amount, currency := price(p)
	attributes := map[string]any{
		"item_name":      texts(text.Title),
		"brand":          value(brand(p)),
		"condition_type": value("new_new"),
		"purchasable_offer": []map[string]any{{
			"currency":  currency,
			"our_price": []map[string]any{{"schedule": []map[string]any{{"value_with_tax": amount}}}},
		}},
		"fulfillment_availability": []map[string]any{{"fulfillment_channel_code": "DEFAULT", "quantity": quantity(p)}},
	}
	if text.Description != "" {
		attributes["product_description"] = texts(text.Description)
	}
	if len(text.Bullets) > 0 {
		attributes["bullet_point"] = texts(text.Bullets...)
	}
	if kind, code := barcode(p); code != "" {
		attributes["externally_assigned_product_identifier"] = []map[string]any{{"type": kind, "value": code}}
	}
	for i, url := range e.imageURLs(p) {
		name := "main_product_image_locator"
		if i > 0 {
			name = "other_product_image_locator_" + strconv.Itoa(i)
		}
		if i > 8 { // Amazon takes a main image and 8 others
			break
		}
		attributes[name] = []map[string]any{{"media_location": url}}
	}
	return attributes
}
