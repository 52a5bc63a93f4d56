package translatefake

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// Faults are the failures the server injects. The counts apply to the next
// TranslateText calls, and are used up in this order: a refused call
// (ServerErrorsNext, then ThrottleNext) before an answered one; a call uses
// up one count at most.
type Faults struct {
	// ThrottleNext makes the next N calls answer 400
	// TooManyRequestsException.
	ThrottleNext int
	// ServerErrorsNext makes the next N calls answer 500
	// InternalServerException and ServiceUnavailableException in turn,
	// starting with the first.
	ServerErrorsNext int
	// BreakPlaceholdersNext makes the next N answers that have a
	// placeholder or a tag break one: the first placeholder is translated
	// as a careless engine does ({count} becomes {cöünt}, its
	// do-not-translate span dropped), or, without a placeholder, the first
	// tag is dropped.
	BreakPlaceholdersNext int
	// UnsupportedLanguages are language codes refused with
	// UnsupportedLanguagePairException, as a region without them refuses
	// them.
	UnsupportedLanguages []string
	// Latency, when positive, replaces Options.Latency (on the wall clock).
	Latency time.Duration
}

// faultsJSON is Faults as /_faults reads and writes them; latency is a Go
// duration ("250ms", "2s").
type faultsJSON struct {
	ThrottleNext          int      `json:"throttle_next"`
	ServerErrorsNext      int      `json:"server_errors_next"`
	BreakPlaceholdersNext int      `json:"break_placeholders_next"`
	UnsupportedLanguages  []string `json:"unsupported_languages"`
	Latency               string   `json:"latency"`
}

// SetFaults replaces the faults in force.
func (s *Server) SetFaults(f Faults) {
	f.UnsupportedLanguages = slices.Clone(f.UnsupportedLanguages)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.serverErrorsIn = 0
}

// Faults returns the faults in force, with the counts left.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	f.UnsupportedLanguages = slices.Clone(f.UnsupportedLanguages)
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
		ThrottleNext:          f.ThrottleNext,
		ServerErrorsNext:      f.ServerErrorsNext,
		BreakPlaceholdersNext: f.BreakPlaceholdersNext,
		UnsupportedLanguages:  f.UnsupportedLanguages,
		Latency:               f.Latency.String(),
	}
	if out.UnsupportedLanguages == nil {
		out.UnsupportedLanguages = []string{}
	}
	return out
}

func fromJSON(in faultsJSON) (Faults, error) {
	f := Faults{
		ThrottleNext:          in.ThrottleNext,
		ServerErrorsNext:      in.ServerErrorsNext,
		BreakPlaceholdersNext: in.BreakPlaceholdersNext,
		UnsupportedLanguages:  in.UnsupportedLanguages,
	}
	for _, n := range []int{f.ThrottleNext, f.ServerErrorsNext, f.BreakPlaceholdersNext} {
		if n < 0 {
			return Faults{}, errors.New("the _next counts must not be negative")
		}
	}
	var err error
	if f.Latency, err = fakeserver.ParseDelay("latency", in.Latency); err != nil {
		return Faults{}, err
	}
	return f, nil
}
