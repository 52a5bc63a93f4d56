// Package api is the HTTP API as a plain net/http handler. The local process
// serves it as is; the API Lambda adapts API Gateway events to it.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/handler"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/store"
)

// Config describes the deployment to the API.
type Config struct {
	// MaxConcurrentJobs is the workers' reserved concurrency.
	MaxConcurrentJobs int
}

// Server serves the API.
type Server struct {
	store      *store.Store
	dispatcher *dispatch.Dispatcher
	queues     *queue.Queues
	handlers   *handler.Registry
	cfg        Config
	log        *slog.Logger
	mux        *http.ServeMux
}

// New returns the API handler.
func New(s *store.Store, q *queue.Queues, d *dispatch.Dispatcher, handlers *handler.Registry, cfg Config, log *slog.Logger) *Server {
	srv := &Server{store: s, queues: q, dispatcher: d, handlers: handlers, cfg: cfg, log: log, mux: http.NewServeMux()}
	srv.routes()
	return srv
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("POST /api/background-jobs", s.createJob)
	s.mux.HandleFunc("GET /api/background-jobs", s.listJobs)
	s.mux.HandleFunc("GET /api/background-jobs/status", s.queueStatus)
	s.mux.HandleFunc("GET /api/background-jobs/{id}", s.getJob)
	s.mux.HandleFunc("GET /api/background-jobs/{id}/status", s.jobStatus)
	s.mux.HandleFunc("POST /api/background-jobs/{id}/cancel", s.cancelJob)
	s.mux.HandleFunc("POST /api/background-jobs/{id}/retry", s.retryJob)
	s.mux.HandleFunc("POST /api/background-jobs/pause", s.pauseQueue)
	s.mux.HandleFunc("POST /api/background-jobs/resume", s.resumeQueue)
	s.mux.HandleFunc("GET /api/background-jobs/dead-letters", s.deadLetters)
}

// ServeHTTP answers unknown routes with the API's JSON error shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, "not_found", "no such route: "+r.Method+" "+r.URL.Path)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// apiError is the body of every error response.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// ExistingJobID names the active job a duplicate create collided with.
	ExistingJobID string `json:"existing_job_id,omitempty"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: message}})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// internalError logs the cause and tells the client only that it happened.
func (s *Server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	writeError(w, http.StatusInternalServerError, "internal", "internal error")
}
