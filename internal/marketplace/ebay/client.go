package ebay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
)

// DefaultAPIURL is eBay's production API host, which also serves OAuth.
const DefaultAPIURL = "https://api.ebay.com"

// ScopeSellInventory is the OAuth scope of the Sell Inventory API's reads
// and writes.
const ScopeSellInventory = "https://api.ebay.com/oauth/api_scope/sell.inventory"

// errorIDInsufficientPermissions is eBay's 403 for a token without the
// scope a call needs.
const errorIDInsufficientPermissions = 1100

const (
	defaultTimeout = 30 * time.Second
	// Bounds on what is read from an answer: a page of 200 inventory items
	// is well under the first; an error body is a few hundred bytes.
	maxResponseBytes = 16 << 20
	maxErrorBytes    = 64 << 10
)

// Config says where the client reaches eBay and with what.
type Config struct {
	// APIURL is the base of the OAuth and Sell APIs; empty means
	// DefaultAPIURL. https://api.sandbox.ebay.com is eBay's sandbox.
	APIURL string
	// Scopes are asked for in every grant; nil means ScopeSellInventory. The
	// seller must have granted all of them.
	Scopes []string
	// HTTP sends the requests; nil means a client with a 30-second timeout.
	HTTP *http.Client
	// Now tells the time the access token's expiry is measured in; nil means
	// time.Now.
	Now func() time.Time
}

// Client calls eBay for one seller. It is safe for concurrent use;
// concurrent calls share one access token.
type Client struct {
	apiURL string
	scopes []string
	http   *http.Client
	now    func() time.Time
	creds  Credentials
	token  *marketplace.TokenCache
}

// New returns a client for the seller of creds, or an error if the
// credentials or the configured URL are unusable.
func New(cfg Config, creds Credentials) (*Client, error) {
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("ebay: API URL %q is not an http(s) URL", apiURL)
	}
	c := &Client{
		apiURL: strings.TrimRight(apiURL, "/"),
		scopes: slices.Clone(cfg.Scopes),
		http:   cfg.HTTP,
		now:    cfg.Now,
		creds:  creds,
	}
	if len(c.scopes) == 0 {
		c.scopes = []string{ScopeSellInventory}
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: defaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.token = marketplace.NewTokenCache(marketplace.Ebay, c.now)
	return c, nil
}

// call sends one API request and decodes a 2xx answer's JSON into out (when
// out is not nil). body, when not nil, is sent as JSON in the credentials'
// content language. Every failure is one of the marketplace error classes
// or a transient error.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("ebay %s %s: encode request: %w", method, path, err)
		}
	}
	return c.token.Call(ctx, c.refreshGrant, func(token string) error {
		return c.send(ctx, method, path, query, payload, token, out)
	})
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, payload []byte, token string, out any) error {
	target := c.apiURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("ebay %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Language", c.creds.ContentLanguage)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("ebay %s %s: %w", method, path, err)
	}
	defer drainAndClose(resp.Body)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || resp.StatusCode == http.StatusNoContent {
			return nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(out); err != nil {
			return fmt.Errorf("ebay %s %s: decode answer: %w", method, path, err)
		}
		return nil
	}
	return c.classifyAPIError(resp, method, path)
}

// apiError is one entry of eBay's {"errors":[…]} body.
type apiError struct {
	ErrorID     int    `json:"errorId"`
	Domain      string `json:"domain"`
	Category    string `json:"category"`
	Message     string `json:"message"`
	LongMessage string `json:"longMessage"`
}

func (c *Client) classifyAPIError(resp *http.Response, method, path string) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var body struct {
		Errors []apiError `json:"errors"`
	}
	_ = json.Unmarshal(raw, &body)
	reason := errorReason(body.Errors, raw, resp.StatusCode)
	switch status := resp.StatusCode; {
	case status == http.StatusUnauthorized:
		// An expired or revoked token: the token cache renews it once to
		// tell which.
		return &marketplace.TokenRejectedError{Reason: reason}
	case status == http.StatusForbidden && slices.ContainsFunc(body.Errors, func(e apiError) bool {
		return e.ErrorID == errorIDInsufficientPermissions
	}):
		// The seller did not grant a scope the call needs: only a new
		// consent, which the store gives by connecting again, adds it.
		return &marketplace.CredentialError{Marketplace: marketplace.Ebay, Reason: reason}
	case status == http.StatusTooManyRequests:
		wait, _ := retryAfter(resp.Header, c.now())
		return &marketplace.RateLimitError{Marketplace: marketplace.Ebay, Wait: wait, Reason: reason}
	case status >= 500 || status == http.StatusRequestTimeout:
		return fmt.Errorf("ebay %s %s: HTTP %d: %s", method, path, status, reason)
	default:
		return &marketplace.PermanentError{Marketplace: marketplace.Ebay, Status: status, Reason: reason}
	}
}

// errorReason is eBay's own words for a failed call: the first error's
// message, completed by its longMessage (which often repeats the message),
// or the status when the body is not eBay's.
func errorReason(errs []apiError, raw []byte, status int) string {
	if len(errs) > 0 {
		first := errs[0]
		switch {
		case first.LongMessage == "" || first.LongMessage == first.Message:
			if first.Message != "" {
				return first.Message
			}
		case strings.HasPrefix(first.LongMessage, first.Message):
			return first.LongMessage
		case strings.HasSuffix(first.Message, "."):
			return first.Message + " " + first.LongMessage
		default:
			return first.Message + ": " + first.LongMessage
		}
	}
	if text := strings.TrimSpace(string(raw)); text != "" && len(text) <= 200 {
		return text
	}
	return http.StatusText(status)
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
