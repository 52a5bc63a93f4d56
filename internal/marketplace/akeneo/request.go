package akeneo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
)

// get sends an authenticated GET of link. A 401 renews the token and sends
// the request once more; a second 401 is a rejected credential. Any other
// answer is returned as is: the caller classifies it, then calls release.
func (c *Client) get(ctx context.Context, link, accept string) (*http.Response, func(), error) {
	for attempt := 1; ; attempt++ {
		access, err := c.accessToken(ctx)
		if err != nil {
			return nil, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
		if err != nil {
			return nil, nil, &marketplace.PermanentError{Marketplace: marketplace.Akeneo, Reason: fmt.Sprintf("request for %q: %v", link, err)}
		}
		req.Header.Set("Authorization", "Bearer "+access)
		req.Header.Set("Accept", accept)
		resp, release, err := c.send(req)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return resp, release, nil
		}
		reason := errorMessage(resp)
		release()
		if attempt == 2 {
			return nil, nil, &marketplace.CredentialError{Marketplace: marketplace.Akeneo, Reason: reason}
		}
		if err := c.renewRejected(ctx, access); err != nil {
			return nil, nil, err
		}
	}
}

// getJSON GETs link and decodes Akeneo's JSON answer into v.
func (c *Client) getJSON(ctx context.Context, link string, v any) error {
	resp, release, err := c.get(ctx, link, "application/json")
	if err != nil {
		return err
	}
	defer release()
	if resp.StatusCode != http.StatusOK {
		return c.statusError(resp, errorMessage(resp))
	}
	if err := decodeJSON(resp.Body, maxPageBytes, v); err != nil {
		// A body cut short is a dropped connection, worth another try.
		return fmt.Errorf("akeneo: GET %s: read response: %w", resp.Request.URL.Path, err)
	}
	return nil
}

// statusError turns a refusal other than a 401 into its class.
func (c *Client) statusError(resp *http.Response, reason string) error {
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests:
		return &marketplace.RateLimitError{Marketplace: marketplace.Akeneo, Wait: retryAfter(resp.Header.Get("Retry-After"), c.now()), Reason: reason}
	case code == http.StatusRequestTimeout, code >= 500:
		// Akeneo asks clients to retry these.
		return fmt.Errorf("akeneo: %s %s: HTTP %d: %s", resp.Request.Method, resp.Request.URL.Path, code, reason)
	case code >= 400:
		// 403 is a permission the API user lacks, 404 something that is
		// not there (or not visible to the user), 422 a query Akeneo cannot
		// answer: none changes by asking again.
		return &marketplace.PermanentError{Marketplace: marketplace.Akeneo, Status: code, Reason: reason}
	default:
		return fmt.Errorf("akeneo: %s %s: unexpected HTTP %d: %s", resp.Request.Method, resp.Request.URL.Path, code, reason)
	}
}

// errorMessage reads the reason from Akeneo's error body,
// {"code":422,"message":"…"}, or says what status came back without one.
func errorMessage(resp *http.Response) string {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var body struct {
		Message string `json:"message"`
		// The OAuth layer answers some refusals in its own words.
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(data, &body) == nil {
		if body.Message != "" {
			return body.Message
		}
		if body.ErrorDescription != "" {
			return body.ErrorDescription
		}
	}
	if text := strings.TrimSpace(string(data)); text != "" && len(text) <= 200 && !strings.ContainsAny(text, "<>") {
		return text
	}
	return http.StatusText(resp.StatusCode)
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date. Zero
// means no hint.
func retryAfter(header string, now time.Time) time.Duration {
	header = strings.TrimSpace(header)
	if header == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(header); err == nil {
		return max(0, time.Duration(seconds)*time.Second)
	}
	if at, err := http.ParseTime(header); err == nil {
		return max(0, at.Sub(now))
	}
	return 0
}
