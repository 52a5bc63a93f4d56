package client

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the background jobs API.
type Client struct {
	base      *url.URL
	http      *http.Client
	token     func(ctx context.Context) (string, error)
	userAgent string
	retry     RetryPolicy
	poll      PollPolicy
	sleep     func(ctx context.Context, d time.Duration) error
}

// RetryPolicy says how often and how long a safe request is tried again
// after a network error, a 5xx answer or a rate limit.
type RetryPolicy struct {
	// Attempts is the most tries of one request, the first included; 1
	// turns retries off.
	Attempts int
	// MinWait is the first backoff; each next one doubles, with jitter, up
	// to MaxWait.
	MinWait, MaxWait time.Duration
	// MaxRateLimitWait is the longest Retry-After the client waits out
	// itself; a longer one comes back as ErrRateLimited with its RetryAfter.
	MaxRateLimitWait time.Duration
}

// DefaultRetryPolicy is what New uses.
var DefaultRetryPolicy = RetryPolicy{Attempts: 4, MinWait: 250 * time.Millisecond, MaxWait: 5 * time.Second, MaxRateLimitWait: 10 * time.Second}

// PollPolicy says how often Watch and Wait read a job's status: every
// MinInterval while it changes, stretching by half each time it does not,
// up to MaxInterval.
type PollPolicy struct {
	MinInterval, MaxInterval time.Duration
}

// DefaultPollPolicy is what New uses.
var DefaultPollPolicy = PollPolicy{MinInterval: 500 * time.Millisecond, MaxInterval: 10 * time.Second}

// Option configures a Client.
type Option func(*Client)

// WithToken sends token as the bearer token of every request.
func WithToken(token string) Option {
	return WithTokenFunc(func(context.Context) (string, error) { return token, nil })
}

// WithTokenFunc asks fn for the bearer token before every request (and
// every retry), for tokens that expire.
func WithTokenFunc(fn func(ctx context.Context) (string, error)) Option {
	return func(c *Client) { c.token = fn }
}

// WithHTTPClient sends requests through hc instead of a client with a
// 60-second timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent names the caller in the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// WithPollPolicy replaces DefaultPollPolicy.
func WithPollPolicy(p PollPolicy) Option { return func(c *Client) { c.poll = p } }

// New returns a client of the API at baseURL, such as
// http://127.0.0.1:8080 (make dev) or the deployed stack's API URL.
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("client: base URL %q is not an http(s) URL such as http://127.0.0.1:8080", baseURL)
	}
	c := &Client{
		base:      base,
		http:      &http.Client{Timeout: 60 * time.Second},
		userAgent: "jobs-go-client",
		retry:     DefaultRetryPolicy,
		poll:      DefaultPollPolicy,
		sleep:     sleep,
	}
	for _, opt := range opts {
		opt(c)
	}
	c.retry.Attempts = max(c.retry.Attempts, 1)
	return c, nil
}

// request is one API call.
type request struct {
	method string
	path   string // escaped by the caller where it holds ids
	query  url.Values
	body   any
	header http.Header
	// idempotent says that sending the request twice has the effect of
	// sending it once, so it may be retried.
	idempotent bool
}

// do sends req, retrying it where that is safe, and decodes a 2xx answer
// into out (if not nil). Any other answer is an *Error.
func (c *Client) do(ctx context.Context, req request, out any) (*http.Response, error) {
	var body []byte
	if req.body != nil {
		var err error
		if body, err = json.Marshal(req.body); err != nil {
			return nil, fmt.Errorf("client: encode request: %w", err)
		}
	}
	target := c.base.String() + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}

	backoff := c.retry.MinWait
	for attempt := 1; ; attempt++ {
		resp, respBody, err := c.send(ctx, req, target, body)
		wait, retryable := c.retryable(req, resp, err, backoff)
		if retryable && attempt < c.retry.Attempts && ctx.Err() == nil {
			if err := c.sleep(ctx, wait); err != nil {
				return nil, err
			}
			backoff = min(backoff*2, c.retry.MaxWait)
			continue
		}
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return resp, decodeError(resp, respBody)
		}
		if out != nil && len(respBody) > 0 {
			if err := json.Unmarshal(respBody, out); err != nil {
				return resp, fmt.Errorf("client: %s %s: decode answer: %w", req.method, req.path, err)
			}
		}
		return resp, nil
	}
}

// send makes one attempt and reads the whole answer.
func (c *Client) send(ctx context.Context, req request, target string, body []byte) (*http.Response, []byte, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.method, target, reader)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	for name, values := range req.header {
		httpReq.Header[name] = values
	}
	if body != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	httpReq.Header.Set("Accept", "application/json")
	httpReq.Header.Set("User-Agent", c.userAgent)
	if c.token != nil {
		token, err := c.token(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("client: token: %w", err)
		}
		if token != "" {
			httpReq.Header.Set("Authorization", "Bearer "+token)
		}
	}
	resp, err := c.http.Do(httpReq)
	if err != nil {
		return nil, nil, fmt.Errorf("client: %s %s: %w", req.method, req.path, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("client: %s %s: read answer: %w", req.method, req.path, err)
	}
	return resp, respBody, nil
}

// retryable says whether a failed attempt may be tried again, and after
// how long: never a request that is not idempotent, nor a 4xx other than
// 429; a 429 after its Retry-After if that is short enough.
func (c *Client) retryable(req request, resp *http.Response, err error, backoff time.Duration) (time.Duration, bool) {
	if !req.idempotent {
		return 0, false
	}
	jittered := backoff/2 + rand.N(backoff/2+1)
	switch {
	case err != nil:
		return jittered, !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	case resp.StatusCode == http.StatusTooManyRequests:
		after, ok := retryAfter(resp.Header)
		if !ok {
			return jittered, true
		}
		return after, after <= c.retry.MaxRateLimitWait
	case resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusServiceUnavailable,
		resp.StatusCode == http.StatusGatewayTimeout, resp.StatusCode == http.StatusInternalServerError:
		if after, ok := retryAfter(resp.Header); ok {
			return after, after <= c.retry.MaxRateLimitWait
		}
		return jittered, true
	}
	return 0, false
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// newIdempotencyKey makes a key for a create the caller gave none for, so
// the create can be retried safely.
func newIdempotencyKey() string {
	return "client-" + cryptorand.Text()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// escape makes an id safe as one path segment.
func escape(id string) string { return url.PathEscape(id) }

// storeQuery is the store_id parameter operators name a store with; a
// store token leaves it empty (its own store).
func storeQuery(storeID string) url.Values {
	q := url.Values{}
	if storeID != "" {
		q.Set("store_id", storeID)
	}
	return q
}
