package ebay

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// scopeApplication is the scope of an application token, the one the
// Developer Analytics API's getRateLimits asks for.
const scopeApplication = "https://api.ebay.com/oauth/api_scope"

// rateLimitsPath is getRateLimits, with the trailing slash of eBay's
// reference (https://developer.ebay.com/api-docs/developer/analytics/resources/methods).
const rateLimitsPath = "/developer/analytics/v1_beta/rate_limit/"

// rateLimits is getRateLimits' answer. The fields of a rate are those of
// eBay's Analytics API overview (count, limit, remaining, reset,
// timeWindow); the nesting (rateLimits → resources → rates) is that of the
// sample answer on its getRateLimits page. How eBay names the Inventory
// API's resources is not confirmed, so every resource of the API counts.
type rateLimits struct {
	RateLimits []struct {
		APIContext string `json:"apiContext"`
		APIName    string `json:"apiName"`
		Resources  []struct {
			Name  string `json:"name"`
			Rates []struct {
				Count      int    `json:"count"`
				Limit      int    `json:"limit"`
				Remaining  int    `json:"remaining"`
				Reset      string `json:"reset"`      // RFC 3339, "2026-12-01T07:00:00.000Z"
				TimeWindow int    `json:"timeWindow"` // seconds
			} `json:"rates"`
		} `json:"resources"`
	} `json:"rateLimits"`
}

// QuotaReset returns when the app's Sell Inventory quota next resets: the
// earliest reset among the quotas used up, or, when none is, the earliest
// of all. A job refused with 429 and no Retry-After (eBay's answer to a
// daily quota used up) waits until then rather than retrying.
//
// It asks the Developer Analytics API's getRateLimits, which takes an
// application token: the client obtains one with the client-credentials
// grant of the credentials' keyset and keeps it apart from the seller's.
func (c *Client) QuotaReset(ctx context.Context) (time.Time, error) {
	query := url.Values{"api_context": {"sell"}, "api_name": {"inventory"}}
	var answer rateLimits
	err := c.appToken.Call(ctx, c.applicationGrant, func(token string) error {
		return c.send(ctx, http.MethodGet, rateLimitsPath, query, nil, token, &answer)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("ebay quota reset: %w", err)
	}

	var earliest, earliestExhausted time.Time
	for _, limit := range answer.RateLimits {
		if !strings.EqualFold(limit.APIContext, "sell") || !strings.EqualFold(limit.APIName, "inventory") {
			continue
		}
		for _, resource := range limit.Resources {
			for _, rate := range resource.Rates {
				reset, err := time.Parse(time.RFC3339, rate.Reset)
				if err != nil {
					return time.Time{}, fmt.Errorf("ebay quota reset: resource %s: reset %q: %w", resource.Name, rate.Reset, err)
				}
				if earliest.IsZero() || reset.Before(earliest) {
					earliest = reset
				}
				if rate.Remaining <= 0 && (earliestExhausted.IsZero() || reset.Before(earliestExhausted)) {
					earliestExhausted = reset
				}
			}
		}
	}
	switch {
	case !earliestExhausted.IsZero():
		return earliestExhausted, nil
	case !earliest.IsZero():
		return earliest, nil
	}
	return time.Time{}, errors.New("ebay quota reset: eBay reported no Sell Inventory quota")
}
