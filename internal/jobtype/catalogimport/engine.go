// Package catalogimport is the job types that bring a store's catalog in:
// shopify:import:collections, shopify:import:products, shopify:import:all,
// akeneo:import:categories, akeneo:import:products and akeneo:import:all.
//
// Every import is the same loop over phases (collections, then products):
// read a page from the marketplace, write what changed to the catalog, store
// new images, checkpoint the cursor and counts. A crash, a deploy, the Lambda
// time limit or a retry resumes at the page it was on; a page run twice
// writes nothing twice, because each item is compared with the catalog by
// its content hash, and downloads no image twice, because each stored image
// is recorded by its source URL the moment it is stored.
package catalogimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/connected"
	"github.com/dainostore/jobs/internal/marketplace"
)

// Deps are what every import needs.
type Deps struct {
	Connections *connection.Store
	Clients     connection.Clients
	Catalog     *catalog.Store
	Images      *catalog.Images
	// MaxInlineWait is the longest rate-limit wait a job sleeps through
	// itself; a longer hint becomes a retry at the hinted time, so no worker
	// sits idle for minutes. Zero means 30 s.
	MaxInlineWait time.Duration
	// Sleep waits inside a job; nil is a timer that honours the context.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock stamps imported items; nil is the wall clock.
	Clock clock.Clock
}

// maxFailedItems is how many failed items a result lists; the count covers all.
const maxFailedItems = 100

// imageDownloads is how many images a page downloads at once.
const imageDownloads = 4

// phase is one kind of item an import brings in.
type phase struct {
	name  string // as the result names it: products, collections, categories
	label string // as the progress message starts: "Importing products"
	kind  string // the catalog kind
	count func(ctx context.Context) (int, error)
	page  func(ctx context.Context, cursor string) (page, error)
}

// page is one page of a source, in catalog form.
type page struct {
	products    []catalog.Product
	collections []catalog.Collection
	categories  []catalog.Category
	next        string // empty on the last page
}

// source is one marketplace's side of an import.
type source struct {
	marketplace string
	// connectionVersion is the credentials the job uses, to mark them
	// invalid if the marketplace rejects them.
	connectionVersion string
	phases            []phase
	// download opens an image for storing. An error of type
	// *catalog.ImageError means the image can never be stored as it is.
	download func(ctx context.Context, url string) (io.ReadCloser, error)
}

// Counts are one phase's numbers.
type Counts struct {
	Total     int `json:"total"`
	Processed int `json:"processed"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
}

// FailedItem is an item that could not be imported, or imported without
// something (an image).
type FailedItem struct {
	Kind     string `json:"kind"` // product, collection, category
	SourceID string `json:"source_id"`
	SKU      string `json:"sku,omitempty"`
	Reason   string `json:"reason"`
}

// ImageCounts say how many images were stored and how many were already.
type ImageCounts struct {
	Downloaded int `json:"downloaded"`
	Reused     int `json:"reused"`
	Failed     int `json:"failed"`
}

// Result is what an import reports when it ends; its checkpoint is the same
// with the place it is at.
type Result struct {
	Phases          map[string]*Counts `json:"phases"`
	Images          ImageCounts        `json:"images"`
	FailedItems     []FailedItem       `json:"failed_items"`
	FailedCount     int                `json:"failed_items_count"`
	RateLimitWaitMS int64              `json:"rate_limit_wait_ms"`
}

type state struct {
	Result
	Phase  int    `json:"phase"`
	Cursor string `json:"cursor"`
}

// run imports every phase of src from where the job's checkpoint left off.
func (d Deps) run(ctx context.Context, rt jobtype.Runtime, src source) (any, error) {
	var st state
	resumed, err := rt.Resume(&st)
	if err != nil {
		return nil, err
	}
	if resumed {
		rt.Log(slog.LevelInfo, "resuming the import", slog.Int("phase", st.Phase), slog.String("cursor", st.Cursor))
	}
	if st.Phases == nil {
		st.Phases = map[string]*Counts{}
		// Count every phase first, so the percentage covers the whole job.
		for _, ph := range src.phases {
			var total int
			if err := d.call(ctx, rt, &st, src, func() (err error) { total, err = ph.count(ctx); return err }); err != nil {
				return nil, err
			}
			st.Phases[ph.name] = &Counts{Total: total}
		}
		rt.Progress(0, fmt.Sprintf("%s: 0/%d", src.phases[0].label, st.Phases[src.phases[0].name].Total))
	}
	for ; st.Phase < len(src.phases); st.Phase, st.Cursor = st.Phase+1, "" {
		ph := src.phases[st.Phase]
		for {
			// A cancel or the invocation's end stops the job here, at a page
			// boundary: the checkpoint already holds this place.
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var pg page
			cursor := st.Cursor
			if err := d.call(ctx, rt, &st, src, func() (err error) { pg, err = ph.page(ctx, cursor); return err }); err != nil {
				return nil, err
			}
			if err := d.save(ctx, rt, &st, src, ph, pg); err != nil {
				return nil, d.classify(ctx, rt, src, err)
			}
			counts := st.Phases[ph.name]
			rt.Progress(st.percent(), fmt.Sprintf("%s: %d/%d", ph.label, counts.Processed, max(counts.Total, counts.Processed)))
			if pg.next == "" {
				break
			}
			st.Cursor = pg.next
			if err := rt.Checkpoint(st); err != nil {
				return nil, err
			}
		}
		counts := st.Phases[ph.name]
		rt.Log(slog.LevelInfo, ph.name+" imported", slog.Int("created", counts.Created), slog.Int("updated", counts.Updated),
			slog.Int("unchanged", counts.Unchanged), slog.Int("failed", counts.Failed))
		if st.Phase+1 < len(src.phases) {
			next := st
			next.Phase, next.Cursor = st.Phase+1, ""
			if err := rt.Checkpoint(next); err != nil {
				return nil, err
			}
		}
	}
	if st.FailedItems == nil {
		st.FailedItems = []FailedItem{}
	}
	return st.Result, nil
}

// percent is how far the whole import is, below 100 until it ends.
func (st *state) percent() int {
	total, done := 0, 0
	for _, c := range st.Phases {
		total += max(c.Total, c.Processed)
		done += c.Processed
	}
	if total == 0 {
		return 99
	}
	return min(99, done*100/total)
}

// call runs one request to the marketplace, waiting out its short rate
// limits (waitOutRateLimits), and turns what fails into what the worker must
// do (classify).
func (d Deps) call(ctx context.Context, rt jobtype.Runtime, st *state, src source, request func() error) error {
	err := d.waitOutRateLimits(ctx, rt, request, func(wait time.Duration) { st.RateLimitWaitMS += wait.Milliseconds() })
	if err == nil {
		return nil
	}
	var retry *jobtype.RateLimitedError
	if errors.As(err, &retry) {
		return err
	}
	return d.classify(ctx, rt, src, err)
}

// waitOutRateLimits runs request again after each rate limit whose hint is
// short, as often as it comes, telling waited of each wait; a longer one
// becomes a retry of the job at the hinted time, so no worker sits idle for
// minutes. Any other error is returned as it is.
func (d Deps) waitOutRateLimits(ctx context.Context, rt jobtype.Runtime, request func() error, waited func(time.Duration)) error {
	maxWait := d.MaxInlineWait
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	unhinted := time.Second
	for {
		err := request()
		limited, ok := marketplace.IsRateLimit(err)
		if !ok {
			return err
		}
		wait := limited.Wait
		if wait <= 0 {
			// No hint: back off, doubling, as the marketplaces' guides ask.
			wait, unhinted = unhinted, unhinted*2
		}
		if wait > maxWait {
			return jobtype.RateLimited(wait, err)
		}
		rt.Log(slog.LevelDebug, "rate limited; waiting", slog.Duration("wait", wait))
		waited(wait)
		if err := d.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// classify turns a marketplace error into what the worker must do.
func (d Deps) classify(ctx context.Context, rt jobtype.Runtime, src source, err error) error {
	return connected.Classify(ctx, rt, d.Connections, src.marketplace, src.connectionVersion, err)
}

// save writes one page to the catalog: only the items whose content changed,
// with their new images stored first.
func (d Deps) save(ctx context.Context, rt jobtype.Runtime, st *state, src source, ph phase, pg page) error {
	storeID := rt.StoreID()
	type pending struct {
		entry   catalog.Entry
		product *catalog.Product
	}
	var items []pending
	fail := func(kind, sourceID, sku, reason string) {
		st.FailedCount++
		if len(st.FailedItems) < maxFailedItems {
			st.FailedItems = append(st.FailedItems, FailedItem{Kind: kind, SourceID: sourceID, SKU: sku, Reason: reason})
		}
	}
	counts := st.Phases[ph.name]
	if counts == nil {
		counts = &Counts{}
		st.Phases[ph.name] = counts
	}
	for i := range pg.products {
		p := &pg.products[i]
		p.StoreID = storeID
		if p.SKU == "" {
			counts.Processed++
			counts.Failed++
			fail("product", p.SourceID, "", "no SKU: give the product (or its first variant) a SKU at the source")
			continue
		}
		if size := catalog.DocSize(p); size > catalog.MaxDocBytes {
			// DynamoDB would refuse the whole batch, and the page could never be
			// written: the product is left out and said so instead.
			counts.Processed++
			counts.Failed++
			fail("product", p.SourceID, p.SKU, fmt.Sprintf("too large to store (%d KB with %d variants; the catalog keeps products up to %d KB)", size>>10, len(p.Variants), catalog.MaxDocBytes>>10))
			continue
		}
		items = append(items, pending{entry: catalog.Entry{Kind: ph.kind, ID: p.ID, Hash: p.ContentHash, Doc: p}, product: p})
	}
	for i := range pg.collections {
		c := &pg.collections[i]
		c.StoreID = storeID
		items = append(items, pending{entry: catalog.Entry{Kind: ph.kind, ID: c.ID, Hash: c.ContentHash, Doc: c}})
	}
	for i := range pg.categories {
		c := &pg.categories[i]
		c.StoreID = storeID
		items = append(items, pending{entry: catalog.Entry{Kind: ph.kind, ID: c.ID, Hash: c.ContentHash, Doc: c}})
	}
	if len(items) == 0 {
		return nil
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.entry.ID
	}
	stored, err := d.Catalog.StoredHashes(ctx, storeID, ph.kind, ids)
	if err != nil {
		return err
	}
	var changed []pending
	for _, it := range items {
		counts.Processed++
		was, exists := stored[it.entry.ID]
		switch {
		case exists && was.Hash == it.entry.Hash && was.ImportedBy == rt.JobID():
			// Written by this job before a crash or a lost lease: count it
			// as it was counted then.
			if was.Outcome == catalog.OutcomeCreated {
				counts.Created++
			} else {
				counts.Updated++
			}
		case exists && was.Hash == it.entry.Hash:
			counts.Unchanged++
		default:
			it.entry.Outcome = catalog.OutcomeCreated
			if exists {
				it.entry.Outcome = catalog.OutcomeUpdated
			}
			changed = append(changed, it)
		}
	}
	var products []*catalog.Product
	for _, it := range changed {
		if it.product != nil {
			products = append(products, it.product)
		}
	}
	imageFailures, err := d.storeImages(ctx, rt, st, src, products)
	if err != nil {
		return err
	}
	for _, p := range products {
		for _, reason := range imageFailures[p.ID] {
			fail("product", p.SourceID, p.SKU, reason)
		}
	}
	now := clock.Real
	if d.Clock != nil {
		now = d.Clock
	}
	importedAt := job.NewTime(now.Now()).Format(job.TimeLayout)
	entries := make([]catalog.Entry, len(changed))
	for i, it := range changed {
		switch doc := it.entry.Doc.(type) {
		case *catalog.Product:
			doc.ImportedAt = importedAt
		case *catalog.Collection:
			doc.ImportedAt = importedAt
		case *catalog.Category:
			doc.ImportedAt = importedAt
		}
		entries[i] = it.entry
		if it.entry.Outcome == catalog.OutcomeCreated {
			counts.Created++
		} else {
			counts.Updated++
		}
	}
	return d.Catalog.Put(ctx, storeID, rt.JobID(), entries)
}

// storeImages stores the products' images that the catalog does not have
// yet, a few at a time, and fills in the stored fields of every image. A
// short rate limit is waited out; an image that can never be stored is left
// without them and reported by product; any other failure fails the page,
// to be run again.
func (d Deps) storeImages(ctx context.Context, rt jobtype.Runtime, st *state, src source, products []*catalog.Product) (map[string][]string, error) {
	storeID, counts := rt.StoreID(), &st.Images
	var urls []string
	for _, p := range products {
		for _, img := range p.Images {
			urls = append(urls, img.SourceURL)
		}
	}
	if len(urls) == 0 {
		return nil, nil
	}
	known, err := d.Catalog.ImageSources(ctx, storeID, urls)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	failures := map[string][]string{}
	fetched := map[string]*catalog.Image{} // one download per URL, however many products share it
	group, gctx := errgroup.WithContext(ctx)
	group.SetLimit(imageDownloads)
	for _, p := range products {
		for i := range p.Images {
			img := &p.Images[i]
			if have, ok := known[img.SourceURL]; ok {
				img.Key, img.SHA256, img.ContentType, img.Size = have.Key, have.SHA256, have.ContentType, have.Size
				counts.Reused++
				continue
			}
			if _, started := fetched[img.SourceURL]; started {
				continue
			}
			fetched[img.SourceURL] = img
			product := p
			group.Go(func() error {
				var storedImg catalog.Image
				err := d.waitOutRateLimits(gctx, rt, func() (err error) {
					storedImg, err = d.storeImage(gctx, storeID, src, *img)
					return err
				}, func(wait time.Duration) {
					mu.Lock()
					defer mu.Unlock()
					st.RateLimitWaitMS += wait.Milliseconds()
				})
				var broken *catalog.ImageError
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.As(err, &broken):
					counts.Failed++
					failures[product.ID] = append(failures[product.ID], broken.Error())
					return nil
				case err != nil:
					return err
				}
				*img = storedImg
				counts.Downloaded++
				return nil
			})
		}
	}
	if err := group.Wait(); err != nil {
		return nil, err
	}
	// Images shared by several products of the page were fetched once.
	for _, p := range products {
		for i := range p.Images {
			img := &p.Images[i]
			if first := fetched[img.SourceURL]; first != nil && img != first && img.Key == "" {
				img.Key, img.SHA256, img.ContentType, img.Size = first.Key, first.SHA256, first.ContentType, first.Size
			}
		}
	}
	return failures, nil
}

func (d Deps) storeImage(ctx context.Context, storeID string, src source, img catalog.Image) (catalog.Image, error) {
	body, err := src.download(ctx, img.SourceURL)
	if err != nil {
		return img, err
	}
	defer body.Close()
	stored, err := d.Images.Store(ctx, storeID, img, body)
	if err != nil {
		return img, err
	}
	// Recorded at once: from here on no retry downloads this image again.
	if err := d.Catalog.PutImageSource(ctx, storeID, stored); err != nil {
		return img, err
	}
	return stored, nil
}

// httpDownload opens an image over plain HTTP(S) (a CDN). A 4xx answer is
// an image that is gone or refused: it will not come back by retrying.
func httpDownload(client *http.Client) func(ctx context.Context, url string) (io.ReadCloser, error) {
	return func(ctx context.Context, url string) (io.ReadCloser, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, &catalog.ImageError{URL: url, Reason: err.Error()}
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("download image %s: %w", url, err)
		}
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
			resp.Body.Close()
			return nil, &catalog.ImageError{URL: url, Reason: fmt.Sprintf("HTTP %d", resp.StatusCode)}
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("download image %s: HTTP %d", url, resp.StatusCode)
		}
		return resp.Body, nil
	}
}

func (d Deps) sleep(ctx context.Context, wait time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, wait)
	}
	return clock.Sleep(ctx, wait)
}
