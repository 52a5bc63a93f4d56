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
	token  *marketplace.TokenCache // the seller's user token
	// appToken is the app's own token (client-credentials grant), for the
	// Developer Analytics API.
	appToken *marketplace.TokenCache
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
	c.appToken = marketplace.NewTokenCache(marketplace.Ebay, c.now)
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

// Problem is one of eBay's errors or warnings (ErrorDetailV3): the whole
// answer's, or one item's in a bulk answer.
type Problem struct {
	ErrorID     int         `json:"errorId"`
	Domain      string      `json:"domain"`
	Category    string      `json:"category"` // REQUEST, APPLICATION or BUSINESS
	Message     string      `json:"message"`
	LongMessage string      `json:"longMessage,omitempty"`
	Parameters  []Parameter `json:"parameters,omitempty"`
}

// Parameter names what a Problem is about: a field, an offer id.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// String is eBay's own words for the problem: the message, completed by
// the longMessage (which often repeats the message).
func (p Problem) String() string {
	switch {
	case p.LongMessage == "" || p.LongMessage == p.Message:
		return p.Message
	case strings.HasPrefix(p.LongMessage, p.Message):
		return p.LongMessage
	case strings.HasSuffix(p.Message, "."):
		return p.Message + " " + p.LongMessage
	default:
		return p.Message + ": " + p.LongMessage
	}
}

// refusal is a call eBay refused: its class (err, one of the marketplace
// error classes or a transient error) and eBay's errors, for the calls
// that read an errorId.
type refusal struct {
	problems []Problem
	err      error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// has reports whether eBay answered with errorID.
func (r *refusal) has(errorID int) bool {
	return slices.ContainsFunc(r.problems, func(p Problem) bool { return p.ErrorID == errorID })
}

// classifyAPIError turns a refused call into its error class, keeping
// eBay's errors alongside.
func (c *Client) classifyAPIError(resp *http.Response, method, path string) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var body struct {
		Errors []Problem `json:"errors"`
	}
	_ = json.Unmarshal(raw, &body)
	return &refusal{problems: body.Errors, err: c.errorClass(resp, body.Errors, raw, method, path)}
}

// errorClass is the marketplace error class of a refused call.
func (c *Client) errorClass(resp *http.Response, problems []Problem, raw []byte, method, path string) error {
	reason := errorReason(problems, raw, resp.StatusCode)
	switch status := resp.StatusCode; {
	case status == http.StatusUnauthorized:
		// An expired or revoked token: the token cache renews it once to
		// tell which.
		return &marketplace.TokenRejectedError{Reason: reason}
	case status == http.StatusForbidden && slices.ContainsFunc(problems, func(p Problem) bool {
		return p.ErrorID == errorIDInsufficientPermissions
	}):
		// The seller did not grant a scope the call needs: only a new
		// consent, which the store gives by connecting again, adds it.
		return &marketplace.CredentialError{Marketplace: marketplace.Ebay, Reason: reason}
	case status == http.StatusTooManyRequests:
		wait, _ := retryAfter(resp.Header, c.now())
		return &marketplace.RateLimitError{Marketplace: marketplace.Ebay, Wait: wait, Reason: reason}
	case status >= 500 || status == http.StatusRequestTimeout:
		// 500 errorId 25025 (concurrent access of the same item) among them.
		return fmt.Errorf("ebay %s %s: HTTP %d: %s", method, path, status, reason)
	default:
		// A listing's business errors (25002–25764) are this too: the job
		// records eBay's words for the product and goes on.
		return &marketplace.PermanentError{Marketplace: marketplace.Ebay, Status: status, Reason: reason}
	}
}

// errorReason is eBay's own words for a failed call: every distinct error
// (a publish refused for three reasons names all three), or the status
// when the body is not eBay's.
func errorReason(problems []Problem, raw []byte, status int) string {
	if reason := problemsReason(problems); reason != "" {
		return reason
	}
	if text := strings.TrimSpace(string(raw)); text != "" && len(text) <= 200 {
		return text
	}
	return http.StatusText(status)
}

// problemsReason joins the distinct words of problems: as sentences when
// they end as one, eBay's usual form, otherwise with semicolons.
func problemsReason(problems []Problem) string {
	var reason strings.Builder
	var seen []string
	for _, p := range problems {
		text := p.String()
		if text == "" || slices.Contains(seen, text) {
			continue
		}
		if len(seen) > 0 {
			if strings.HasSuffix(seen[len(seen)-1], ".") {
				reason.WriteString(" ")
			} else {
				reason.WriteString("; ")
			}
		}
		seen = append(seen, text)
		reason.WriteString(text)
	}
	return reason.String()
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
