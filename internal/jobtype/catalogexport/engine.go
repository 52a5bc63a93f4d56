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
	"sync/atomic"
	"time"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
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
	// aiPlaces holds a token for each AI call in flight, across batches.
	aiPlaces chan struct{}
	// noCredits is set once a debit is refused for lack of credits.
	noCredits atomic.Pointer[ledger.InsufficientCreditsError]
}

// run exports the selection to the target from where the checkpoint left off.
func (d Deps) run(ctx context.Context, rt jobtype.Runtime, o Options, t target) (any, error) {
	e := &export{Deps: d, rt: rt, opts: o, target: t, clock: cmp.Or[clock.Clock](d.Clock, clock.Real),
		aiPlaces: make(chan struct{}, max(d.AIConcurrency, 1))}
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
	return e.walk(ctx)
}

// batch is one batch on its way through the stages.
type batch struct {
	items []*item
	last  string // the walk's place after it
	done  bool   // the selection ends with it
	err   error  // what stopped its preparation
	// dispatched is closed once its preparation needs no further AI place,
	// prepared once its preparation ended (items and err set).
	dispatched, prepared chan struct{}
}

// walk runs the batches through the stages, which overlap: while one batch
// is sent, the next ones are prepared, a batch starting its AI calls as soon
// as the one before has claimed its last AI place, so no place waits for a
// batch's slowest call. At most two batches are prepared ahead of the one
// being sent. The walk checkpoints after each batch sent.
func (e *export) walk(ctx context.Context) (any, error) {
	prepCtx, cancelPrep := context.WithCancel(ctx)
	defer cancelPrep()
	batches := make(chan *batch, 1)
	var walkErr error // read once batches is closed
	walked := e.st.After
	go func() {
		defer close(batches)
		for {
			products, last, done, err := e.nextBatch(prepCtx, walked)
			if err != nil {
				walkErr = err
				return
			}
			walked = last
			if len(products) == 0 {
				return
			}
			b := e.startBatch(prepCtx, products, last, done)
			select {
			case batches <- b:
			case <-prepCtx.Done():
				<-b.prepared
				return
			}
			if done {
				return
			}
			select {
			case <-b.dispatched:
			case <-prepCtx.Done():
				return
			}
			if e.noCredits.Load() != nil {
				return // no further product can be paid for
			}
		}
	}()
	// stop ends the preparations under way and waits for them: nothing runs
	// on after the walk returns.
	stop := func() {
		cancelPrep()
		for b := range batches {
			<-b.prepared
		}
	}

	for b := range batches {
		<-b.prepared
		var short *ledger.InsufficientCreditsError
		switch {
		case errors.As(b.err, &short):
			// The paid products are sent, those of the batches prepared
			// after it too (they may have paid for some before the credits
			// ran out); the rest wait for a top-up.
			paid := []*batch{b}
			for next := range batches {
				<-next.prepared
				paid = append(paid, next)
			}
			return nil, e.outOfCredits(ctx, short, paid)
		case b.err != nil:
			stop()
			return nil, b.err
		}
		if err := e.send(ctx, b.items); err != nil {
			stop()
			return nil, err
		}
		e.account(b.items)
		e.st.After = b.last
		if err := e.rt.Checkpoint(e.st); err != nil {
			stop()
			return nil, err
		}
	}
	if walkErr != nil {
		return nil, walkErr
	}
	e.st.After = walked
	return e.end()
}

// startBatch prepares products in the background.
func (e *export) startBatch(ctx context.Context, products []catalog.Product, last string, done bool) *batch {
	b := &batch{last: last, done: done, dispatched: make(chan struct{}), prepared: make(chan struct{})}
	var once sync.Once
	go func() {
		defer close(b.prepared)
		b.items, b.err = e.prepare(ctx, products, func() { once.Do(func() { close(b.dispatched) }) })
	}()
	return b
}

// send sends the items of a batch that are ready (not done in preparation).
func (e *export) send(ctx context.Context, items []*item) error {
	var ready []*item
	for _, it := range items {
		if it.outcome == "" {
			ready = append(ready, it)
		}
	}
	return e.target.send(ctx, e, ready)
}

// outOfCredits sends what was paid for and ends the export with the guide's
// "Insufficient credits". The checkpoint stops before the first product not
// paid for, so a retry of this job starts there (the products after it that
// were sent are found recorded by this job); the result counts them all.
func (e *export) outOfCredits(ctx context.Context, short *ledger.InsufficientCreditsError, batches []*batch) error {
	var items []*item
	for _, b := range batches {
		if b.err != nil && !errors.As(b.err, new(*ledger.InsufficientCreditsError)) {
			return b.err
		}
		if err := e.send(ctx, b.items); err != nil {
			return err
		}
		items = append(items, b.items...)
	}
	cut := slices.IndexFunc(items, func(it *item) bool { return it.outcome == outcomeUnpaid })
	if cut > 0 {
		e.st.After = items[cut-1].product.ID
	}
	e.account(items[:cut])
	if err := e.rt.Checkpoint(e.st); err != nil {
		return err
	}
	e.account(items[cut:])
	r := e.st.Result
	left := r.Total - r.Exported - r.Unchanged - r.Invalid - r.Failed
	//lint:ignore ST1005 the guide's wording, shown to store owners as it is
	return jobtype.FailedWithResult(jobtype.KindInsufficientCredits, fmt.Errorf(
		"Insufficient credits: AI optimization of the %d products left needs up to %d credits, and the store has %d. "+
			"Buy more AI credits and run the export again, or export without AI optimization (ai_optimize: false). "+
			"The %d products already exported are not sent again",
		left, int64(left)*e.CreditsPerProduct, short.Balance, r.Exported+r.Unchanged), r)
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
	//lint:ignore ST1005 the guide's wording, shown to store owners as it is
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
