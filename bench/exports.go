package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype/catalogexport"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/bedrockfake"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
)

// The limits the exports are measured against: Amazon's usage plan of
// putListingsItem, 5 a second with a burst of 10 (the fake enforces it; the
// client spaces its calls at the rate, keeping half the burst as slack),
// and a small model's answer time on Bedrock. eBay's Sell Inventory API has
// a daily quota and no rate per second.
var (
	amazonListingsRate  = 5.0
	amazonListingsBurst = 10.0
	aiLatencyLow        = 2 * time.Second
	aiLatencyHigh       = 4 * time.Second
)

// exportShopBucket paces the import that fills the catalog: ten times the
// standard plan's refill, as that import is the setup, not the measure.
var exportShopBucket = shopifyfake.Bucket{Max: 2000, RestoreRate: 1000}

// ExportRun is one catalog export measured end to end.
type ExportRun struct {
	Export   string `json:"export"` // the job type
	Products int    `json:"products"`
	// Selection is how the export chose its products; Catalog is how they
	// came to be in the store's catalog.
	Selection       string `json:"selection"`
	Catalog         string `json:"catalog"`
	Limit           string `json:"limit"`
	AIConcurrency   int    `json:"ai_concurrency"`
	SendConcurrency int    `json:"send_concurrency"`
	// Outcome is the job's end: completed or failed (Error says why,
	// Progress how far it got).
	Outcome  string `json:"outcome"`
	Error    string `json:"error,omitempty"`
	Progress string `json:"progress"`
	// WallSeconds runs from the create call to the job's completion.
	WallSeconds float64 `json:"wall_seconds"`
	// FloorSeconds is the larger of the marketplace's floor (the least time
	// its rate limit allows for one call per product) and the AI's (the
	// model's answer time with every place in flight kept busy), as
	// FloorDefinition says; FloorRatio is the wall time over it.
	FloorSeconds            float64        `json:"floor_seconds"`
	MarketplaceFloorSeconds float64        `json:"marketplace_floor_seconds"`
	AIFloorSeconds          float64        `json:"ai_floor_seconds"`
	FloorDefinition         string         `json:"floor_definition"`
	FloorRatio              float64        `json:"ratio_to_floor"`
	AI                      ExportAI       `json:"ai"`
	Marketplace             ExportRequests `json:"marketplace"`
	// The job's own report, without its line per product.
	Result      catalogexport.Result `json:"result"`
	Attempts    int                  `json:"attempts"`
	MaxAttempts int                  `json:"max_attempts"`
	Time        ExportTime           `json:"time"`
	// AWS is what the export asked of AWS, by operation, counted as for the
	// imports; Bedrock's Converse calls are among them.
	AWS []AWSOperation `json:"aws"`
}

// ExportAI is the export's AI optimization as the job reports it and as
// the model and the ledger saw it: each count must be the products
// optimized, one call and one debit each.
type ExportAI struct {
	Calls          int   `json:"calls"`           // the job's result
	Answered       int   `json:"answered"`        // answers of the Bedrock fake
	Debits         int   `json:"debits"`          // the ledger fake's debits of the store
	CreditsCharged int64 `json:"credits_charged"` // the job's result
	CreditsDebited int64 `json:"credits_debited"` // the ledger fake's debits, added up
	// MeanLatencyMS is the mean time of a Converse call as the sandbox
	// served it: the model's answer time the floor counts.
	MeanLatencyMS float64 `json:"mean_latency_ms"`
}

// ExportRequests is what the marketplace received during the export.
type ExportRequests struct {
	// APICalls is every API request (the fake's counter), TokenRequests
	// the token grants asked for.
	APICalls      int `json:"api_calls"`
	TokenRequests int `json:"token_requests"`
	// ListingPuts (Amazon) is the putListingsItem calls that passed the
	// quota; BulkItemRequests (eBay) the bulk inventory item calls.
	ListingPuts      int `json:"listing_puts,omitempty"`
	BulkItemRequests int `json:"bulk_item_requests,omitempty"`
	// Throttled is the answers 429.
	Throttled          int     `json:"throttled"`
	APICallsPerProduct float64 `json:"api_calls_per_product"`
}

// ExportTime splits the wall time: wall = before the first AI call + the
// AI's span + after the last AI answer.
type ExportTime struct {
	// BeforeFirstAICall is from the create call to the first Converse call:
	// the pickup, the credentials, the first batch's read and debits.
	BeforeFirstAICall float64 `json:"before_first_ai_call_s"`
	// AISpan is from the first Converse call to the last answer, and
	// MeanAIInFlight the calls in flight over it on average (the time of
	// every call over the span): the AI floor assumes AIConcurrency.
	AISpan         float64 `json:"ai_span_s"`
	MeanAIInFlight float64 `json:"mean_ai_in_flight"`
	// AfterLastAIAnswer is the last batch's sending, its checkpoint and the
	// outcome.
	AfterLastAIAnswer float64 `json:"after_last_ai_answer_s"`
	ProductsPerSecond float64 `json:"products_per_second"`
}

// measureExports imports the sandbox's shop into a store's catalog, then
// exports the same products to Amazon and to eBay, one export after the
// other, each with AI optimization.
func measureExports(ctx context.Context, s settings) ([]ExportRun, error) {
	products := s.exportProducts
	// A quarter of the seeded products have no barcode, which Amazon
	// requires, and a few no SKU or no stock: half as many again leaves
	// enough.
	seeded := products * 3 / 2
	progress("exports: importing a shop of %d products, then %d products to Amazon and to eBay, AI answering in %s to %s", seeded, products, aiLatencyLow, aiLatencyHigh)
	sys, err := newExportSystem(ctx, sandbox.Options{
		ShopifyProducts: seeded, ShopifyCollections: 10, ShopifyBucket: exportShopBucket,
		AkeneoProducts: 1, AkeneoCategories: 1,
		AILatency: bedrockfake.UniformLatency(aiLatencyLow, aiLatencyHigh),
	})
	if err != nil {
		return nil, err
	}
	defer sys.Close()
	for _, name := range []string{marketplace.Shopify, marketplace.Amazon, marketplace.Ebay} {
		if err := sys.connect(ctx, name); err != nil {
			return nil, err
		}
	}
	// Enough credits for both exports, and as much again.
	sys.box.Ledger.SetBalance(importStore, 4*int64(products)*int64(sys.app.Config.AICreditsPerProduct))

	began := time.Now()
	id, err := sys.create(ctx, "shopify:import:products")
	if err != nil {
		return nil, err
	}
	if _, err := sys.ends.wait(ctx, id); err != nil {
		return nil, err
	}
	if j, err := sys.app.Jobs.Get(ctx, id); err != nil {
		return nil, err
	} else if j.Status != "completed" {
		return nil, fmt.Errorf("the import that fills the catalog ended %s: %s", j.Status, j.Error)
	}
	ids, err := sys.exportableIDs(ctx, products)
	if err != nil {
		return nil, err
	}
	source := fmt.Sprintf("`shopify:import:products` of the sandbox's shop of %d seeded products (%.0f s, cost bucket restoring %.0f points a second)",
		seeded, time.Since(began).Seconds(), exportShopBucket.RestoreRate)
	selection := fmt.Sprintf("`product_ids`: the first %d in id order with a SKU, a price, an image, a brand, a barcode and stock", products)

	var runs []ExportRun
	for _, jobType := range []string{"amazon:export:products", "ebay:export:products"} {
		run, err := sys.measureExport(ctx, jobType, ids)
		run.Selection, run.Catalog = selection, source
		if run.Export != "" {
			runs = append(runs, run)
		}
		if err != nil {
			return runs, fmt.Errorf("%s: %w", jobType, err)
		}
	}
	return runs, nil
}

// measureExport creates one export of ids through the API, follows it to
// its end and checks its AI counts against the fakes'. Anything short of
// every product exported, each paid and optimized once, is an error: the
// figures would not measure the export the floor describes.
func (s *exportSystem) measureExport(ctx context.Context, jobType string, ids []string) (ExportRun, error) {
	name := marketplace.Amazon
	if strings.HasPrefix(jobType, "ebay:") {
		name = marketplace.Ebay
	}
	cfg := s.app.Config
	progress("exports: %s, %d products, %d AI calls and %d marketplace calls in flight", jobType, len(ids), cfg.ExportAIConcurrency, cfg.ExportSendConcurrency)
	amazonBefore, ebayBefore, bedrockBefore := s.box.Amazon.Counters(), s.box.Ebay.Counters(), s.box.Bedrock.Counters()
	debitsBefore := len(s.box.Ledger.Debits(importStore))
	m, err := s.runJob(ctx, jobType, map[string]any{"product_ids": ids, "ai_optimize": true})
	if err != nil {
		return ExportRun{}, err
	}
	j, id, began, ended, usage, sdk, calls := m.job, m.job.ID, m.began, m.ended, m.usage, m.sdk, m.calls
	products := len(ids)
	run := ExportRun{Export: jobType, Products: products, AIConcurrency: cfg.ExportAIConcurrency, SendConcurrency: cfg.ExportSendConcurrency,
		Outcome: string(j.Status), Error: j.Error, Progress: j.ProgressMessage, WallSeconds: ended.Sub(began).Seconds(),
		Attempts: j.Attempts, MaxAttempts: j.MaxAttempts, AWS: awsOperations(usage, sdk)}
	if len(j.Result) > 0 {
		if err := json.Unmarshal(j.Result, &run.Result); err != nil {
			return ExportRun{}, fmt.Errorf("result of %s: %w (%s)", id, err, j.Result)
		}
	}
	refused := slices.DeleteFunc(run.Result.Products, func(p catalogexport.ProductResult) bool { return len(p.Issues) == 0 })
	run.Result.Products = nil

	debits := s.box.Ledger.Debits(importStore)[debitsBefore:]
	run.AI = ExportAI{Calls: run.Result.AICalls, Answered: s.box.Bedrock.Counters().Answered - bedrockBefore.Answered,
		Debits: len(debits), CreditsCharged: run.Result.CreditsCharged}
	for _, d := range debits {
		run.AI.CreditsDebited += d.Credits
	}
	var firstAI, lastAnswer time.Time
	var aiTime time.Duration
	aiCalls := 0
	for _, c := range calls {
		switch {
		case c.service == "bedrock" && c.status == http.StatusOK:
			aiCalls++
			aiTime += c.done.Sub(c.at)
			if firstAI.IsZero() || c.at.Before(firstAI) {
				firstAI = c.at
			}
			if c.done.After(lastAnswer) {
				lastAnswer = c.done
			}
		case c.service == name && c.status == http.StatusTooManyRequests:
			run.Marketplace.Throttled++
		}
	}
	if aiCalls > 0 {
		run.AI.MeanLatencyMS = aiTime.Seconds() * 1000 / float64(aiCalls)
		run.Time.BeforeFirstAICall = firstAI.Sub(began).Seconds()
		run.Time.AISpan = lastAnswer.Sub(firstAI).Seconds()
		run.Time.MeanAIInFlight = aiTime.Seconds() / run.Time.AISpan
		run.Time.AfterLastAIAnswer = ended.Sub(lastAnswer).Seconds()
	}
	run.Time.ProductsPerSecond = float64(run.Result.Processed) / run.WallSeconds

	optimized := run.Result.Exported
	meanLatency := run.AI.MeanLatencyMS / 1000
	run.AIFloorSeconds = float64(optimized) * meanLatency / float64(cfg.ExportAIConcurrency)
	aiFloor := fmt.Sprintf("%d products optimized × %.2f s mean answer time ÷ %d in flight = %.1f s", optimized, meanLatency, cfg.ExportAIConcurrency, run.AIFloorSeconds)
	if name == marketplace.Amazon {
		after := s.box.Amazon.Counters()
		run.Limit = fmt.Sprintf("putListingsItem: %.0f requests a second, burst %.0f; AI: %s to %s an answer", amazonListingsRate, amazonListingsBurst, aiLatencyLow, aiLatencyHigh)
		run.Marketplace.APICalls = after.APICalls - amazonBefore.APICalls
		run.Marketplace.TokenRequests = after.TokenRequests - amazonBefore.TokenRequests
		run.Marketplace.ListingPuts = after.ListingPuts - amazonBefore.ListingPuts
		run.MarketplaceFloorSeconds = max(0, float64(products)-amazonListingsBurst) / amazonListingsRate
		run.FloorDefinition = fmt.Sprintf("max(Amazon: (%d products − burst %.0f) ÷ %.0f per s = %.1f s, AI: %s)",
			products, amazonListingsBurst, amazonListingsRate, run.MarketplaceFloorSeconds, aiFloor)
	} else {
		after := s.box.Ebay.Counters()
		run.Limit = fmt.Sprintf("a daily call quota, no rate a second; AI: %s to %s an answer", aiLatencyLow, aiLatencyHigh)
		run.Marketplace.APICalls = after.APICalls - ebayBefore.APICalls
		run.Marketplace.TokenRequests = after.TokenRequests - ebayBefore.TokenRequests
		run.Marketplace.BulkItemRequests = after.BulkItemRequests - ebayBefore.BulkItemRequests
		run.FloorDefinition = fmt.Sprintf("max(eBay: none a second, AI: %s)", aiFloor)
	}
	run.Marketplace.APICallsPerProduct = float64(run.Marketplace.APICalls) / float64(products)
	run.FloorSeconds = max(run.MarketplaceFloorSeconds, run.AIFloorSeconds)
	if run.FloorSeconds > 0 && run.Outcome == "completed" {
		run.FloorRatio = run.WallSeconds / run.FloorSeconds
	}
	progress("exports: %s %s after %.1f s and %d attempts (floor %.1f s): %d exported, %d AI calls, %d credits, %d marketplace calls, %d throttled",
		jobType, run.Outcome, run.WallSeconds, run.Attempts, run.FloorSeconds, run.Result.Exported, run.AI.Calls, run.AI.CreditsCharged, run.Marketplace.APICalls, run.Marketplace.Throttled)

	if run.Outcome != "completed" || run.Result.Exported != products {
		var why []string
		for _, p := range refused[:min(len(refused), 5)] {
			why = append(why, fmt.Sprintf("%s: %+v", p.ProductID, p.Issues))
		}
		return run, fmt.Errorf("the export %s ended %s with %d of %d products exported (%s; %s); refused: %s",
			id, run.Outcome, run.Result.Exported, products, run.Progress, run.Error, strings.Join(why, "; "))
	}
	perProduct := int64(cfg.AICreditsPerProduct)
	if a := run.AI; a.Calls != optimized || a.Answered != optimized || a.Debits != optimized || aiCalls != optimized ||
		a.CreditsCharged != int64(optimized)*perProduct || a.CreditsDebited != a.CreditsCharged {
		return run, fmt.Errorf("%d products optimized, but the job counts %d AI calls and %d credits, the model answered %d calls (%d seen), the ledger made %d debits of %d credits: each product must be one call and one debit of %d",
			optimized, a.Calls, a.CreditsCharged, a.Answered, aiCalls, a.Debits, a.CreditsDebited, perProduct)
	}
	return run, nil
}

// exportableIDs returns the first n catalog products in id order that both
// marketplaces take.
func (s *exportSystem) exportableIDs(ctx context.Context, n int) ([]string, error) {
	var ids []string
	total, cursor := 0, ""
	for {
		page, err := s.app.Catalog.List(ctx, importStore, catalog.KindProduct, "", 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, doc := range page.Docs {
			var p catalog.Product
			if err := json.Unmarshal(doc, &p); err != nil {
				return nil, fmt.Errorf("catalog product: %w", err)
			}
			total++
			if exportable(&p) {
				ids = append(ids, p.ID)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	slices.Sort(ids)
	if len(ids) < n {
		return nil, fmt.Errorf("%d of the catalog's %d products can be exported to Amazon, %d are needed", len(ids), total, n)
	}
	return ids[:n], nil
}

// exportable reports whether both marketplaces take p: it passes the
// export's checks (a SKU, a price, an image, a brand), has the barcode
// Amazon requires and the stock without which eBay publishes no offer.
func exportable(p *catalog.Product) bool {
	if p.SKU == "" || p.Vendor == "" || len(p.Images) == 0 || len(p.Variants) == 0 || p.Variants[0].Price == "" || p.Variants[0].Barcode == "" {
		return false
	}
	stock := 0
	for _, v := range p.Variants {
		stock += max(v.InventoryQuantity, 0)
	}
	return stock > 0
}

// measuredJob is one job run through the API, with what it asked of AWS
// and of the sandbox.
type measuredJob struct {
	job          *job.Job
	began, ended time.Time
	usage        map[string]meter.Usage
	sdk          map[string]sdkCalls
	calls        []outsideCall
}

// runJob creates a job of the store through the API, waits for the worker
// to record its outcome, and reads it, counting the requests of its run
// only.
func (s *exportSystem) runJob(ctx context.Context, jobType string, payload any) (measuredJob, error) {
	s.code.Reset()
	s.sdk.reset()
	s.outside.reset()
	body, err := json.Marshal(map[string]any{"type": jobType, "payload": payload})
	if err != nil {
		return measuredJob{}, err
	}
	m := measuredJob{began: time.Now()}
	var created struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	if err := s.call(ctx, http.MethodPost, "/api/background-jobs", string(body), http.StatusCreated, &created); err != nil {
		return measuredJob{}, err
	}
	if m.ended, err = s.ends.wait(ctx, created.Job.ID); err != nil {
		return measuredJob{}, err
	}
	m.usage, m.sdk, m.calls = s.code.Snapshot(), s.sdk.snapshot(), s.outside.snapshot()
	m.job, err = s.app.Jobs.Get(ctx, created.Job.ID)
	return m, err
}

// exportSystem is the whole system as importSystem builds it, with every
// outside client (the marketplaces, the AI model, the credits ledger)
// pointed at the sandbox, behind a log of the requests it receives.
type exportSystem struct {
	*importSystem
	outside *outsideLog
}

func newExportSystem(ctx context.Context, o sandbox.Options) (*exportSystem, error) {
	s := &exportSystem{
		importSystem: &importSystem{box: sandbox.New(o), log: &marketplaceLog{}, code: meter.New(), sdk: newSDKCounter(), ends: newEndWriter(), done: make(chan struct{})},
		outside:      &outsideLog{},
	}
	if err := s.start(ctx, "export", s.outside.wrap(s.box)); err != nil {
		return nil, err
	}
	return s, nil
}

// outsideCall is one request the sandbox served: the fake it went to
// ("amazon", "ebay", "bedrock", …), when it came and when it was answered.
type outsideCall struct {
	service  string
	at, done time.Time
	status   int
}

// outsideLog records every request to the sandbox.
type outsideLog struct {
	mu    sync.Mutex
	calls []outsideCall
}

func (l *outsideLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

func (l *outsideLog) snapshot() []outsideCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (l *outsideLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		service, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		c := outsideCall{service: service, at: time.Now()}
		rec := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		c.status, c.done = rec.status, time.Now()
		l.mu.Lock()
		l.calls = append(l.calls, c)
		l.mu.Unlock()
	})
}
