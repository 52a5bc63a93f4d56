package ledgerfake

import (
	"errors"
	"net/http"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// Faults are the failures the server injects into the protocol calls.
type Faults struct {
	// ServerErrorsNext makes the next N protocol calls answer 500. Counted
	// before UnavailableNext.
	ServerErrorsNext int
	// UnavailableNext makes the next N protocol calls answer 503.
	UnavailableNext int
	// RetryAfter, when positive, is sent as Retry-After (whole seconds,
	// rounded up) on those 503s.
	RetryAfter time.Duration
	// Latency delays every protocol call (on the wall clock).
	Latency time.Duration
}

// faultsJSON is Faults as /_faults reads and writes them; durations are Go
// durations ("250ms", "30s").
type faultsJSON struct {
	ServerErrorsNext int    `json:"server_errors_next"`
	UnavailableNext  int    `json:"unavailable_next"`
	RetryAfter       string `json:"retry_after"`
	Latency          string `json:"latency"`
}

// SetFaults replaces the faults in force.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the faults in force, with the counts left.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
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
	return faultsJSON{
		ServerErrorsNext: f.ServerErrorsNext,
		UnavailableNext:  f.UnavailableNext,
		RetryAfter:       f.RetryAfter.String(),
		Latency:          f.Latency.String(),
	}
}

func fromJSON(in faultsJSON) (Faults, error) {
	f := Faults{ServerErrorsNext: in.ServerErrorsNext, UnavailableNext: in.UnavailableNext}
	if f.ServerErrorsNext < 0 || f.UnavailableNext < 0 {
		return Faults{}, errors.New("server_errors_next and unavailable_next must not be negative")
	}
	var err error
	if f.RetryAfter, err = fakeserver.ParseDelay("retry_after", in.RetryAfter); err != nil {
		return Faults{}, err
	}
	if f.Latency, err = fakeserver.ParseDelay("latency", in.Latency); err != nil {
		return Faults{}, err
	}
	return f, nil
}
