package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
)

// decodeOptional decodes an optional small JSON body, rejecting unknown fields.
func decodeOptional(w http.ResponseWriter, r *http.Request, into any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body is too large")
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request", "request body is not valid: "+err.Error())
		return false
	}
	return true
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.loadJob(w, r); !ok {
		return
	}
	id := r.PathValue("id")
	j, err := s.jobs.Cancel(r.Context(), id, principal(r).Subject)
	switch {
	case errors.Is(err, jobtable.ErrNotFound):
		writeError(w, http.StatusNotFound, "job_not_found", "no job with id "+id)
	case errors.Is(err, jobtable.ErrFinished):
		writeError(w, http.StatusConflict, "job_finished", fmt.Sprintf("job %s already ended %s", id, j.Status))
	case err != nil:
		s.internalError(w, r, err)
	case j.Status == job.StatusRunning:
		// The worker stops it at its next progress write.
		writeJSON(w, http.StatusAccepted, map[string]*job.Job{"job": s.redacted(j)})
	default:
		writeJSON(w, http.StatusOK, map[string]*job.Job{"job": s.redacted(j)})
	}
}

type retryRequest struct {
	FromStart bool `json:"from_start"`
}

func (s *Server) retryJob(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.loadJob(w, r); !ok {
		return
	}
	var req retryRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	j, err := s.jobs.Retry(r.Context(), id, req.FromStart, principal(r).Subject)
	var duplicate *jobtable.DuplicateError
	switch {
	case errors.Is(err, jobtable.ErrNotFound):
		writeError(w, http.StatusNotFound, "job_not_found", "no job with id "+id)
	case errors.Is(err, jobtable.ErrNotRetryable):
		writeError(w, http.StatusConflict, "job_not_retryable", fmt.Sprintf("job %s is %s; only failed or cancelled jobs can be retried", id, j.Status))
	case errors.As(err, &duplicate):
		writeJSON(w, http.StatusConflict, map[string]apiError{"error": {
			Code:          "job_already_active",
			Message:       "another job of this type is active for this store: " + duplicate.ExistingJobID,
			ExistingJobID: duplicate.ExistingJobID,
		}})
	case errors.Is(err, jobtable.ErrStale):
		writeError(w, http.StatusConflict, "job_changed", "the job changed meanwhile; read it and try again")
	case err != nil:
		s.internalError(w, r, err)
	default:
		s.dispatcher.Dispatch(r.Context(), j)
		writeJSON(w, http.StatusAccepted, map[string]*job.Job{"job": s.redacted(j)})
	}
}

type pauseRequest struct {
	Type string `json:"type"`
}

func (s *Server) pauseQueue(w http.ResponseWriter, r *http.Request)  { s.setPaused(w, r, true) }
func (s *Server) resumeQueue(w http.ResponseWriter, r *http.Request) { s.setPaused(w, r, false) }

// setPaused pauses or resumes the queue, or one job type with {"type": …}.
// Running jobs finish; paused jobs wait in their queues.
func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, paused bool) {
	var req pauseRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	if req.Type != "" {
		if _, ok := s.jobTypes.Lookup(req.Type); !ok {
			writeError(w, http.StatusBadRequest, "unknown_job_type", fmt.Sprintf("job type %q is not registered", req.Type))
			return
		}
	}
	if err := s.jobs.SetPaused(r.Context(), req.Type, paused); err != nil {
		s.internalError(w, r, err)
		return
	}
	if !paused {
		for range s.cfg.MaxConcurrentJobs {
			if err := s.queues.Wake(r.Context(), 0); err != nil {
				s.log.Warn("wake workers after resume; the sweep will", "error", err)
				break
			}
		}
	}
	pauses, err := s.jobs.Pauses(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pausesView(pauses))
}

type pausedView struct {
	Paused      bool     `json:"paused"`
	PausedTypes []string `json:"paused_types"`
}

func pausesView(p jobtable.Pauses) pausedView {
	v := pausedView{Paused: p.All, PausedTypes: []string{}}
	for t := range p.Types {
		v.PausedTypes = append(v.PausedTypes, t)
	}
	return v
}
