package bedrockfake

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// Faults are the failures the server injects. The counts apply to the next
// Converse calls of any model, and are used up in this order: a refused
// call (ServerErrorsNext, then ThrottleNext) before an answered one, and
// of the answered ones InvalidJSONNext, OverlongNext, MaxTokensNext, then
// FencedNext; a call uses up one count at most.
type Faults struct {
	// DeniedModels are models the account lost access to: their calls
	// answer 403 AccessDeniedException.
	DeniedModels []string
	// ServerErrorsNext makes the next N calls answer 500
	// InternalServerException and 503 ServiceUnavailableException in
	// turn, starting with 500.
	ServerErrorsNext int
	// ThrottleNext makes the next N calls answer 429 ThrottlingException.
	ThrottleNext int
	// InvalidJSONNext makes the model answer the next N calls in prose
	// instead of JSON.
	InvalidJSONNext int
	// OverlongNext makes the model answer the next N calls with a title
	// over the limit.
	OverlongNext int
	// MaxTokensNext makes the model stop the next N answers halfway, with
	// stop reason max_tokens.
	MaxTokensNext int
	// FencedNext makes the model wrap the next N answers in a Markdown
	// ```json fence, as chat-tuned models often do.
	FencedNext int
	// Latency, when positive, replaces Options.Latency (on the wall clock).
	Latency time.Duration
}

// faultsJSON is Faults as /_faults reads and writes them; latency is a Go
// duration ("250ms", "2s").
type faultsJSON struct {
	DeniedModels     []string `json:"denied_models"`
	ServerErrorsNext int      `json:"server_errors_next"`
	ThrottleNext     int      `json:"throttle_next"`
	InvalidJSONNext  int      `json:"invalid_json_next"`
	OverlongNext     int      `json:"overlong_next"`
	MaxTokensNext    int      `json:"max_tokens_next"`
	FencedNext       int      `json:"fenced_next"`
	Latency          string   `json:"latency"`
}

// SetFaults replaces the faults in force.
func (s *Server) SetFaults(f Faults) {
	f.DeniedModels = slices.Clone(f.DeniedModels)
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
	f.DeniedModels = slices.Clone(f.DeniedModels)
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
		DeniedModels:     f.DeniedModels,
		ServerErrorsNext: f.ServerErrorsNext,
		ThrottleNext:     f.ThrottleNext,
		InvalidJSONNext:  f.InvalidJSONNext,
		OverlongNext:     f.OverlongNext,
		MaxTokensNext:    f.MaxTokensNext,
		FencedNext:       f.FencedNext,
		Latency:          f.Latency.String(),
	}
	if out.DeniedModels == nil {
		out.DeniedModels = []string{}
	}
	return out
}

func fromJSON(in faultsJSON) (Faults, error) {
	f := Faults{
		DeniedModels:     in.DeniedModels,
		ServerErrorsNext: in.ServerErrorsNext,
		ThrottleNext:     in.ThrottleNext,
		InvalidJSONNext:  in.InvalidJSONNext,
		OverlongNext:     in.OverlongNext,
		MaxTokensNext:    in.MaxTokensNext,
		FencedNext:       in.FencedNext,
	}
	for _, n := range []int{f.ServerErrorsNext, f.ThrottleNext, f.InvalidJSONNext, f.OverlongNext, f.MaxTokensNext, f.FencedNext} {
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
