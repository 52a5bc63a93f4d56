package catalogexport

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
)

// batchSize is how many products go through the stages together: eBay's
// bulk limit, and the most work a kill loses.
const batchSize = 25

// maxProductResults bounds the products a result lists one by one (the
// refused ones first); the counts cover all. The result is kept in the job,
// whose item DynamoDB limits to 400 KB.
const maxProductResults = 200

// Product outcomes, as the result lists them.
const (
	outcomeExported  = "exported"
	outcomeUnchanged = "unchanged"
	outcomeInvalid   = "invalid"
	outcomeFailed    = "failed"
	// outcomeUnpaid: not exported, for lack of credits.
	outcomeUnpaid = "not_exported"
)

// Result is what an export reports when it ends; its checkpoint is the same
// with the place it is at.
type Result struct {
	Marketplace string `json:"marketplace"`
	AIOptimize  bool   `json:"ai_optimize"`
	Total       int    `json:"total"`
	Processed   int    `json:"processed"`
	Exported    int    `json:"exported"`
	Unchanged   int    `json:"unchanged"`
	Invalid     int    `json:"invalid"`
	Failed      int    `json:"failed"`
	NotExported int    `json:"not_exported"`
	// AICalls is the model calls made, CreditsCharged the credits debited.
	AICalls        int   `json:"ai_calls"`
	CreditsCharged int64 `json:"credits_charged"`
	// Products lists the products sent or refused (not the unchanged ones),
	// with the marketplace's ids or what was wrong.
	Products        []ProductResult `json:"products"`
	ProductsOmitted int             `json:"products_omitted,omitempty"`
	RateLimitWaitMS int64           `json:"rate_limit_wait_ms"`
}

// ProductResult is one product's outcome.
type ProductResult struct {
	ProductID    string                 `json:"product_id"`
	SKU          string                 `json:"sku,omitempty"`
	Title        string                 `json:"title,omitempty"`
	Status       string                 `json:"status"`
	ASIN         string                 `json:"asin,omitempty"`
	SubmissionID string                 `json:"submission_id,omitempty"`
	OfferID      string                 `json:"offer_id,omitempty"`
	ListingID    string                 `json:"listing_id,omitempty"`
	Issues       []catalog.ListingIssue `json:"issues,omitempty"`
}

// state is the checkpoint: the result so far and where the walk is.
type state struct {
	Result
	// After is the last catalog id the walk finished: every selected product
	// up to it is done.
	After string `json:"after"`
}

// item is one product on its way through an export.
type item struct {
	ordinal  int // its place in the export, from 1
	product  catalog.Product
	hash     string           // what would be sent, hashed
	previous *catalog.Listing // the product's listing before this export
	text     ai.Text
	// outcome is empty while the product is on its way; set once it is done.
	outcome string
	issues  []catalog.ListingIssue
	listing catalog.Listing
}

// target is one marketplace's side of an export.
type target struct {
	name  string // marketplace.Amazon, marketplace.Ebay
	title string // as the progress message says it: "Amazon"
	// connectionVersion is the credentials the job uses, to mark them
	// invalid if the marketplace rejects them.
	connectionVersion string
	limits            ai.Limits
	// check adds the marketplace's own requirements of a product to the
	// common ones (its text is checked against limits).
	check func(p *catalog.Product) []catalog.ListingIssue
	// plainText turns a product into the text sent without AI.
	plainText func(p *catalog.Product) ai.Text
	// send sends the ready items of a batch, recording each one's outcome
	// (and listing) as the marketplace answers.
	send func(ctx context.Context, e *export, items []*item) error
	// longWait turns a rate limit too long to wait inside the job (wait as
	// hinted or backed off) into the job's retry at the right time.
	longWait func(ctx context.Context, err error, wait time.Duration) error
}

// export is one run of an export job.
type export struct {
	Deps
	rt     jobtype.Runtime
	opts   Options
	target target
	clock  clock.Clock

	mu sync.Mutex // guards st's counters and the progress while the stages overlap
	st state
	// done counts the products through either stage, for "Sending to
	// Amazon: 16/30"; prepared those handed to the first stage, for "AI
	// optimizing: Blue Widget (15/30)".
	done, prepared int
	// work is the progress in units: with AI optimization, a product's
	// text is one unit and its sending another, so the bar moves during
	// the AI stage too.
	work int
}

// run exports the selection to the target from where the checkpoint left off.
func (d Deps) run(ctx context.Context, rt jobtype.Runtime, o Options, t target) (any, error) {
	e := &export{Deps: d, rt: rt, opts: o, target: t, clock: cmp.Or[clock.Clock](d.Clock, clock.Real)}
	if o.aiOptimize() && (d.AI == nil || d.Ledger == nil) {
		return nil, jobtype.Permanent(errors.New("AI optimization is not available on this platform (no AI model or credits ledger is configured): export with ai_optimize set to false"))
	}
	resumed, err := rt.Resume(&e.st)
	if err != nil {
		return nil, err
	}
	if resumed {
		rt.Log(slog.LevelInfo, "resuming the export", slog.String("after", e.st.After), slog.Int("processed", e.st.Processed))
	} else {
		total, err := e.count(ctx)
		if err != nil {
			return nil, err
		}
		e.st.Result = Result{Marketplace: t.name, AIOptimize: o.aiOptimize(), Total: total, Products: []ProductResult{}}
		rt.Progress(0, fmt.Sprintf("Exporting to %s: 0/%d", t.title, total))
	}
	e.done, e.prepared, e.work = e.st.Processed, e.st.Processed, e.st.Processed*e.unitsPerProduct()

	// Two stages overlap: the batch in flight is being sent while the next is
	// prepared. finish waits for the one in flight and checkpoints after it.
	var (
		sending  chan error
		inflight []*item
		upTo     string
		// walked is where the next batch is read from: ahead of the
		// checkpoint's After while a batch is in flight.
		walked = e.st.After
	)
	finish := func() error {
		if sending == nil {
			return nil
		}
		err := <-sending
		sending = nil
		if err != nil {
			// What was sent is recorded in the catalog; the retry counts it
			// from there, as this job's.
			return err
		}
		e.account(inflight)
		e.st.After = upTo
		return rt.Checkpoint(e.st)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, errors.Join(err, finish())
		}
		batch, last, done, err := e.nextBatch(ctx, walked)
		if err != nil {
			return nil, errors.Join(err, finish())
		}
		if len(batch) == 0 {
			if err := finish(); err != nil {
				return nil, err
			}
			e.st.After = last
			break
		}
		walked = last
		items, stop := e.prepare(ctx, batch)
		if err := finish(); err != nil {
			return nil, errors.Join(err, stop)
		}
		var insufficient *insufficientCredits
		outOfCredits := errors.As(stop, &insufficient)
		if stop != nil && !outOfCredits {
			return nil, stop
		}
		var ready []*item
		for _, it := range items {
			if it.outcome == "" {
				ready = append(ready, it)
			}
		}
		inflight, upTo = items, last
		sending = make(chan error, 1)
		go func() { sending <- e.target.send(ctx, e, ready) }()
		if outOfCredits {
			// The paid products are sent; the rest wait for a top-up. The
			// checkpoint stops before the first product not paid for, so a
			// retry of this job starts there (the products after it that
			// were sent are found recorded by this job); the result counts
			// them all.
			cut := slices.IndexFunc(items, func(it *item) bool { return it.outcome == outcomeUnpaid })
			inflight = items[:cut]
			if cut > 0 {
				upTo = items[cut-1].product.ID
			} else {
				upTo = e.st.After
			}
			if err := finish(); err != nil {
				return nil, err
			}
			e.account(items[cut:])
			return nil, e.outOfCredits(insufficient)
		}
		if done {
			if err := finish(); err != nil {
				return nil, err
			}
			break
		}
	}
	return e.end()
}

// end reports the export: completed, or failed for the products refused.
func (e *export) end() (any, error) {
	r := e.st.Result
	e.rt.Log(slog.LevelInfo, "export done", slog.Int("exported", r.Exported), slog.Int("unchanged", r.Unchanged),
		slog.Int("invalid", r.Invalid), slog.Int("failed", r.Failed), slog.Int64("credits_charged", r.CreditsCharged))
	refused := r.Invalid + r.Failed
	if refused == 0 {
		return r, nil
	}
	what := fmt.Sprintf("%d of %d products were not exported to %s", refused, r.Total, e.target.title)
	if r.Failed > 0 {
		what += fmt.Sprintf(" (%d refused for their data, %d whose text could not be written)", r.Invalid, r.Failed)
	}
	return nil, jobtype.FailedWithResult(jobtype.KindValidation, fmt.Errorf(
		"Product validation failed: %s. The result lists each product with its missing or rejected fields: fix them and export again; only those products are sent (%d exported, %d unchanged)",
		what, r.Exported, r.Unchanged), r)
}

// count is how many products the selection takes, for the progress.
func (e *export) count(ctx context.Context) (int, error) {
	if ids := e.opts.ProductIDs; len(ids) > 0 {
		return len(uniqueSorted(ids)), nil
	}
	total, cursor := 0, ""
	for {
		page, err := e.Catalog.List(ctx, e.rt.StoreID(), catalog.KindProduct, "", 100, cursor)
		if err != nil {
			return 0, err
		}
		for _, doc := range page.Docs {
			var p catalog.Product
			if err := json.Unmarshal(doc, &p); err != nil {
				return 0, fmt.Errorf("catalog product: %w", err)
			}
			if e.opts.selects(&p) {
				total++
			}
		}
		if page.Next == "" {
			return total, nil
		}
		cursor = page.Next
	}
}

// nextBatch reads the next products of the selection after the catalog id
// after, up to a batch. last is the last id it looked at (the walk goes on
// from there), and done says the selection has nothing after it. Products
// named by id that the catalog lacks come as products with only an id.
func (e *export) nextBatch(ctx context.Context, after string) (batch []catalog.Product, last string, done bool, err error) {
	storeID := e.rt.StoreID()
	if ids := e.opts.ProductIDs; len(ids) > 0 {
		ids = uniqueSorted(ids)
		start, _ := slices.BinarySearch(ids, after)
		if start < len(ids) && ids[start] == after {
			start++
		}
		end := min(start+batchSize, len(ids))
		if start >= end {
			return nil, after, true, nil
		}
		found, err := e.Catalog.Products(ctx, storeID, ids[start:end])
		if err != nil {
			return nil, "", false, err
		}
		for _, id := range ids[start:end] {
			p, ok := found[id]
			if !ok {
				p = catalog.Product{ID: id}
			}
			batch = append(batch, p)
		}
		return batch, ids[end-1], end == len(ids), nil
	}
	cursor := catalog.CursorAfter(catalog.KindProduct, after)
	last = after
	for {
		page, err := e.Catalog.List(ctx, storeID, catalog.KindProduct, "", batchSize, cursor)
		if err != nil {
			return nil, "", false, err
		}
		for _, doc := range page.Docs {
			var p catalog.Product
			if err := json.Unmarshal(doc, &p); err != nil {
				return nil, "", false, fmt.Errorf("catalog product: %w", err)
			}
			last = p.ID
			if e.opts.selects(&p) {
				batch = append(batch, p)
				if len(batch) == batchSize {
					return batch, last, false, nil
				}
			}
		}
		if page.Next == "" {
			return batch, last, true, nil
		}
		cursor = page.Next
	}
}

func uniqueSorted(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}

// exportHash is the hash of what an export sends of p: its content, and
// whether the AI rewrites its text.
func exportHash(p *catalog.Product, optimize bool) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00ai=%t", p.ContentHash, optimize))
	return hex.EncodeToString(sum[:])
}

// account adds a finished batch's outcomes to the result.
func (e *export) account(items []*item) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := &e.st.Result
	for _, it := range items {
		r.Processed++
		switch it.outcome {
		case outcomeExported:
			r.Exported++
		case outcomeUnchanged:
			r.Unchanged++
			continue // listed as before: not worth a line
		case outcomeInvalid:
			r.Invalid++
		case outcomeFailed:
			r.Failed++
		case outcomeUnpaid:
			r.NotExported++
			continue
		}
		line := ProductResult{
			ProductID: it.product.ID, SKU: it.product.SKU, Title: it.listing.Title, Status: it.outcome,
			ASIN: it.listing.ASIN, SubmissionID: it.listing.SubmissionID, OfferID: it.listing.OfferID, ListingID: it.listing.ListingID,
			Issues: it.issues,
		}
		if line.Title == "" {
			line.Title = it.product.Title
		}
		r.Products = keepProductResult(r.Products, line, &r.ProductsOmitted)
	}
}

// keepProductResult adds line to the listed results, keeping at most
// maxProductResults and preferring the refused products, which the store
// owner must act on, over exported ones.
func keepProductResult(lines []ProductResult, line ProductResult, omitted *int) []ProductResult {
	if len(lines) < maxProductResults {
		return append(lines, line)
	}
	if line.Status != outcomeExported {
		if i := slices.IndexFunc(lines, func(l ProductResult) bool { return l.Status == outcomeExported }); i >= 0 {
			lines = slices.Delete(lines, i, i+1)
			*omitted++
			return append(lines, line)
		}
	}
	*omitted++
	return lines
}

// record saves a product's listing as the export leaves it, the moment it
// is known, and sets the item's outcome.
func (e *export) record(ctx context.Context, it *item, outcome, status string, issues []catalog.ListingIssue, ids catalog.Listing) error {
	l := ids
	l.Marketplace, l.ProductID, l.SKU = e.target.name, it.product.ID, it.product.SKU
	l.Status, l.ExportHash, l.ProductHash = status, it.hash, it.product.ContentHash
	l.AIOptimized = e.opts.aiOptimize() && status == catalog.ListingListed
	l.Title = cmp.Or(it.text.Title, it.product.Title)
	l.Issues, l.JobID = issues, e.rt.JobID()
	l.ExportedAt = job.NewTime(e.clock.Now()).Format(job.TimeLayout)
	if err := e.Catalog.PutListing(context.WithoutCancel(ctx), e.rt.StoreID(), l); err != nil {
		return err
	}
	it.outcome, it.issues, it.listing = outcome, issues, l
	return nil
}

// unitsPerProduct is a product's share of the progress.
func (e *export) unitsPerProduct() int {
	if e.opts.aiOptimize() {
		return 2
	}
	return 1
}

// advance adds units of work to the progress and returns the percentage.
func (e *export) advance(units int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.work += units
	if e.st.Total == 0 {
		return 99
	}
	return min(99, e.work*100/(e.st.Total*e.unitsPerProduct()))
}

// finished counts one more product done: one that never reached a stage
// (skipped, refused by the checks, its text unwritable) for all its work,
// one sent for its sending, which is reported.
func (e *export) finished(sent bool) {
	units := e.unitsPerProduct()
	if sent {
		units = 1 // its text, if any, was counted when written
	}
	percent := e.advance(units)
	e.mu.Lock()
	e.done++
	done, total := e.done, e.st.Total
	e.mu.Unlock()
	if sent {
		e.rt.Progress(percent, fmt.Sprintf("Sending to %s: %d/%d", e.target.title, done, max(total, done)))
	}
}
