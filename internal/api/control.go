package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
)

// decodeOptional decodes an optional small JSON body, rejecting unknown
// fields, and names the field a refusal is about when it can.
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
		writeInvalid(w, "invalid_request", fmt.Errorf("request body is not valid: %w", jobtype.DecodeError(reflect.TypeOf(into), err)), "")
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
	case errors.Is(err, jobtable.ErrStale):
		writeError(w, http.StatusConflict, "job_changed", "the job kept changing while it was being cancelled; read it and try again")
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
	current, ok := s.loadJob(w, r)
	if !ok {
		return
	}
	var req retryRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	if _, ok := s.jobTypes.Lookup(current.Type); !ok {
		writeError(w, http.StatusBadRequest, "unknown_job_type", fmt.Sprintf("job type %q is not deployed here; retry the job once it is", current.Type))
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
		// Saved: should the enqueue fail, the sweep enqueues the job.
		_ = s.dispatcher.Dispatch(r.Context(), j)
		writeJSON(w, http.StatusAccepted, map[string]*job.Job{"job": s.redacted(j)})
	}
}

type pauseRequest struct {
	Type string `json:"type"`
}

func (s *Server) pauseQueue(w http.ResponseWriter, r *http.Request)  { s.setPaused(w, r, true) }
func (s *Server) resumeQueue(w http.ResponseWriter, r *http.Request) { s.setPaused(w, r, false) }

// releaseOnResume bounds how many jobs set aside by a pause a resume
// enqueues at once; the sweep enqueues the rest.
const releaseOnResume = 100

// setPaused pauses or resumes the queue, or one job type with {"type": …}.
// Running jobs finish; a worker sets a paused job aside (it waits in the
// job table, not in SQS), and resuming enqueues it again.
func (s *Server) setPaused(w http.ResponseWriter, r *http.Request, paused bool) {
	var req pauseRequest
	if !decodeOptional(w, r, &req) {
		return
	}
	if _, ok := s.jobTypes.Lookup(req.Type); req.Type != "" && !ok {
		// A type no longer deployed can still be resumed: its parked jobs
		// then end, failed for want of a handler, instead of waiting forever.
		before, err := s.jobs.Pauses(r.Context())
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if paused || !before.Types[req.Type] {
			writeError(w, http.StatusBadRequest, "unknown_job_type", fmt.Sprintf("job type %q is not registered", req.Type))
			return
		}
	}
	if err := s.jobs.SetPaused(r.Context(), req.Type, paused); err != nil {
		s.internalError(w, r, err)
		return
	}
	if !paused {
		s.releaseParked(r)
	}
	pauses, err := s.jobs.Pauses(r.Context())
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pausesView(pauses))
}

// releaseParked enqueues the jobs the resumed pause had set aside and wakes
// workers. Its failures are logged: the sweep does the same within a minute.
func (s *Server) releaseParked(r *http.Request) {
	ctx := context.WithoutCancel(r.Context()) // resumed is resumed, caller or not
	if n, err := s.parked.ReleaseParked(ctx, releaseOnResume); err != nil {
		s.log.Warn("release jobs set aside by the pause; the sweep will", "released", n, "error", err)
	}
	for range s.cfg.MaxConcurrentJobs {
		if err := s.queues.Wake(ctx, 0); err != nil {
			s.log.Warn("wake workers after resume; the sweep will", "error", err)
			break
		}
	}
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
