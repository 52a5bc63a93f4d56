package amazon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
	"golang.org/x/time/rate"
)

// DefaultLWAURL is Login with Amazon's token endpoint.
const DefaultLWAURL = "https://api.amazon.com/auth/o2/token"

// userAgent identifies us to SP-API, which asks every caller for one in
// the form AppName/Version (Language=…).
const userAgent = "dainostore-jobs/1.0 (Language=Go)"

const (
	defaultTimeout = 30 * time.Second
	// Bounds on what is read from an answer: SP-API's largest reads are
	// well under the first; an error body is a few hundred bytes.
	maxResponseBytes = 16 << 20
	maxErrorBytes    = 64 << 10
)

// Config says where the client reaches Amazon and with what.
type Config struct {
	// LWAURL is the token endpoint; empty means DefaultLWAURL.
	LWAURL string
	// SPAPIURL is the SP-API base URL; empty means the production host of
	// the credentials' region (https://sellingpartnerapi-<region>.amazon.com).
	SPAPIURL string
	// HTTP sends the requests; nil means a client with a 30-second timeout.
	HTTP *http.Client
	// Now tells the time the access token's expiry is measured in; nil means
	// time.Now.
	Now func() time.Time
	// ListingsRate spaces the Listings Items API calls before SP-API has to
	// refuse them; zero means the published usage plan,
	// DefaultListingsRate, and rate.Inf no spacing.
	ListingsRate rate.Limit
	// ListingsBurst is how many listings calls may go at once after a pause;
	// zero means DefaultListingsBurst.
	ListingsBurst int
}

// Client calls LWA and SP-API for one seller. It is safe for concurrent
// use; concurrent calls share one access token.
type Client struct {
	lwaURL   string
	spapiURL string
	http     *http.Client
	now      func() time.Time
	creds    Credentials
	token    *marketplace.TokenCache
	// listings spaces the Listings Items API calls at its usage plan, so
	// a run of exports meets few 429s.
	listings *rate.Limiter
}

// New returns a client for the seller of creds, or an error if the
// credentials or the configured URLs are unusable.
func New(cfg Config, creds Credentials) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	lwaURL := cfg.LWAURL
	if lwaURL == "" {
		lwaURL = DefaultLWAURL
	}
	spapiURL := cfg.SPAPIURL
	if spapiURL == "" {
		spapiURL = regionHosts[creds.Region]
	}
	if err := checkBaseURL(lwaURL); err != nil {
		return nil, fmt.Errorf("amazon: LWA URL: %w", err)
	}
	if err := checkBaseURL(spapiURL); err != nil {
		return nil, fmt.Errorf("amazon: SP-API URL: %w", err)
	}
	listingsRate, listingsBurst := cfg.ListingsRate, cfg.ListingsBurst
	if listingsRate < 0 || listingsBurst < 0 {
		return nil, fmt.Errorf("amazon: listings rate %v and burst %d must not be negative", listingsRate, listingsBurst)
	}
	if listingsRate == 0 {
		listingsRate = DefaultListingsRate
	}
	if listingsBurst == 0 {
		listingsBurst = DefaultListingsBurst
	}
	c := &Client{
		lwaURL:   lwaURL,
		spapiURL: strings.TrimRight(spapiURL, "/"),
		http:     cfg.HTTP,
		now:      cfg.Now,
		creds:    creds,
		listings: rate.NewLimiter(listingsRate, listingsBurst),
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.token = marketplace.NewTokenCache(marketplace.Amazon, c.now)
	return c, nil
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", raw)
	}
	return nil
}

// call sends one SP-API request and decodes a 2xx answer's JSON into out
// (when out is not nil). body, when not nil, is sent as JSON. Every failure
// is one of the marketplace error classes or a transient error.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("amazon %s %s: encode request: %w", method, path, err)
		}
	}
	return c.token.Call(ctx, c.refreshGrant, func(token string) error {
		return c.send(ctx, method, path, query, payload, token, out)
	})
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, payload []byte, token string, out any) error {
	target := c.spapiURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("amazon %s %s: %w", method, path, err)
	}
	req.Header.Set("x-amz-access-token", token)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("amazon %s %s: %w", method, path, err)
	}
	defer drainAndClose(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(out); err != nil {
			return fmt.Errorf("amazon %s %s: decode answer: %w", method, path, err)
		}
		return nil
	}
	return c.classifyAPIError(resp, method, path)
}

// apiErrorList is SP-API's error body: {"errors":[{"code","message","details"}]}.
type apiErrorList struct {
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details string `json:"details"`
	} `json:"errors"`
}

func (c *Client) classifyAPIError(resp *http.Response, method, path string) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	reason := apiErrorReason(raw, resp.StatusCode)
	switch status := resp.StatusCode; {
	case status == http.StatusForbidden:
		// SP-API gives it for an expired or revoked token as well as for a
		// missing role: the token cache renews the token once to tell which.
		return &marketplace.TokenRejectedError{Reason: reason}
	case status == http.StatusTooManyRequests:
		return &marketplace.RateLimitError{Marketplace: marketplace.Amazon, Wait: c.rateLimitWait(resp.Header), Reason: reason}
	case status >= 500 || status == http.StatusRequestTimeout:
		return fmt.Errorf("amazon %s %s: HTTP %d: %s", method, path, status, reason)
	default:
		return &marketplace.PermanentError{Marketplace: marketplace.Amazon, Status: status, Reason: reason}
	}
}

// apiErrorReason is Amazon's own words for a failed call: the first error's
// message and details, or the status when the body is not SP-API's.
func apiErrorReason(raw []byte, status int) string {
	var list apiErrorList
	if json.Unmarshal(raw, &list) == nil && len(list.Errors) > 0 {
		first := list.Errors[0]
		reason := first.Message
		if reason == "" {
			reason = first.Code
		}
		if first.Details != "" && first.Details != reason {
			reason += " " + first.Details
		}
		if reason != "" {
			return reason
		}
	}
	if text := strings.TrimSpace(string(raw)); text != "" && len(text) <= 200 {
		return text
	}
	return http.StatusText(status)
}

// rateLimitWait is the wait a 429 hints at. SP-API documents no Retry-After,
// so it is honoured only if sent; otherwise a rate limit header gives the
// time one request's worth of quota takes to come back.
func (c *Client) rateLimitWait(h http.Header) time.Duration {
	if wait, ok := retryAfter(h, c.now()); ok {
		return wait
	}
	if rate, err := strconv.ParseFloat(h.Get("x-amzn-RateLimit-Limit"), 64); err == nil && rate > 0 {
		return time.Duration(float64(time.Second) / rate)
	}
	return 0
}

// retryAfter reads a Retry-After header in either of its forms (seconds, or
// an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	value := strings.TrimSpace(h.Get("Retry-After"))
	if value == "" {
		return 0, false
	}
	if seconds, err := strconv.Atoi(value); err == nil && seconds >= 0 {
		return time.Duration(seconds) * time.Second, true
	}
	if at, err := http.ParseTime(value); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

// drainAndClose reads what is left of a body (a little) so the connection
// can be reused.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxErrorBytes))
	_ = body.Close()
}
