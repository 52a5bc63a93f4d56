package ebayfake

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// Faults are the failures the server injects.
type Faults struct {
	// RevokedRefreshTokens are grants the seller withdrew: a refresh with
	// one answers invalid_grant, and the access tokens issued from it
	// answer 401 errorId 1001.
	RevokedRefreshTokens []string
	// RateLimitNext makes the next N API calls answer 429 errorId 2001.
	RateLimitNext int
	// RateLimitRetryAfter, when positive, is sent as Retry-After (whole
	// seconds, rounded up) on those 429s. eBay seldom sends one.
	RateLimitRetryAfter time.Duration
	// ServerErrorsNext makes the next N API calls answer 500 errorId
	// 25001. Counted before RateLimitNext.
	ServerErrorsNext int
	// Latency delays every OAuth and API answer (on the wall clock).
	Latency time.Duration
	// QuotaExhausted uses up the daily Sell Inventory quota of every app at
	// once: the calls answer 429 errorId 2001, without Retry-After, until the
	// quota day it was set in ends. Faults then reads it as false.
	QuotaExhausted bool
}

// faultsJSON is Faults as /_faults reads and writes them; durations are Go
// durations ("250ms", "30s").
type faultsJSON struct {
	RevokedRefreshTokens []string `json:"revoked_refresh_tokens"`
	RateLimitNext        int      `json:"rate_limit_next"`
	RateLimitRetryAfter  string   `json:"rate_limit_retry_after"`
	ServerErrorsNext     int      `json:"server_errors_next"`
	Latency              string   `json:"latency"`
	QuotaExhausted       bool     `json:"quota_exhausted"`
}

// SetFaults replaces the faults in force.
func (s *Server) SetFaults(f Faults) {
	f.RevokedRefreshTokens = slices.Clone(f.RevokedRefreshTokens)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.quotaExhaustedUntil = time.Time{}
	if f.QuotaExhausted {
		_, s.quotaExhaustedUntil = s.quotaDay(now)
	}
}

// Faults returns the faults in force, with the counts left.
func (s *Server) Faults() Faults {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.RevokedRefreshTokens = slices.Clone(f.RevokedRefreshTokens)
	f.QuotaExhausted = s.quotaExhausted(now)
	return f
}

func (s *Server) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	fakeserver.WriteJSON(w, http.StatusOK, toJSON(s.Faults()))
}

// handleSetFaults replaces the faults with the body's and answers with
// them; fields left out are cleared.
func (s *Server) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	fakeserver.ServeSetFaults(w, r, fromJSON, s.SetFaults, toJSON)
}

func toJSON(f Faults) faultsJSON {
	out := faultsJSON{
		RevokedRefreshTokens: f.RevokedRefreshTokens,
		RateLimitNext:        f.RateLimitNext,
		RateLimitRetryAfter:  f.RateLimitRetryAfter.String(),
		ServerErrorsNext:     f.ServerErrorsNext,
		Latency:              f.Latency.String(),
		QuotaExhausted:       f.QuotaExhausted,
	}
	if out.RevokedRefreshTokens == nil {
		out.RevokedRefreshTokens = []string{}
	}
	return out
}

func fromJSON(in faultsJSON) (Faults, error) {
	f := Faults{
		RevokedRefreshTokens: in.RevokedRefreshTokens,
		RateLimitNext:        in.RateLimitNext,
		ServerErrorsNext:     in.ServerErrorsNext,
		QuotaExhausted:       in.QuotaExhausted,
	}
	if f.RateLimitNext < 0 || f.ServerErrorsNext < 0 {
		return Faults{}, errors.New("rate_limit_next and server_errors_next must not be negative")
	}
	var err error
	if f.RateLimitRetryAfter, err = fakeserver.ParseDelay("rate_limit_retry_after", in.RateLimitRetryAfter); err != nil {
		return Faults{}, err
	}
	if f.Latency, err = fakeserver.ParseDelay("latency", in.Latency); err != nil {
		return Faults{}, err
	}
	return f, nil
}
