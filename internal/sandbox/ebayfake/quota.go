package ebayfake

import (
	"net/http"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// defaultDailyCallLimit is the limit the rate-limit answer shows when
// Options.DailyCallLimit sets none: eBay's default Inventory API quota
// (secondary source; eBay's call-limits page is the primary one).
const defaultDailyCallLimit = 2_000_000

// quotaWindow is the length of a quota day as getRateLimits states it.
const quotaWindow = 24 * time.Hour

// quotaUsage is an app's Sell Inventory calls in one quota day.
type quotaUsage struct {
	day   time.Time // the day's start
	calls int
}

// pacificTime is the default zone of the quota day. Without the time zone
// database (a bare container) it falls back to Pacific standard time, which
// is an hour off in summer.
func pacificTime() *time.Location {
	if loc, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return loc
	}
	return time.FixedZone("PST", -8*60*60)
}

// quotaDay returns the start and the end (the reset) of the quota day at
// now.
func (s *Server) quotaDay(now time.Time) (start, reset time.Time) {
	year, month, day := now.In(s.quotaResetLocation).Date()
	start = time.Date(year, month, day, 0, 0, 0, 0, s.quotaResetLocation)
	return start, time.Date(year, month, day+1, 0, 0, 0, 0, s.quotaResetLocation)
}

// usage returns the app's usage of the quota day at now, empty on a new
// day. s.mu is held.
func (s *Server) usage(clientID string, now time.Time) *quotaUsage {
	start, _ := s.quotaDay(now)
	u, ok := s.quota[clientID]
	if !ok || !u.day.Equal(start) {
		u = &quotaUsage{day: start}
		s.quota[clientID] = u
	}
	return u
}

// quotaExhausted reports whether Faults.QuotaExhausted holds at now. s.mu
// is held.
func (s *Server) quotaExhausted(now time.Time) bool {
	return s.faults.QuotaExhausted && now.Before(s.quotaExhaustedUntil)
}

// takeInventoryCall counts one Sell Inventory call of the app, or reports
// false when its daily quota is used up. s.mu is held.
func (s *Server) takeInventoryCall(clientID string, now time.Time) bool {
	if s.quotaExhausted(now) {
		return false
	}
	u := s.usage(clientID, now)
	if s.dailyCallLimit > 0 && u.calls >= s.dailyCallLimit {
		return false
	}
	u.calls++
	return true
}

// The Developer Analytics API's getRateLimits answer (RateLimitsResponse),
// after eBay's Analytics API reference: the fields of a rate are listed in
// its overview (count since v1_beta.0.1), the nesting in its sample answer.
type (
	rateLimitsAnswer struct {
		RateLimits []rateLimit `json:"rateLimits"`
	}
	rateLimit struct {
		APIContext string         `json:"apiContext"`
		APIName    string         `json:"apiName"`
		APIVersion string         `json:"apiVersion"`
		Resources  []rateResource `json:"resources"`
	}
	rateResource struct {
		Name  string `json:"name"`
		Rates []rate `json:"rates"`
	}
	rate struct {
		Count      int    `json:"count"`
		Limit      int    `json:"limit"`
		Remaining  int    `json:"remaining"`
		Reset      string `json:"reset"`      // RFC 3339 in UTC with milliseconds
		TimeWindow int    `json:"timeWindow"` // seconds
	}
)

// handleGetRateLimits is the Developer Analytics API's getRateLimits: the
// app's quotas, for an application token only. It serves the Sell
// Inventory API's daily quota, as one resource (how eBay names and splits
// the Inventory API's resources is not confirmed), filtered by the
// api_context and api_name parameters.
func (s *Server) handleGetRateLimits(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.mu.Lock()
	s.counters.APICalls++
	grant, ok := s.grantOf(r.Header.Get("Authorization"), now)
	var refused *refusal
	var retryAfter time.Duration
	if !ok || !grant.isApplication() {
		// getRateLimits takes an application token; a user token is for
		// getUserRateLimits.
		refused = &invalidAccessToken
	} else {
		refused, retryAfter = s.injectedFault()
	}
	var answer rateLimitsAnswer
	if refused == nil {
		answer.RateLimits = []rateLimit{}
		query := r.URL.Query()
		if matches(query.Get("api_context"), "sell") && matches(query.Get("api_name"), "inventory") {
			answer.RateLimits = append(answer.RateLimits, s.inventoryRateLimit(grant.clientID, now))
		}
	}
	s.mu.Unlock()

	if refused != nil {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(retryAfter))
		}
		refused.write(w)
		return
	}
	fakeserver.WriteJSON(w, http.StatusOK, answer)
}

// inventoryRateLimit is the app's Sell Inventory quota at now. s.mu is
// held.
func (s *Server) inventoryRateLimit(clientID string, now time.Time) rateLimit {
	limit := s.dailyCallLimit
	if limit == 0 {
		limit = defaultDailyCallLimit
	}
	calls := s.usage(clientID, now).calls
	remaining := max(limit-calls, 0)
	if s.quotaExhausted(now) {
		remaining = 0
	}
	_, reset := s.quotaDay(now)
	return rateLimit{
		APIContext: "sell",
		APIName:    "inventory",
		APIVersion: "v1",
		Resources: []rateResource{{
			Name: "sell.inventory",
			Rates: []rate{{
				Count:      calls,
				Limit:      limit,
				Remaining:  remaining,
				Reset:      reset.UTC().Format("2006-01-02T15:04:05.000Z"),
				TimeWindow: int(quotaWindow / time.Second),
			}},
		}},
	}
}

// matches reports whether a filter parameter lets value through: an empty
// filter lets everything through.
func matches(filter, value string) bool {
	return filter == "" || strings.EqualFold(filter, value)
}
