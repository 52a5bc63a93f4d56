package amazonfake

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// Faults are the failures the server injects.
type Faults struct {
	// RevokedRefreshTokens are authorizations the seller withdrew: a grant
	// with one answers invalid_grant, and the access tokens issued from it
	// answer 403 Unauthorized.
	RevokedRefreshTokens []string
	// RateLimitNext makes the next N SP-API calls answer 429 QuotaExceeded.
	RateLimitNext int
	// ServerErrorsNext makes the next N SP-API calls answer 500
	// InternalFailure. Counted before RateLimitNext.
	ServerErrorsNext int
	// Latency delays every LWA and SP-API answer (on the wall clock).
	Latency time.Duration
}

// faultsJSON is Faults as /_faults reads and writes them; latency is a Go
// duration ("250ms", "2s").
type faultsJSON struct {
	RevokedRefreshTokens []string `json:"revoked_refresh_tokens"`
	RateLimitNext        int      `json:"rate_limit_next"`
	ServerErrorsNext     int      `json:"server_errors_next"`
	Latency              string   `json:"latency"`
}

// SetFaults replaces the faults in force.
func (s *Server) SetFaults(f Faults) {
	f.RevokedRefreshTokens = slices.Clone(f.RevokedRefreshTokens)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the faults in force, with the counts left.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.RevokedRefreshTokens = slices.Clone(f.RevokedRefreshTokens)
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
		ServerErrorsNext:     f.ServerErrorsNext,
		Latency:              f.Latency.String(),
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
	}
	if f.RateLimitNext < 0 || f.ServerErrorsNext < 0 {
		return Faults{}, errors.New("rate_limit_next and server_errors_next must not be negative")
	}
	var err error
	if f.Latency, err = fakeserver.ParseDelay("latency", in.Latency); err != nil {
		return Faults{}, err
	}
	return f, nil
}
