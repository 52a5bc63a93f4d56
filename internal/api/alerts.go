package api

import (
	"net/http"

	"github.com/dainostore/jobs/internal/jobtable"
)

// alerts lists open and recently resolved alerts, and today's and
// yesterday's failures grouped by job type, kind and message.
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	open, resolved, err := s.jobs.Alerts(r.Context(), 50)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	groups, err := s.jobs.FailureGroups(r.Context(), 2)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if groups == nil {
		groups = []jobtable.FailureGroup{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"open": open, "resolved": resolved, "failure_groups": groups})
}
