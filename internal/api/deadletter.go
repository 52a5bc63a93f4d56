package api

import (
	"net/http"
)

// deadLetters shows what waits in the dead-letter queue: messages that could
// never be processed (unparseable, unknown job, no handler), with the reason.
func (s *Server) deadLetters(w http.ResponseWriter, r *http.Request) {
	letters, depth, err := s.queues.PeekDeadLetters(r.Context(), 10)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": depth, "messages": letters})
}
