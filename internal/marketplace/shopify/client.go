package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
)

// DefaultAPIVersion is the Admin API version the client speaks when the
// configuration names none. Shopify serves a dated version for a year.
const DefaultAPIVersion = "2026-07"

const (
	defaultPageSize      = 10
	defaultTimeout       = 30 * time.Second
	defaultMaxInlineWait = 20 * time.Second
	// maxResponseBytes bounds an answer; a page of products is far smaller.
	maxResponseBytes = 16 << 20
	userAgent        = "dainostore-jobs (Shopify Admin GraphQL client)"
)

// Config configures a Client.
type Config struct {
	// ShopDomain is the shop's permanent host name, "store-1.myshopify.com".
	ShopDomain string
	// AccessToken is the app's Admin API token, sent as X-Shopify-Access-Token.
	AccessToken string
	// Endpoint, when set, replaces https://<ShopDomain>: requests go to
	// <Endpoint>/<ShopDomain>/admin/api/..., where the sandbox's fake serves.
	Endpoint string
	// APIVersion is the pinned Admin API version ("2026-07"); empty means
	// DefaultAPIVersion.
	APIVersion string
	// PageSize is the number of products a page holds; zero means 10, the
	// most that keeps a page under Shopify's single-query cost limit.
	PageSize int
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// MaxInlineWait is the longest the client sleeps before a query to let
	// the cost bucket refill; a longer wait is returned as a
	// RateLimitError. Zero means 20 s; a negative value, never to sleep.
	MaxInlineWait time.Duration
	// Sleep waits d or until ctx ends; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now tells the time the bucket refills on; nil means time.Now.
	Now func() time.Time
}

// Client is a client of one shop's Admin GraphQL API. It is safe for
// concurrent use.
type Client struct {
	endpoint      string
	accessToken   string
	pageSize      int
	http          *http.Client
	maxInlineWait time.Duration
	sleep         func(ctx context.Context, d time.Duration) error
	now           func() time.Time

	mu     sync.Mutex
	bucket costBucket
	stats  Stats
}

// Stats counts what a Client did.
type Stats struct {
	Requests  int           // GraphQL requests sent
	Throttled int           // answers that were THROTTLED (or HTTP 429)
	Paced     time.Duration // time slept before queries for the cost bucket to refill
}

// Shop is the shop a token belongs to.
type Shop struct {
	Name   string // the shop's name
	Domain string // its myshopify.com domain
	Plan   string // its plan's display name ("Basic", "Shopify Plus", ...)
}

var (
	shopDomainPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)
	apiVersionPattern = regexp.MustCompile(`^(\d{4}-(01|04|07|10)|unstable)$`)
)

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if !shopDomainPattern.MatchString(cfg.ShopDomain) {
		return nil, fmt.Errorf("shopify: shop domain %q is not a lowercase *.myshopify.com host name", cfg.ShopDomain)
	}
	if cfg.AccessToken == "" {
		return nil, errors.New("shopify: no access token")
	}
	version := cfg.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	if !apiVersionPattern.MatchString(version) {
		return nil, fmt.Errorf("shopify: API version %q is neither a quarterly version such as 2026-07 nor unstable", version)
	}
	base := "https://" + cfg.ShopDomain
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("shopify: endpoint %q is not an http(s) base URL", cfg.Endpoint)
		}
		base = strings.TrimSuffix(cfg.Endpoint, "/") + "/" + cfg.ShopDomain
	}
	pageSize := cfg.PageSize
	if pageSize == 0 {
		pageSize = defaultPageSize
	}
	if pageSize < 1 || productsPageCost(pageSize) > maxQueryCost {
		return nil, fmt.Errorf("shopify: page size %d is out of range: a page of n products costs 2 + %d·n points and Shopify refuses a query over %d, so 1 to %d",
			pageSize, productCost, maxQueryCost, maxProductsPageSize())
	}
	c := &Client{
		endpoint:      base + "/admin/api/" + version + "/graphql.json",
		accessToken:   cfg.AccessToken,
		pageSize:      pageSize,
		http:          cfg.HTTP,
		maxInlineWait: cfg.MaxInlineWait,
		sleep:         cfg.Sleep,
		now:           cfg.Now,
		bucket:        costBucket{requested: estimatedCosts(pageSize)},
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultTimeout}
	}
	if c.maxInlineWait == 0 {
		c.maxInlineWait = defaultMaxInlineWait
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// estimatedCosts are the requested costs of the client's queries by
// Shopify's published rules. Pacing uses them until Shopify has reported a
// query of the kind, so that the first follow-up query of an import waits
// for the bucket like the others instead of being throttled.
func estimatedCosts(pageSize int) map[string]float64 {
	return map[string]float64{
		shopOp.name:               2,
		productsCountOp.name:      1,
		collectionsCountOp.name:   1,
		productsOp.name:           float64(productsPageCost(pageSize)),
		productVariantsOp.name:    float64(followUpCost(variantCost)),
		productMediaOp.name:       float64(followUpCost(mediaCost)),
		productCollectionsOp.name: float64(followUpCost(collectionLinkCost)),
		collectionsOp.name:        collectionsPageCost,
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// Stats returns what the client did so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

var shopOp = operation{"Shop", `query Shop { shop { name myshopifyDomain plan { displayName } } }`}

// Shop returns the shop the token belongs to: the cheapest query there is,
// so a way to check a credential.
func (c *Client) Shop(ctx context.Context) (Shop, error) {
	var data struct {
		Shop struct {
			Name            string `json:"name"`
			MyshopifyDomain string `json:"myshopifyDomain"`
			Plan            struct {
				DisplayName string `json:"displayName"`
			} `json:"plan"`
		} `json:"shop"`
	}
	if err := c.query(ctx, shopOp, nil, &data); err != nil {
		return Shop{}, err
	}
	return Shop{Name: data.Shop.Name, Domain: data.Shop.MyshopifyDomain, Plan: data.Shop.Plan.DisplayName}, nil
}

// operation is one of the client's queries. Its name is the GraphQL
// operation name and the kind pacing remembers a cost for.
type operation struct {
	name, text string
}

// query sends op and decodes its data into data, or returns the error class
// the answer means.
func (c *Client) query(ctx context.Context, op operation, variables map[string]any, data any) error {
	if err := c.pace(ctx, op.name); err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables,omitempty"`
		OperationName string         `json:"operationName"`
	}{op.text, variables, op.name})
	if err != nil {
		return fmt.Errorf("shopify %s query: encoding variables: %w", op.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("shopify %s query: %w", op.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("X-Shopify-Access-Token", c.accessToken)

	c.mu.Lock()
	c.stats.Requests++
	c.mu.Unlock()
	res, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("shopify %s query: %w", op.name, ctxErr)
		}
		return fmt.Errorf("shopify %s query: %w", op.name, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("shopify %s query: reading the answer: %w", op.name, err)
	}
	if len(raw) > maxResponseBytes {
		return &marketplace.PermanentError{Marketplace: marketplace.Shopify, Status: res.StatusCode,
			Reason: fmt.Sprintf("%s query: the answer is larger than %d MiB", op.name, maxResponseBytes>>20)}
	}
	return c.interpret(op, res, raw, data)
}

// interpret turns an answer into data or an error class.
func (c *Client) interpret(op operation, res *http.Response, raw []byte, data any) error {
	switch status := res.StatusCode; {
	case status == http.StatusUnauthorized:
		return &marketplace.CredentialError{Marketplace: marketplace.Shopify, Reason: answerMessage(raw, res.Status)}
	case status == http.StatusPaymentRequired:
		return &marketplace.CredentialError{Marketplace: marketplace.Shopify,
			Reason: "the shop is frozen (HTTP 402), until the merchant settles its Shopify bill: " + answerMessage(raw, res.Status)}
	case status == http.StatusLocked:
		return &marketplace.CredentialError{Marketplace: marketplace.Shopify,
			Reason: "Shopify locked the shop (HTTP 423), until the merchant resolves it with Shopify: " + answerMessage(raw, res.Status)}
	case status == http.StatusTooManyRequests:
		c.countThrottled()
		return &marketplace.RateLimitError{Marketplace: marketplace.Shopify, Wait: retryAfter(res.Header.Get("Retry-After")),
			Reason: fmt.Sprintf("%s query answered HTTP 429: %s", op.name, answerMessage(raw, res.Status))}
	case status == http.StatusRequestTimeout || status >= 500:
		return fmt.Errorf("shopify %s query: HTTP %d: %s", op.name, status, answerMessage(raw, res.Status))
	case status != http.StatusOK:
		return &marketplace.PermanentError{Marketplace: marketplace.Shopify, Status: status,
			Reason: fmt.Sprintf("%s query: %s", op.name, answerMessage(raw, res.Status))}
	}

	var answer struct {
		Data       json.RawMessage `json:"data"`
		Errors     json.RawMessage `json:"errors"`
		Extensions struct {
			Cost *queryCost `json:"cost"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		// A 200 that is not JSON comes from something between us and Shopify.
		return fmt.Errorf("shopify %s query: the answer is not JSON: %w", op.name, err)
	}
	if cost := answer.Extensions.Cost; cost != nil {
		c.mu.Lock()
		c.bucket.observe(op.name, *cost, c.now())
		c.mu.Unlock()
	}
	if errs := decodeErrors(answer.Errors); len(errs) > 0 {
		return c.graphQLFailure(op, errs, answer.Extensions.Cost)
	}
	if err := json.Unmarshal(answer.Data, data); err != nil {
		return &marketplace.PermanentError{Marketplace: marketplace.Shopify, Status: res.StatusCode,
			Reason: fmt.Sprintf("%s query: the data does not have the shape asked for: %v", op.name, err)}
	}
	return nil
}

type graphQLError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// decodeErrors reads an answer's errors: GraphQL's list, or the plain
// string Shopify sends with some statuses.
func decodeErrors(raw json.RawMessage) []graphQLError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []graphQLError
	if err := json.Unmarshal(raw, &list); err == nil {
		return list
	}
	var message string
	if err := json.Unmarshal(raw, &message); err == nil {
		return []graphQLError{{Message: message}}
	}
	return []graphQLError{{Message: string(raw)}}
}

// graphQLFailure classifies a 200 answer that carries errors.
func (c *Client) graphQLFailure(op operation, errs []graphQLError, cost *queryCost) error {
	messages := make([]string, 0, len(errs))
	for _, e := range errs {
		switch e.Extensions.Code {
		case "THROTTLED":
			c.countThrottled()
			wait := time.Duration(0)
			if cost != nil {
				wait = cost.throttledWait()
			}
			return &marketplace.RateLimitError{Marketplace: marketplace.Shopify, Wait: wait,
				Reason: fmt.Sprintf("%s query throttled: %s", op.name, cost.describe())}
		case "INTERNAL_SERVER_ERROR":
			return fmt.Errorf("shopify %s query: internal error at Shopify: %s", op.name, e.Message)
		}
		messages = append(messages, e.Message)
	}
	return &marketplace.PermanentError{Marketplace: marketplace.Shopify, Status: http.StatusOK,
		Reason: fmt.Sprintf("%s query: %s", op.name, strings.Join(messages, "; "))}
}

func (c *Client) countThrottled() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Throttled++
}

// answerMessage is what a non-GraphQL answer says: Shopify's "errors" (a
// string, a list or an object), else the start of the body, else the
// status line.
func answerMessage(raw []byte, status string) string {
	var body struct {
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(raw, &body); err == nil && len(body.Errors) > 0 {
		errs := decodeErrors(body.Errors)
		messages := make([]string, 0, len(errs))
		for _, e := range errs {
			messages = append(messages, e.Message)
		}
		return strings.Join(messages, "; ")
	}
	text := strings.TrimSpace(string(raw))
	if text == "" || strings.HasPrefix(text, "<") {
		return status
	}
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return text
}

// retryAfter reads a Retry-After header in seconds (Shopify sends
// fractional ones); zero when absent or unreadable.
func retryAfter(header string) time.Duration {
	seconds, err := strconv.ParseFloat(strings.TrimSpace(header), 64)
	if err != nil || seconds <= 0 || math.IsInf(seconds, 0) {
		return 0
	}
	return roundUpToMillisecond(seconds)
}

// roundUpToMillisecond turns seconds into a wait in whole milliseconds,
// rounding up so that the bucket has refilled when the wait is over.
// Truncating to nanoseconds first keeps a float such as 9.919999… from
// adding a millisecond.
func roundUpToMillisecond(seconds float64) time.Duration {
	d := time.Duration(seconds * float64(time.Second))
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}
