package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/jobtype/catalogimport"
	"github.com/dainostore/jobs/internal/lambdaadapter"
	"github.com/dainostore/jobs/internal/localrun"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/schema"
	"github.com/dainostore/jobs/internal/worker"
)

// The marketplaces' published limits the imports are measured against.
var (
	// shopifyStandardBucket is the standard plan's GraphQL cost bucket (the
	// fake's default, written out so the floor below reads the same numbers).
	shopifyStandardBucket = shopifyfake.Bucket{Max: 2000, RestoreRate: 100}
	// akeneoRequestsPerSecond is Akeneo's request rate per connection; the
	// fake also refuses a fifth call in flight, which the client never sends.
	akeneoRequestsPerSecond = 100.0
)

// ImportRun is one catalog import measured end to end.
type ImportRun struct {
	Import   string `json:"import"` // the job type
	Products int    `json:"products"`
	Limit    string `json:"limit"`
	// Outcome is the job's end: completed or failed (Error says why,
	// Progress how far it got).
	Outcome  string `json:"outcome"`
	Error    string `json:"error,omitempty"`
	Progress string `json:"progress"`
	// WallSeconds runs from the create call to the job's completion.
	WallSeconds float64 `json:"wall_seconds"`
	// FloorSeconds is the least time the marketplace's limit allows for the
	// requests this import made, as FloorDefinition says; FloorRatio is the
	// wall time over it.
	FloorSeconds    float64 `json:"floor_seconds"`
	FloorDefinition string  `json:"floor_definition"`
	FloorRatio      float64 `json:"ratio_to_floor"`
	// Requests is every HTTP request the marketplace received during the
	// import: API calls (GraphQL queries, Akeneo REST calls other than
	// media), image downloads, token grants.
	Requests      int `json:"marketplace_requests"`
	APIRequests   int `json:"api_requests"`
	ImageRequests int `json:"image_requests"`
	TokenRequests int `json:"token_requests"`
	// Throttled is the answers THROTTLED (Shopify) or 429 (Akeneo).
	Throttled int `json:"throttled"`
	// QueryCost is Shopify's actual cost charged, in points.
	QueryCost float64 `json:"query_cost,omitempty"`
	// MaxInFlight is the most calls the PIM saw in flight at once.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// The job's own report.
	Result      catalogimport.Result `json:"result"`
	Attempts    int                  `json:"attempts"`
	MaxAttempts int                  `json:"max_attempts"`
	// Time says where the wall time went beyond the floor.
	Time ImportTime `json:"time"`
	// AWS is what the import asked of AWS, by operation: requests and
	// DynamoDB capacity from internal/meter (DynamoDB, SQS), requests and
	// latency of every service from a counter on the SDK clients (S3 and KMS
	// included, which the meter does not cover). Lambda's pollers of the wake
	// queue are not included.
	AWS []AWSOperation `json:"aws"`
}

// ImportTime splits the wall time: wall = floor + each of these (the
// limit's budget is the bucket of points, or of requests, the marketplace
// refills at its rate).
type ImportTime struct {
	// BeforeFirstRequest is from the create call to the job's first request
	// to the marketplace: the pickup, the credentials, the count.
	BeforeFirstRequest float64 `json:"before_first_request_s"`
	// BudgetFull is the time, between the first and the last request, that
	// the budget sat full: refill the import left unused because it was
	// busy elsewhere.
	BudgetFull float64 `json:"budget_full_s"`
	// BudgetFullBeforeAPI is the part of BudgetFull that ended with an API
	// call (a page, a follow-up query) rather than an image download: time
	// the import spent between pages, with nothing to download.
	BudgetFullBeforeAPI float64 `json:"budget_full_before_api_call_s"`
	// BudgetLeft is what the budget held after the last request, in
	// seconds of refill: never spent.
	BudgetLeft float64 `json:"budget_left_s"`
	// AfterLastRequest is from the last request to the completion: the last
	// page's writes and the outcome.
	AfterLastRequest float64 `json:"after_last_request_s"`
	// FloorOffset is what the floor's definition counts differently from
	// the budget: minus Akeneo's burst (the first second's requests pass at
	// once), zero for Shopify.
	FloorOffset float64 `json:"floor_offset_s"`
	// ProductsPerSecond is the products processed over the wall time.
	ProductsPerSecond float64 `json:"products_per_second"`
}

// AWSOperation is one AWS operation's share of an import.
type AWSOperation struct {
	Operation  string  `json:"operation"`
	Requests   int     `json:"requests"`
	ReadUnits  float64 `json:"read_units,omitempty"`
	WriteUnits float64 `json:"write_units,omitempty"`
	// MeanMS is the mean latency on the emulators, retries included.
	MeanMS float64 `json:"mean_ms"`
}

// measureImports runs each import once on a system of its own.
func measureImports(ctx context.Context, s settings) ([]ImportRun, error) {
	var runs []ImportRun
	if s.shopifyProducts > 0 {
		progress("imports: Shopify, %d products, cost bucket %.0f points restoring %.0f a second", s.shopifyProducts, shopifyStandardBucket.Max, shopifyStandardBucket.RestoreRate)
		run, err := measureImport(ctx, "shopify:import:products", s.shopifyProducts, importSetup{sandbox: sandbox.Options{
			ShopifyProducts: s.shopifyProducts, ShopifyCollections: 40, ShopifyBucket: shopifyStandardBucket,
			AkeneoProducts: 1, AkeneoCategories: 1,
		}})
		if err != nil {
			return runs, fmt.Errorf("shopify import: %w", err)
		}
		runs = append(runs, run)
	}
	if s.akeneoProducts > 0 {
		progress("imports: Akeneo, %d products, %.0f requests a second, 4 in flight", s.akeneoProducts, akeneoRequestsPerSecond)
		pim := importSetup{sandbox: sandbox.Options{
			AkeneoProducts: s.akeneoProducts, AkeneoCategories: 150, AkeneoRequestsPerSecond: akeneoRequestsPerSecond,
			ShopifyProducts: 1, ShopifyCollections: 1,
		}}
		run, err := measureImport(ctx, "akeneo:import:products", s.akeneoProducts, pim)
		if err != nil {
			return runs, fmt.Errorf("akeneo import: %w", err)
		}
		runs = append(runs, run)
	}
	return runs, nil
}

const importStore = "bench-store"

// importSetup is the outside world of one import.
type importSetup struct {
	sandbox sandbox.Options
}

// measureImport creates one import through the API and follows it to its
// end. A failed import is a result too: its figures say how far it got.
func measureImport(ctx context.Context, jobType string, products int, o importSetup) (ImportRun, error) {
	name := marketplace.Shopify
	if strings.HasPrefix(jobType, "akeneo:") {
		name = marketplace.Akeneo
	}
	sys, err := newImportSystem(ctx, o)
	if err != nil {
		return ImportRun{}, err
	}
	defer sys.Close()
	if err := sys.connect(ctx, name); err != nil {
		return ImportRun{}, err
	}
	// The credential check spent a little of the budget: let it refill, so
	// that the import starts with the full budget the floor assumes.
	time.Sleep(200 * time.Millisecond)

	sys.log.reset()
	sys.code.Reset()
	sys.sdk.reset()
	shopifyBefore, akeneoBefore := sys.box.Shopify.Counters(), sys.box.Akeneo.Counters()
	began := time.Now()
	id, err := sys.create(ctx, jobType)
	if err != nil {
		return ImportRun{}, err
	}
	ended, err := sys.ends.wait(ctx, id)
	if err != nil {
		return ImportRun{}, err
	}
	usage, sdk, calls := sys.code.Snapshot(), sys.sdk.snapshot(), sys.log.snapshot()

	j, err := sys.app.Jobs.Get(ctx, id)
	if err != nil {
		return ImportRun{}, err
	}
	run := ImportRun{Import: jobType, Products: products, Outcome: string(j.Status), Error: j.Error, Progress: j.ProgressMessage,
		WallSeconds: ended.Sub(began).Seconds(), Attempts: j.Attempts, MaxAttempts: j.MaxAttempts, AWS: awsOperations(usage, sdk)}
	if len(j.Result) > 0 {
		if err := json.Unmarshal(j.Result, &run.Result); err != nil {
			return ImportRun{}, fmt.Errorf("result of %s: %w (%s)", id, err, j.Result)
		}
	}
	for _, c := range calls {
		run.Requests++
		switch c.kind {
		case callAPI:
			run.APIRequests++
		case callImage:
			run.ImageRequests++
		case callToken:
			run.TokenRequests++
		}
	}

	var budget budget
	if name == marketplace.Shopify {
		after := sys.box.Shopify.Counters()
		run.Limit = fmt.Sprintf("cost bucket of %.0f points restoring %.0f a second (standard plan)", shopifyStandardBucket.Max, shopifyStandardBucket.RestoreRate)
		run.Throttled = after.Throttled - shopifyBefore.Throttled
		run.QueryCost = after.QueryCost - shopifyBefore.QueryCost
		run.FloorSeconds = max(0, run.QueryCost-shopifyStandardBucket.Max) / shopifyStandardBucket.RestoreRate
		run.FloorDefinition = fmt.Sprintf("max(0, actual query cost charged − bucket max) / restore rate = max(0, %.0f − %.0f) / %.0f per s",
			run.QueryCost, shopifyStandardBucket.Max, shopifyStandardBucket.RestoreRate)
		budget = newBudget(shopifyStandardBucket.Max, shopifyStandardBucket.RestoreRate, began)
	} else {
		after := sys.box.Akeneo.Counters()
		run.Limit = fmt.Sprintf("%.0f requests a second, at most 4 in flight", akeneoRequestsPerSecond)
		run.Throttled = after.RateLimited - akeneoBefore.RateLimited
		run.MaxInFlight = after.MaxConcurrent
		served := 0
		for _, c := range calls {
			served += int(c.cost)
		}
		run.FloorSeconds = float64(served) / akeneoRequestsPerSecond
		run.FloorDefinition = fmt.Sprintf("REST calls the limit let through (token grants, 401s and 429s spend none of it) / rate = %d / %.0f per s", served, akeneoRequestsPerSecond)
		// The fake's token bucket holds a second's requests (its burst).
		budget = newBudget(akeneoRequestsPerSecond, akeneoRequestsPerSecond, began)
		run.Time.FloorOffset = -1
	}
	// A failed import's time says how soon it failed, not how fast it went.
	if run.FloorSeconds > 0 && run.Outcome == "completed" {
		run.FloorRatio = run.WallSeconds / run.FloorSeconds
	}
	var first, last time.Time
	for _, c := range calls {
		if c.cost == 0 {
			continue
		}
		if first.IsZero() {
			first = c.at
		}
		last = c.at
		budget.spend(c.at, c.cost, c.kind)
	}
	if !first.IsZero() {
		run.Time.BeforeFirstRequest = first.Sub(began).Seconds()
		run.Time.AfterLastRequest = ended.Sub(last).Seconds()
		run.Time.BudgetFull = budget.fullSince(first, -1).Seconds()
		run.Time.BudgetFullBeforeAPI = budget.fullSince(first, callAPI).Seconds()
		run.Time.BudgetLeft = budget.level / budget.rate
	}
	if counts := run.Result.Phases["products"]; counts != nil {
		run.Time.ProductsPerSecond = float64(counts.Processed) / run.WallSeconds
	}
	progress("imports: %s %s after %.1f s and %d attempts (floor %.1f s): %d requests, %d throttled, %d images downloaded",
		jobType, run.Outcome, run.WallSeconds, run.Attempts, run.FloorSeconds, run.Requests, run.Throttled, run.Result.Images.Downloaded)
	return run, nil
}

// budget replays a marketplace's leaky bucket over the requests the import
// made, to tell how long it sat full. It starts full when the job is created.
type budget struct {
	max, rate, level float64
	at               time.Time
	// full are the spans in which the bucket sat full: from when the
	// refill reached the top to the next request.
	full []fullSpan
}

// fullSpan is a time the bucket sat full, and the kind of the request
// that ended it.
type fullSpan struct {
	from, to time.Time
	endedBy  int
}

func newBudget(capacity, perSecond float64, start time.Time) budget {
	return budget{max: capacity, rate: perSecond, level: capacity, at: start}
}

func (b *budget) spend(at time.Time, cost float64, kind int) {
	elapsed := at.Sub(b.at).Seconds()
	if elapsed > 0 {
		toFull := (b.max - b.level) / b.rate
		if elapsed > toFull {
			b.full = append(b.full, fullSpan{b.at.Add(time.Duration(toFull * float64(time.Second))), at, kind})
		}
		b.level = min(b.max, b.level+elapsed*b.rate)
		b.at = at
	}
	b.level -= cost
}

// fullSince is how long the bucket sat full after t, in the spans ended by
// a request of the kind given (-1: of any kind).
func (b *budget) fullSince(t time.Time, endedBy int) time.Duration {
	var d time.Duration
	for _, s := range b.full {
		if s.to.After(t) && (endedBy < 0 || s.endedBy == endedBy) {
			from := s.from
			if from.Before(t) {
				from = t
			}
			d += s.to.Sub(from)
		}
	}
	return d
}

// importSystem is the whole system on private resources, as the system
// tests build it (internal/testenv and internal/systemtest), with the
// sandbox of the marketplaces behind a request log.
type importSystem struct {
	app    *app.App
	box    *sandbox.Sandbox
	server *httptest.Server
	log    *marketplaceLog
	code   *meter.Meter
	sdk    *sdkCounter
	ends   *endWriter
	token  string
	stop   context.CancelFunc
	done   chan struct{}
}

func newImportSystem(ctx context.Context, o importSetup) (*importSystem, error) {
	s := &importSystem{box: sandbox.New(o.sandbox), log: &marketplaceLog{}, code: meter.New(), sdk: newSDKCounter(), ends: newEndWriter(), done: make(chan struct{})}
	if err := s.start(ctx, "import", s.log.wrap(s.box)); err != nil {
		return nil, err
	}
	return s, nil
}

// start serves the sandbox through handler (the sandbox behind a log),
// points every outside client at it (the marketplaces, the AI model, the
// credits ledger), and runs the system on resources named after the phase.
func (s *importSystem) start(ctx context.Context, phase string, handler http.Handler) error {
	s.server = httptest.NewServer(handler)
	s.box.SetBaseURL(s.server.URL)

	cfg := config.Defaults()
	name := "bench-" + phase + "-" + randomHex(3)
	cfg.TableName, cfg.QueuePrefix = name, name
	cfg.CatalogTableName = name + "-catalog"
	cfg.ImagesBucket = name
	cfg.ConnectionsKeyID = "alias/" + name
	// The emulator's short polls see every message, as in the system tests.
	cfg.EmptyPollWait = 0
	s.box.Endpoints().Configure(&cfg)
	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		s.server.Close()
		return err
	}
	urls, err := localrun.EnsureResources(ctx, awsCfg, cfg)
	if err != nil {
		s.server.Close()
		return err
	}
	secret := []byte("bench-secret-of-at-least-thirty-two-bytes")
	verifier, err := auth.NewHS256Verifier(secret, cfg.AuthIssuer, cfg.AuthAudience)
	if err != nil {
		s.server.Close()
		return err
	}
	s.token, err = auth.MintHS256(secret, cfg.AuthIssuer, cfg.AuthAudience, auth.Principal{Subject: "bench", StoreID: importStore}, 24*time.Hour)
	if err != nil {
		s.server.Close()
		return err
	}
	// The SDK counter sees every AWS request, Bedrock's Converse calls too.
	counted := awsCfg.Copy()
	counted.APIOptions = append(slices.Clone(counted.APIOptions), s.sdk.middleware)
	s.app, err = app.New(ctx, cfg, counted, warnings(), app.Overrides{
		QueueURLs:       &urls,
		Authenticator:   verifier,
		DynamoDBOptions: []func(*dynamodb.Options){s.code.DynamoDBOption()},
		SQSOptions:      []func(*sqs.Options){s.code.SQSOption()},
		WorkerConfig:    worker.Config{ID: "bench-" + phase, Metrics: emf.NewWriter(s.ends, "Bench")},
	})
	if err != nil {
		s.server.Close()
		return err
	}
	// Lambda's event source mapping, with a client of its own: its polls
	// of the wake queue are not the job's requests.
	runCtx, stop := context.WithCancel(ctx)
	s.stop = stop
	mapping := &localrun.EventSourceMapping{
		Client:          sqs.NewFromConfig(awsCfg),
		QueueURL:        urls.Wake,
		BatchSize:       schema.WakeBatchSize,
		MaxConcurrency:  cfg.MaxConcurrency,
		FunctionTimeout: cfg.WorkerTimeout,
		Handler:         lambdaadapter.Wake(s.app.Worker),
		Logger:          s.app.Log,
	}
	go func() {
		defer close(s.done)
		_ = mapping.Run(runCtx)
	}()
	return nil
}

// warnings shows what the system warns about (a failed attempt, a
// rate-limited retry) and nothing else.
func warnings() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func (s *importSystem) Close() {
	s.stop()
	<-s.done
	s.server.Close()
}

// connect connects the store to the sandbox's account through the API,
// which checks the credentials with the marketplace and stores them
// encrypted with the KMS key.
func (s *importSystem) connect(ctx context.Context, name string) error {
	creds, err := json.Marshal(s.box.Credentials()[name])
	if err != nil {
		return err
	}
	return s.call(ctx, http.MethodPut, "/api/marketplace/connections/"+name, string(creds), http.StatusOK, nil)
}

func (s *importSystem) create(ctx context.Context, jobType string) (string, error) {
	var out struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	if err := s.call(ctx, http.MethodPost, "/api/background-jobs", fmt.Sprintf(`{"type":%q}`, jobType), http.StatusCreated, &out); err != nil {
		return "", err
	}
	return out.Job.ID, nil
}

// call serves one API request in process, with the store's token.
func (s *importSystem) call(ctx context.Context, method, path, body string, want int, out any) error {
	req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.app.HTTP.ServeHTTP(rec, req)
	if rec.Code != want {
		return fmt.Errorf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	if out != nil {
		return json.Unmarshal(rec.Body.Bytes(), out)
	}
	return nil
}

// The kinds of request a marketplace receives.
const (
	callAPI = iota
	callImage
	callToken
	callOther
)

// marketplaceCall is one request the sandbox received. Cost is what it
// spent of the marketplace's limit: Shopify's actual query cost, 1 for an
// Akeneo REST call the limit let through, 0 for the rest (images from
// Shopify's CDN, Akeneo's token grants).
type marketplaceCall struct {
	at     time.Time
	kind   int
	status int
	cost   float64
}

// marketplaceLog records every request to the sandbox, in arrival order.
type marketplaceLog struct {
	mu    sync.Mutex
	calls []marketplaceCall
}

func (l *marketplaceLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

func (l *marketplaceLog) snapshot() []marketplaceCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	calls := slices.Clone(l.calls)
	slices.SortFunc(calls, func(a, b marketplaceCall) int { return a.at.Compare(b.at) })
	return calls
}

func (l *marketplaceLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := classify(r.URL.Path)
		if kind == callOther {
			h.ServeHTTP(w, r)
			return
		}
		c := marketplaceCall{at: time.Now(), kind: kind}
		rec := &recordingWriter{ResponseWriter: w, status: http.StatusOK, keepBody: strings.HasSuffix(r.URL.Path, "/graphql.json")}
		h.ServeHTTP(rec, r)
		c.status = rec.status
		switch {
		case rec.keepBody:
			c.cost = actualQueryCost(rec.body.Bytes())
		case strings.HasPrefix(r.URL.Path, "/akeneo/api/rest/") && c.status != http.StatusTooManyRequests && c.status != http.StatusUnauthorized:
			// The PIM's limit counts the calls it lets through: a 401 is
			// refused before the limit, a 429 by it.
			c.cost = 1
		}
		l.mu.Lock()
		l.calls = append(l.calls, c)
		l.mu.Unlock()
	})
}

func classify(path string) int {
	switch {
	case strings.HasSuffix(path, "/graphql.json"), strings.HasPrefix(path, "/akeneo/api/rest/") && !strings.HasPrefix(path, "/akeneo/api/rest/v1/media-files/"):
		return callAPI
	case strings.HasPrefix(path, "/shopify/cdn/"), strings.HasPrefix(path, "/akeneo/api/rest/v1/media-files/"):
		return callImage
	case strings.HasPrefix(path, "/akeneo/api/oauth/"):
		return callToken
	}
	return callOther
}

// actualQueryCost reads a GraphQL answer's actualQueryCost (null, so 0,
// when the query did not run).
func actualQueryCost(body []byte) float64 {
	var answer struct {
		Extensions struct {
			Cost struct {
				ActualQueryCost *float64 `json:"actualQueryCost"`
			} `json:"cost"`
		} `json:"extensions"`
	}
	if json.Unmarshal(body, &answer) != nil || answer.Extensions.Cost.ActualQueryCost == nil {
		return 0
	}
	return *answer.Extensions.Cost.ActualQueryCost
}

type recordingWriter struct {
	http.ResponseWriter
	status   int
	keepBody bool
	body     bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.keepBody {
		w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// sdkCounter counts the requests of every AWS client built from one
// aws.Config, by operation, with their time.
type sdkCounter struct {
	mu    sync.Mutex
	calls map[string]sdkCalls
}

type sdkCalls struct {
	requests int
	elapsed  time.Duration
}

func (c sdkCalls) meanMS() float64 { return c.elapsed.Seconds() * 1000 / float64(c.requests) }

func newSDKCounter() *sdkCounter { return &sdkCounter{calls: map[string]sdkCalls{}} }

func (c *sdkCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench-counter", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		began := time.Now()
		out, md, err := next.HandleInitialize(ctx, in)
		key := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
		c.mu.Lock()
		calls := c.calls[key]
		calls.requests++
		calls.elapsed += time.Since(began)
		c.calls[key] = calls
		c.mu.Unlock()
		return out, md, err
	}), middleware.After)
}

func (c *sdkCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = map[string]sdkCalls{}
}

func (c *sdkCounter) snapshot() map[string]sdkCalls {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]sdkCalls, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// awsOperations joins the meter's counts and capacity with the counter's
// latencies. The meter's keys tell empty SQS receives apart; the counter's
// latency of a receive covers both kinds.
func awsOperations(usage map[string]meter.Usage, sdk map[string]sdkCalls) []AWSOperation {
	var ops []AWSOperation
	for _, key := range meter.Operations(usage) {
		u := usage[key]
		op := AWSOperation{Operation: key, Requests: u.Requests, ReadUnits: u.ReadCapacity, WriteUnits: u.WriteCapacity}
		if calls, ok := sdk[strings.TrimSuffix(key, meter.EmptySuffix)]; ok && calls.requests > 0 {
			op.MeanMS = calls.meanMS()
		}
		ops = append(ops, op)
	}
	var others []string
	for key := range sdk {
		if !strings.HasPrefix(key, "DynamoDB.") && !strings.HasPrefix(key, "SQS.") {
			others = append(others, key)
		}
	}
	slices.Sort(others)
	for _, key := range others {
		calls := sdk[key]
		ops = append(ops, AWSOperation{Operation: key, Requests: calls.requests, MeanMS: calls.meanMS()})
	}
	return ops
}

// endWriter reads the worker's metric lines: a JobsCompleted or JobsFailed
// line is written right after the job's outcome was recorded.
type endWriter struct {
	mu   sync.Mutex
	ends map[string]chan time.Time
}

func newEndWriter() *endWriter { return &endWriter{ends: map[string]chan time.Time{}} }

func (w *endWriter) of(id string) chan time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch, ok := w.ends[id]
	if !ok {
		ch = make(chan time.Time, 1)
		w.ends[id] = ch
	}
	return ch
}

func (w *endWriter) Write(p []byte) (int, error) {
	now := time.Now()
	for _, line := range bytes.Split(p, []byte("\n")) {
		var fields map[string]any
		if json.Unmarshal(line, &fields) != nil {
			continue
		}
		_, completed := fields["JobsCompleted"]
		_, failed := fields["JobsFailed"]
		if id, ok := fields["job_id"].(string); ok && (completed || failed) {
			select {
			case w.of(id) <- now:
			default:
			}
		}
	}
	return len(p), nil
}

// wait returns when the job's outcome was recorded.
func (w *endWriter) wait(ctx context.Context, id string) (time.Time, error) {
	select {
	case at := <-w.of(id):
		return at, nil
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("job %s did not end: %w", id, ctx.Err())
	}
}
