package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/docs"
	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/testenv"
)

// newClient is a client of the package's system; a token of "" sends none.
func newClient(t *testing.T, bearer string, opts ...client.Option) *client.Client {
	t.Helper()
	if bearer != "" {
		opts = append([]client.Option{client.WithToken(bearer)}, opts...)
	}
	c, err := client.New(apiURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// simulate creates a dev:simulate job for the store.
func simulate(t *testing.T, c *client.Client, storeID string, payload map[string]any) *client.Job {
	t.Helper()
	job, err := c.Create(testContext(t), client.CreateRequest{Type: "dev:simulate", StoreID: storeID, Payload: payload})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return job
}

func apiError(t *testing.T, err error) *client.Error {
	t.Helper()
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T) is not a *client.Error", err, err)
	}
	return apiErr
}

// Each error kind a caller branches on comes from the server's own answer.
func TestTypedErrorsComeFromTheServersAnswers(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	operator := newClient(t, operatorToken)

	_, err := operator.Get(ctx, "no-such-job")
	if !errors.Is(err, client.ErrNotFound) || apiError(t, err).StatusCode != http.StatusNotFound {
		t.Errorf("get of a missing job: %v, want ErrNotFound", err)
	}

	first := simulate(t, operator, "store-errors", map[string]any{"steps": 200, "step_ms": 100})
	t.Cleanup(func() { _, _ = operator.Cancel(context.Background(), first.ID) })
	_, err = operator.Create(ctx, client.CreateRequest{Type: "dev:simulate", StoreID: "store-errors"})
	if !errors.Is(err, client.ErrJobAlreadyActive) || apiError(t, err).ExistingJobID != first.ID {
		t.Errorf("second active job: %v, want ErrJobAlreadyActive naming %s", err, first.ID)
	}
	if errors.Is(err, client.ErrValidation) || errors.Is(err, client.ErrNotFound) {
		t.Errorf("a duplicate matches other kinds too: %v", err)
	}

	_, err = operator.Create(ctx, client.CreateRequest{Type: "dev:simulate", StoreID: "store-errors-2", Payload: map[string]any{"steps": 3, "fail_with": "sometimes"}})
	fields := apiError(t, err).Fields
	if !errors.Is(err, client.ErrValidation) || len(fields) != 1 || fields[0].Field != "payload.fail_with" || !strings.Contains(fields[0].Message, "fail_with must be one of") {
		t.Errorf("a wrong payload field: %v with fields %+v, want ErrValidation naming payload.fail_with", err, fields)
	}

	_, err = operator.Create(ctx, client.CreateRequest{Type: "no:such:type", StoreID: "store-errors"})
	if e := apiError(t, err); !errors.Is(err, client.ErrValidation) || e.Code != "unknown_job_type" || !strings.Contains(e.Message, "dev:simulate") {
		t.Errorf("an unknown type: %v, want the server's code unknown_job_type and its message", err)
	}

	_, err = newClient(t, "not-a-token").Status(ctx, first.ID)
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("a bad token: %v, want ErrUnauthorized", err)
	}
	_, err = newClient(t, "").Status(ctx, first.ID)
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Errorf("no token: %v, want ErrUnauthorized", err)
	}

	_, err = newClient(t, token).Pause(ctx, "dev:simulate")
	if !errors.Is(err, client.ErrForbidden) {
		t.Errorf("a store pausing the queue: %v, want ErrForbidden", err)
	}
	// Another store's job is not found, never forbidden.
	_, err = newClient(t, token).Get(ctx, first.ID)
	if !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another store's job: %v, want ErrNotFound", err)
	}
}

// The store's creation limit answers 429 with Retry-After; the client
// passes it on instead of waiting a minute itself.
func TestRateLimitedSaysWhenToComeBack(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.CreateRateLimit = 2
	base := testenv.Serve(t, env.App(t, app.Overrides{}))
	c, err := client.New(base, client.WithToken(testenv.StoreToken(t, "store-busy")),
		client.WithRetryPolicy(client.RetryPolicy{Attempts: 3, MinWait: 10 * time.Millisecond, MaxWait: 10 * time.Millisecond, MaxRateLimitWait: 0}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	for range 2 {
		// Delayed, so that no worker takes it and the cancel ends it at once.
		job, err := c.Create(ctx, client.CreateRequest{Type: "dev:simulate", RunIn: "1h"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Cancel(ctx, job.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.Create(ctx, client.CreateRequest{Type: "dev:simulate"})
	if !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("third create in a minute with a limit of 2: %v, want ErrRateLimited", err)
	}
	if after := apiError(t, err).RetryAfter; after <= 0 || after > time.Minute {
		t.Errorf("RetryAfter %s, want within the minute", after)
	}
}

// Watch reports each change of a job that fails once and is retried, the
// retry's time included, and returns the completed job with its result.
func TestWatchFollowsARetryToCompletion(t *testing.T) {
	t.Parallel()
	c := newClient(t, operatorToken, client.WithPollPolicy(client.PollPolicy{MinInterval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond}))
	job := simulate(t, c, "store-watch", map[string]any{"steps": 6, "step_ms": 100, "fail_attempts": 1, "fail_with": "transient"})
	var seen []client.JobStatus
	done, err := c.Watch(testContext(t), job.ID, func(s *client.JobStatus) { seen = append(seen, *s) })
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != client.StatusCompleted || done.Progress != 100 || done.Attempts != 2 {
		t.Fatalf("watched job ended %s at %d%% after %d attempts, want completed at 100%% after 2", done.Status, done.Progress, done.Attempts)
	}
	var result struct{ Attempts int }
	if err := json.Unmarshal(done.Result, &result); err != nil || result.Attempts != 2 {
		t.Errorf("result %s (%v), want the simulation's result", done.Result, err)
	}
	retried := slices.IndexFunc(seen, func(s client.JobStatus) bool { return s.Status == client.StatusRetrying })
	if retried < 0 || seen[retried].NextAttemptAt == nil || seen[retried].Error == "" {
		t.Fatalf("no retrying status with its next attempt and error among %+v", seen)
	}
	if last := seen[len(seen)-1]; last.Status != client.StatusCompleted {
		t.Errorf("last status reported %s, want completed", last.Status)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i].Status == seen[i-1].Status && seen[i].Progress == seen[i-1].Progress && seen[i].ProgressMessage == seen[i-1].ProgressMessage &&
			seen[i].Attempts == seen[i-1].Attempts && sameMessage(seen[i].Waiting, seen[i-1].Waiting) && sameEstimate(seen[i].Estimate, seen[i-1].Estimate) {
			t.Errorf("status %d repeats the one before: %+v", i, seen[i])
		}
	}
}

func sameMessage(a, b *client.Waiting) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Message == b.Message)
}

func sameEstimate(a, b *client.Estimate) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Message == b.Message)
}

// Watch stops with the context, and the job goes on.
func TestWatchEndsWithTheContext(t *testing.T) {
	t.Parallel()
	c := newClient(t, operatorToken)
	job := simulate(t, c, "store-watch-ctx", map[string]any{"steps": 300, "step_ms": 100})
	t.Cleanup(func() { _, _ = c.Cancel(context.Background(), job.ID) })
	ctx, cancel := context.WithCancel(testContext(t))
	_, err := c.Watch(ctx, job.ID, func(*client.JobStatus) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("watch after its context ended: %v, want context.Canceled", err)
	}
	status, err := c.Status(testContext(t), job.ID)
	if err != nil || status.Status.Finished() {
		t.Errorf("job after the watcher left: %+v, %v; want it still going", status, err)
	}
}

// faultTransport passes requests to the server and breaks some on the way:
// fail answers a status of its own without reaching the server; lose lets
// the server handle the request and then drops its answer.
type faultTransport struct {
	mu       sync.Mutex
	requests []*http.Request
	fail     map[string]int // "METHOD /path" → times to answer 503
	lose     map[string]int // "METHOD /path" → answers to drop
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := req.Method + " " + req.URL.Path
	f.mu.Lock()
	f.requests = append(f.requests, req.Clone(context.Background()))
	fail := f.fail[key] > 0
	if fail {
		f.fail[key]--
	}
	lose := f.lose[key] > 0
	if lose {
		f.lose[key]--
	}
	f.mu.Unlock()
	if fail {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"message":"Service Unavailable"}`)), Request: req}, nil
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !lose {
		return resp, err
	}
	resp.Body.Close()
	return nil, errors.New("connection reset by peer (injected after the server answered)")
}

func (f *faultTransport) sent(key string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.requests {
		if r.Method+" "+r.URL.Path == key {
			out = append(out, r)
		}
	}
	return out
}

var quickRetries = client.WithRetryPolicy(client.RetryPolicy{Attempts: 4, MinWait: 20 * time.Millisecond, MaxWait: 100 * time.Millisecond, MaxRateLimitWait: time.Second})

// A create whose answer is lost is sent again with the same
// Idempotency-Key, and the server answers the job it created: one job.
func TestACreateWhoseAnswerIsLostMakesOneJob(t *testing.T) {
	t.Parallel()
	faults := &faultTransport{lose: map[string]int{"POST /api/background-jobs": 1}}
	c := newClient(t, operatorToken, quickRetries, client.WithHTTPClient(&http.Client{Transport: faults}))
	job := simulate(t, c, "store-lost-answer", map[string]any{"steps": 1})
	sent := faults.sent("POST /api/background-jobs")
	if len(sent) != 2 || sent[0].Header.Get("Idempotency-Key") == "" || sent[0].Header.Get("Idempotency-Key") != sent[1].Header.Get("Idempotency-Key") {
		t.Fatalf("create sent %d times; want twice with one Idempotency-Key", len(sent))
	}
	page, err := newClient(t, operatorToken).ListPage(testContext(t), client.ListOptions{StoreID: "store-lost-answer"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Jobs) != 1 || page.Jobs[0].ID != job.ID {
		t.Fatalf("store has %d jobs after a lost answer, want the one created (%s)", len(page.Jobs), job.ID)
	}
}

// Reads ride out 5xx answers; a retry of a job, which would run it twice,
// is sent once whatever happens to its answer.
func TestOnlySafeRequestsAreRetried(t *testing.T) {
	t.Parallel()
	operator := newClient(t, operatorToken)
	job := simulate(t, operator, "store-unsafe", map[string]any{"steps": 1, "fail_attempts": 100, "fail_with": "permanent"})
	if _, err := operator.Wait(testContext(t), job.ID); err != nil {
		t.Fatal(err)
	}
	statusPath := "GET /api/background-jobs/" + job.ID + "/status"
	retryPath := "POST /api/background-jobs/" + job.ID + "/retry"
	faults := &faultTransport{fail: map[string]int{statusPath: 2}, lose: map[string]int{retryPath: 1}}
	c := newClient(t, operatorToken, quickRetries, client.WithHTTPClient(&http.Client{Transport: faults}))
	status, err := c.Status(testContext(t), job.ID)
	if err != nil || status.Status != client.StatusFailed || len(faults.sent(statusPath)) != 3 {
		t.Errorf("status through two 503s: %+v, %v after %d requests; want the answer of the third", status, err, len(faults.sent(statusPath)))
	}
	if _, err := c.Retry(testContext(t), job.ID, client.RetryOptions{}); err == nil {
		t.Error("a retry whose answer was lost reported success")
	}
	if n := len(faults.sent(retryPath)); n != 1 {
		t.Errorf("retry sent %d times, want once", n)
	}
}

// List reads the next page only when the loop gets there.
func TestListReadsPagesAsTheLoopGoesOn(t *testing.T) {
	t.Parallel()
	operator := newClient(t, operatorToken)
	var ids []string
	for range 5 {
		job := simulate(t, operator, "store-pages", map[string]any{"steps": 1})
		if _, err := operator.Wait(testContext(t), job.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, job.ID)
	}
	faults := &faultTransport{}
	c := newClient(t, operatorToken, client.WithHTTPClient(&http.Client{Transport: faults}))
	opts := client.ListOptions{StoreID: "store-pages", Limit: 2}
	var listed []string
	for job, err := range c.List(testContext(t), opts) {
		if err != nil {
			t.Fatal(err)
		}
		listed = append(listed, job.ID)
	}
	slices.Reverse(ids) // newest first
	if !slices.Equal(listed, ids) {
		t.Errorf("listed %v, want %v", listed, ids)
	}
	pagesRead := len(faults.sent("GET /api/background-jobs"))
	if pagesRead != 3 {
		t.Errorf("5 jobs in pages of 2 read in %d requests, want 3", pagesRead)
	}
	for job, err := range c.List(testContext(t), opts) {
		if err != nil || job.ID != ids[0] {
			t.Fatalf("first job %s, %v", job.ID, err)
		}
		break
	}
	if n := len(faults.sent("GET /api/background-jobs")) - pagesRead; n != 1 {
		t.Errorf("a loop that stopped at the first job read %d pages, want 1", n)
	}
}

// FollowLogs passes on every line of the log once, to the job's end.
func TestFollowLogsPassesEveryLineOnce(t *testing.T) {
	t.Parallel()
	c := newClient(t, operatorToken, client.WithPollPolicy(client.PollPolicy{MinInterval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond}))
	job := simulate(t, c, "store-logs", map[string]any{"steps": 8, "step_ms": 100, "fail_attempts": 1, "fail_with": "transient"})
	var followed []client.LogEntry
	if err := c.FollowLogs(testContext(t), job.ID, client.LogOptions{Level: "debug", Limit: 3}, func(e client.LogEntry) { followed = append(followed, e) }); err != nil {
		t.Fatal(err)
	}
	var all []client.LogEntry
	for cursor := ""; ; {
		page, err := c.Logs(testContext(t), job.ID, client.LogOptions{Level: "debug", Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Entries...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(followed) != len(all) {
		t.Fatalf("followed %d lines, the log has %d", len(followed), len(all))
	}
	for i := range all {
		if followed[i].Message != all[i].Message || !followed[i].At.Equal(all[i].At) {
			t.Errorf("line %d followed as %+v, the log has %+v", i, followed[i], all[i])
		}
	}
	if last := followed[len(followed)-1]; last.Event != "completed" && !strings.Contains(last.Message, "completed") {
		t.Errorf("last line followed %+v, want the job's completion", last)
	}
}

// An operator pauses and resumes a type, reads the queue's state, metrics,
// alerts and dead letters; a job is cancelled and retried from the start.
func TestQueueControlAndReads(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := newClient(t, operatorToken)
	if err := c.Healthz(ctx); err != nil {
		t.Fatal(err)
	}
	document, err := c.OpenAPI(ctx)
	var embedded map[string]any
	if err != nil || json.Unmarshal(docs.OpenAPI, &embedded) != nil || len(document["paths"].(map[string]any)) != len(embedded["paths"].(map[string]any)) {
		t.Errorf("the served document differs from docs/openapi.json (%v)", err)
	}

	paused, err := c.Pause(ctx, "shopify:import:collections")
	if err != nil || !slices.Contains(paused.PausedTypes, "shopify:import:collections") {
		t.Fatalf("pause: %+v, %v", paused, err)
	}
	status, err := c.QueueStatus(ctx, "")
	if err != nil || !slices.Contains(status.Status.PausedTypes, "shopify:import:collections") || status.Status.MaxConcurrentJobs != 5 {
		t.Errorf("queue status while paused: %+v, %v", status, err)
	}
	resumed, err := c.Resume(ctx, "shopify:import:collections")
	if err != nil || slices.Contains(resumed.PausedTypes, "shopify:import:collections") {
		t.Errorf("resume: %+v, %v", resumed, err)
	}

	job := simulate(t, c, "store-control", map[string]any{"steps": 300, "step_ms": 100})
	if _, err := c.Cancel(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	cancelled, err := c.Wait(ctx, job.ID)
	if err != nil || cancelled.Status != client.StatusCancelled {
		t.Fatalf("cancelled job: %+v, %v", cancelled, err)
	}
	retried, err := c.Retry(ctx, job.ID, client.RetryOptions{FromStart: true})
	if err != nil || retried.Status != client.StatusPending {
		t.Fatalf("retry: %+v, %v", retried, err)
	}
	if _, err := c.Cancel(ctx, job.ID); err != nil {
		t.Fatal(err)
	}

	metrics, err := c.Metrics(ctx, client.MetricsOptions{StoreID: "store-control", Days: 1})
	if err != nil || len(metrics.ByType) == 0 || metrics.ByType[0].Created < 1 {
		t.Errorf("metrics of the store: %+v, %v", metrics, err)
	}
	if _, err := c.Alerts(ctx); err != nil {
		t.Errorf("alerts: %v", err)
	}
	if letters, err := c.DeadLetters(ctx); err != nil || letters.Count != len(letters.Messages) {
		t.Errorf("dead letters: %+v, %v", letters, err)
	}
}

// A store connects its marketplaces, imports, and reads its catalog.
func TestConnectionsAndCatalog(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := newClient(t, token)
	credentials := box.Credentials()

	wrong := map[string]any{"shop_domain": sandbox.ShopDomain, "access_token": "shpat_wrong"}
	_, err := c.Connect(ctx, "", client.Shopify, wrong)
	if !errors.Is(err, client.ErrValidation) {
		t.Errorf("connect with a wrong token: %v, want ErrValidation", err)
	}
	for _, marketplace := range []string{client.Shopify, client.Akeneo} {
		conn, err := c.Connect(ctx, "", marketplace, credentials[marketplace])
		if err != nil || conn.State != "connected" {
			t.Fatalf("connect %s: %+v, %v", marketplace, conn, err)
		}
	}
	for _, jobType := range []string{"shopify:import:all", "akeneo:import:categories"} {
		job, err := c.Create(ctx, client.CreateRequest{Type: jobType})
		if err != nil {
			t.Fatal(err)
		}
		if done, err := c.Wait(ctx, job.ID); err != nil || done.Status != client.StatusCompleted {
			t.Fatalf("%s: %+v, %v", jobType, done, err)
		}
	}

	var products []client.Product
	for p, err := range c.Products(ctx, client.CatalogOptions{Source: "shopify", Limit: 5}) {
		if err != nil {
			t.Fatal(err)
		}
		products = append(products, p)
	}
	if len(products) == 0 {
		t.Fatal("no products after the import")
	}
	product, listings, err := c.Product(ctx, "", products[0].ID)
	if err != nil || product.SKU != products[0].SKU || listings == nil {
		t.Errorf("product %s: %+v, listings %v, %v", products[0].ID, product, listings, err)
	}
	var imageKey string
	for _, p := range products {
		for _, img := range p.Images {
			if img.Key != "" {
				imageKey = img.Key
			}
		}
	}
	image, err := c.ImageURL(ctx, "", imageKey)
	if err != nil || !strings.HasPrefix(image.URL, "http") || !image.ExpiresAt.After(time.Now()) {
		t.Errorf("image %q: %+v, %v", imageKey, image, err)
	}
	if _, err := c.ImageURL(ctx, "", "stores/another-store/images/x.png"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("another store's image: %v, want ErrNotFound", err)
	}

	collections := countAll(t, c.Collections(ctx, client.CatalogOptions{}))
	categories := countAll(t, c.Categories(ctx, client.CatalogOptions{}))
	if collections != 3 || categories != 3 {
		t.Errorf("%d collections and %d categories, want the sandbox's 3 and 3", collections, categories)
	}

	credits, err := c.Credits(ctx, "")
	if err != nil || credits.StoreID != sandbox.Store || credits.Balance <= 0 {
		t.Errorf("credits: %+v, %v", credits, err)
	}
	written, err := c.PutUILabels(ctx, "", "en", []client.UILabelText{{Key: "client.greeting", Text: "Hello {name}"}})
	if err != nil || written.Written != 1 {
		t.Fatalf("put labels: %+v, %v", written, err)
	}
	labels, err := c.UILabels(ctx, client.UILabelsOptions{Language: "de"})
	if err != nil || !slices.ContainsFunc(labels.Labels, func(l client.UILabel) bool { return l.Key == "client.greeting" && l.Missing }) {
		t.Errorf("labels in German: %+v, %v; want client.greeting missing", labels, err)
	}

	conn, err := c.Disconnect(ctx, "", client.Akeneo)
	if err != nil || conn.State != "not_connected" {
		t.Errorf("disconnect: %+v, %v", conn, err)
	}
	connections, err := c.Connections(ctx, "")
	if err != nil || !slices.ContainsFunc(connections, func(c client.Connection) bool { return c.Marketplace == client.Shopify && c.State == "connected" }) {
		t.Errorf("connections: %+v, %v", connections, err)
	}
}

func countAll[T any](t *testing.T, items iter.Seq2[T, error]) int {
	t.Helper()
	n := 0
	for _, err := range items {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// The error body of a gateway in front of the API becomes the message.
func TestAGatewaysErrorBodyIsTheMessage(t *testing.T) {
	t.Parallel()
	faults := &faultTransport{fail: map[string]int{"GET /api/background-jobs/x": 10}}
	c := newClient(t, operatorToken, client.WithRetryPolicy(client.RetryPolicy{Attempts: 1}), client.WithHTTPClient(&http.Client{Transport: faults}))
	_, err := c.Get(testContext(t), "x")
	if e := apiError(t, err); e.StatusCode != http.StatusServiceUnavailable || e.Message != "Service Unavailable" {
		t.Errorf("gateway's 503: %+v", e)
	}
}
