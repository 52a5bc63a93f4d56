package catalogexport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/credits"
	"github.com/dainostore/jobs/internal/ledger"
)

// prepare readies a batch: it looks up the products' listings, skips the
// unchanged ones, checks the rest and, with AI optimization, pays for and
// writes their text. The items come in order, those already done with their
// outcome. The error stops the export: *ledger.InsufficientCreditsError after the
// products it could pay for, or a fault. dispatched is called (once) when
// the batch needs no further AI place, so the next batch may start.
func (e *export) prepare(ctx context.Context, batch []catalog.Product, dispatched func()) ([]*item, error) {
	ids := make([]string, len(batch))
	for i, p := range batch {
		ids[i] = p.ID
	}
	previous, err := e.Catalog.Listings(ctx, e.rt.StoreID(), e.target.name, ids)
	if err != nil {
		dispatched()
		return nil, err
	}
	optimize := e.opts.aiOptimize()
	items := make([]*item, len(batch))
	var toWrite []*item
	for i := range batch {
		p := &batch[i]
		e.prepared++
		it := &item{ordinal: e.prepared, product: *p, hash: exportHash(p, optimize)}
		items[i] = it
		if l, ok := previous[p.ID]; ok {
			it.previous = &l
		}
		switch prev := it.previous; {
		case p.ContentHash == "":
			// Named by id, but not in the catalog: nothing to record it on.
			it.outcome = outcomeInvalid
			it.issues = []catalog.ListingIssue{{Field: "product_ids", Source: sourceExport,
				Message: fmt.Sprintf("the store's catalog has no product %s: import it first, or check the id", p.ID)}}
		case prev != nil && prev.ExportHash == it.hash && prev.JobID == e.rt.JobID():
			// Done by this job before a crash or a retry: counted as it was.
			it.outcome, it.issues, it.listing = outcomeOfListing(prev.Status), prev.Issues, *prev
		case prev != nil && prev.ExportHash == it.hash && prev.Status == catalog.ListingListed:
			it.outcome, it.listing = outcomeUnchanged, *prev
		default:
			var issues []catalog.ListingIssue
			if !optimize {
				it.text = e.target.plainText(p)
				issues = e.check(p, it.text, false)
			} else {
				issues = e.check(p, ai.Text{}, true)
			}
			if len(issues) > 0 {
				if err := e.record(ctx, it, outcomeInvalid, catalog.ListingInvalid, issues, catalog.Listing{}); err != nil {
					dispatched()
					return nil, err
				}
			} else if optimize {
				toWrite = append(toWrite, it)
			}
		}
		if it.outcome != "" {
			e.finished(false)
		}
	}
	if len(toWrite) == 0 {
		dispatched()
		return items, nil
	}
	return items, e.writeTexts(ctx, toWrite, dispatched)
}

func outcomeOfListing(status string) string {
	switch status {
	case catalog.ListingListed:
		return outcomeExported
	case catalog.ListingInvalid:
		return outcomeInvalid
	}
	return outcomeFailed
}

// writeTexts pays for and writes the AI text of items, each holding one of
// the export's AI places (shared with the next batch's preparation, so that
// no place waits for this batch's slowest call). dispatched is called once
// every item holds or held a place, or will not. Once a debit is refused
// for lack of credits, no further product of the export is paid for or
// started; those left get the outcome "not exported", and the error is
// *ledger.InsufficientCreditsError.
func (e *export) writeTexts(ctx context.Context, items []*item, dispatched func()) error {
	group, gctx := errgroup.WithContext(ctx)
	for _, it := range items {
		if e.noCredits.Load() != nil {
			it.outcome = outcomeUnpaid
			continue
		}
		select {
		case e.aiPlaces <- struct{}{}:
		case <-gctx.Done():
			dispatched()
			return errors.Join(group.Wait(), gctx.Err())
		}
		group.Go(func() error {
			defer func() { <-e.aiPlaces }()
			if e.noCredits.Load() != nil {
				it.outcome = outcomeUnpaid
				return nil
			}
			e.rt.Progress(e.advance(0), fmt.Sprintf("AI optimizing: %s (%d/%d)", it.product.Title, it.ordinal, max(e.st.Total, it.ordinal)))
			if err := e.pay(gctx, it); err != nil {
				var short *ledger.InsufficientCreditsError
				if errors.As(err, &short) {
					e.noCredits.CompareAndSwap(nil, short)
					it.outcome = outcomeUnpaid
					return nil
				}
				return err
			}
			return e.optimize(gctx, it)
		})
	}
	dispatched()
	if err := group.Wait(); err != nil {
		return err
	}
	if slices.ContainsFunc(items, func(it *item) bool { return it.outcome == outcomeUnpaid }) {
		return e.noCredits.Load()
	}
	return nil
}

// pay debits the product's AI optimization from the store's credits. The
// idempotency key is the job, the product and its content: whatever runs
// this again (a crash, a retry, a duplicate message, a continuation) is
// answered as a replay, not charged.
func (e *export) pay(ctx context.Context, it *item) error {
	p := &it.product
	result, err := e.Ledger.Debit(ctx, ledger.Debit{
		StoreID:        e.rt.StoreID(),
		Credits:        e.CreditsPerProduct,
		Reason:         fmt.Sprintf("AI optimization of %s for %s", p.SKU, e.target.title),
		Reference:      e.rt.JobID(),
		IdempotencyKey: fmt.Sprintf("ai-optimize:%s:%s:%s", e.rt.JobID(), p.ID, p.ContentHash),
	})
	if err != nil {
		return credits.DebitError(ctx, err)
	}
	e.mu.Lock()
	e.st.CreditsCharged += e.CreditsPerProduct
	e.mu.Unlock()
	if result.Replayed {
		e.rt.Log(slog.LevelInfo, "debit answered as a replay: the product was paid for before", slog.String("product", p.ID))
	}
	return nil
}

// optimize has the model write the product's text. A product whose text
// cannot be written is recorded as failed; a model that is wrongly
// configured fails the job; throttling and faults are retried.
func (e *export) optimize(ctx context.Context, it *item) error {
	p := &it.product
	text, usage, err := e.AI.Optimize(ctx, aiProduct(p), e.target.limits)
	e.mu.Lock()
	e.st.AICalls += usage.Calls
	e.mu.Unlock()
	var itemErr *ai.ItemError
	var config *ai.ConfigError
	switch {
	case err == nil:
		it.text = text
		if issues := textIssues(e.target.title, e.target.limits, text, true); len(issues) > 0 {
			return e.failed(ctx, it, issues)
		}
		e.advance(1)
		return nil
	case errors.As(err, &itemErr):
		return e.failed(ctx, it, []catalog.ListingIssue{{
			Source: sourceExport, Message: "the AI could not write this product's text: " + itemErr.Error(),
		}})
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &config):
		return jobtype.Permanent(err)
	}
	return fmt.Errorf("AI optimizing %s: %w", p.SKU, err)
}

// failed records a product whose text could not be written: it is done,
// and not sent.
func (e *export) failed(ctx context.Context, it *item, issues []catalog.ListingIssue) error {
	if err := e.record(ctx, it, outcomeFailed, catalog.ListingFailed, issues, catalog.Listing{}); err != nil {
		return err
	}
	e.finished(false)
	return nil
}
