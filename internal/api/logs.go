package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
)

// jobLogs returns a job's log, oldest first: its handler's lines and every
// lifecycle event, optionally from a minimum level up.
func (s *Server) jobLogs(w http.ResponseWriter, r *http.Request) {
	j, ok := s.loadJob(w, r)
	if !ok {
		return
	}
	query := r.URL.Query()
	level := query.Get("level")
	if level != "" && !slices.Contains([]string{"debug", "info", "warn", "error"}, level) {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("level", "level must be debug, info, warn or error"), "")
		return
	}
	limit, ok := intParam(w, r, "limit", 100, 1000)
	if !ok {
		return
	}
	page, err := s.jobs.Logs(r.Context(), j.ID, level, limit, query.Get("cursor"))
	if errors.Is(err, jobtable.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, "invalid_cursor", "cursor is not valid for this log")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
