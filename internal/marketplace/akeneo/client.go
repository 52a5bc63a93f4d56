package akeneo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/dainostore/jobs/internal/marketplace"
)

// Defaults of a Config's optional fields.
const (
	DefaultLocale              = "en_US"
	DefaultScope               = "ecommerce"
	DefaultIdentifierAttribute = "sku"
	// DefaultMaxInFlight is Akeneo's limit of concurrent calls per
	// connection.
	DefaultMaxInFlight = 4
	// DefaultRequestsPerSecond is Akeneo's limit per PIM.
	DefaultRequestsPerSecond = 100
	defaultTimeout           = 30 * time.Second
)

// pageSize is the largest page Akeneo serves.
const pageSize = 100

// Response bodies are read up to these sizes: a page of 100 products with
// every locale and channel stays well below maxPageBytes.
const (
	maxPageBytes  = 32 << 20
	maxTokenBytes = 64 << 10
	maxErrorBytes = 64 << 10
	// MaxMediaBytes is the largest media file DownloadMedia reads; a larger
	// one fails rather than arriving truncated.
	MaxMediaBytes = 64 << 20
)

// Config is one Akeneo connection.
type Config struct {
	// BaseURL is the PIM, e.g. https://acme.cloud.akeneo.com. It may carry a
	// path prefix when the PIM is served under one.
	BaseURL string
	// ClientID and Secret identify the connection, Username and Password
	// its API user.
	ClientID, Secret, Username, Password string
	// Locale is the locale whose name and description become a product's
	// Title and Description (default en_US).
	Locale string
	// Scope is the channel whose values are read (default ecommerce).
	Scope string
	// Currency, if set, puts that currency's price first in a product's
	// Prices; every price is kept.
	Currency string
	// IdentifierAttribute is the code of the PIM's identifier attribute,
	// whose value is a product's SKU. Akeneo names it "sku" unless the PIM
	// was set up otherwise.
	IdentifierAttribute string
	// MaxInFlight bounds the calls in flight at once (default 4, Akeneo's
	// limit per connection).
	MaxInFlight int
	// RequestsPerSecond spaces the calls (default 100, Akeneo's limit per
	// PIM; negative: no spacing). Without it a client that keeps 4 calls in
	// flight spends the PIM's burst and is answered 429 until it slows down.
	RequestsPerSecond float64
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Now tells the time that token expiries are measured in; nil means
	// time.Now.
	Now func() time.Time
}

// Client is a client of one Akeneo connection. It is safe for concurrent
// use.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client
	now  func() time.Time

	// slots holds one element per call in flight.
	slots chan struct{}
	// pace spaces the calls at RequestsPerSecond; nil for none.
	pace *rate.Limiter
	// granting is held while a token is requested, so that callers who
	// find the token stale wait for one grant instead of each asking.
	granting chan struct{}

	mu    sync.Mutex // guards token
	token token

	requests, rateLimited, passwordGrants, refreshGrants atomic.Int64
}

// Stats counts what a client has sent and been answered.
type Stats struct {
	// Requests is every HTTP request sent, token grants included.
	Requests int64
	// RateLimited is the requests answered 429.
	RateLimited    int64
	PasswordGrants int64
	RefreshGrants  int64
}

// New returns a client of the connection cfg describes. It sends nothing.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("akeneo: base URL: %w", err)
	}
	if (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("akeneo: base URL %q is not an http(s) URL with a host", cfg.BaseURL)
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("akeneo: base URL %q has a query or a fragment", cfg.BaseURL)
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	if cfg.Locale == "" {
		cfg.Locale = DefaultLocale
	}
	if cfg.Scope == "" {
		cfg.Scope = DefaultScope
	}
	if cfg.IdentifierAttribute == "" {
		cfg.IdentifierAttribute = DefaultIdentifierAttribute
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.RequestsPerSecond == 0 {
		cfg.RequestsPerSecond = DefaultRequestsPerSecond
	}
	var pace *rate.Limiter
	if cfg.RequestsPerSecond > 0 {
		// A burst of a tenth of a second's calls: enough for the calls in
		// flight, too little to spend the PIM's own burst at once.
		pace = rate.NewLimiter(rate.Limit(cfg.RequestsPerSecond), max(1, int(cfg.RequestsPerSecond/10)))
	}
	httpClient := cfg.HTTP
	if httpClient == nil {
		httpClient = &http.Client{Timeout: defaultTimeout}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		cfg:      cfg,
		base:     base,
		http:     httpClient,
		now:      now,
		slots:    make(chan struct{}, cfg.MaxInFlight),
		pace:     pace,
		granting: make(chan struct{}, 1),
	}, nil
}

// Stats returns what the client has sent so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:       c.requests.Load(),
		RateLimited:    c.rateLimited.Load(),
		PasswordGrants: c.passwordGrants.Load(),
		RefreshGrants:  c.refreshGrants.Load(),
	}
}

// endpoint is the URL of an API path on the PIM.
func (c *Client) endpoint(path string, query url.Values) string {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	return u.String()
}

// checkOrigin refuses a link that leads away from the PIM: the client sends
// the connection's token with every call, so it follows links (stored page
// cursors, media links) only to the scheme and host it was configured with.
// A refused link is permanent, with Status 0: nothing was sent.
func (c *Client) checkOrigin(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return &marketplace.PermanentError{Marketplace: marketplace.Akeneo, Reason: fmt.Sprintf("malformed link %q: %v", link, err)}
	}
	if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) {
		return &marketplace.PermanentError{Marketplace: marketplace.Akeneo,
			Reason: fmt.Sprintf("link %q is not on the PIM %s://%s", link, c.base.Scheme, c.base.Host)}
	}
	return nil
}

// acquire takes a place among the calls in flight, waiting for one if need
// be; the returned func gives it back and must be called once.
func (c *Client) acquire(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case c.slots <- struct{}{}:
		return func() { <-c.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// send sends req within the in-flight bound. On success the caller owns the
// response and must call release once it is done with the body: release
// closes the body and frees the place.
func (c *Client) send(req *http.Request) (resp *http.Response, release func(), err error) {
	// Spaced before it takes a place in flight, so a waiting call holds none.
	if c.pace != nil {
		if err := c.pace.Wait(req.Context()); err != nil {
			return nil, nil, fmt.Errorf("akeneo: %s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	free, err := c.acquire(req.Context())
	if err != nil {
		return nil, nil, fmt.Errorf("akeneo: %s %s: %w", req.Method, req.URL.Path, err)
	}
	c.requests.Add(1)
	resp, err = c.http.Do(req)
	if err != nil {
		free()
		return nil, nil, fmt.Errorf("akeneo: %s %s: %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.rateLimited.Add(1)
	}
	var once sync.Once
	return resp, func() {
		once.Do(func() {
			resp.Body.Close()
			free()
		})
	}, nil
}
