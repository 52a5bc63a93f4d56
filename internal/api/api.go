// Package api is the HTTP API as a plain net/http handler. The local process
// serves it as is; the API Lambda adapts API Gateway events to it.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/dashboard"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
	"github.com/dainostore/jobs/internal/queue"
)

// Config describes the deployment to the API.
type Config struct {
	// MaxConcurrentJobs is the workers' reserved concurrency.
	MaxConcurrentJobs int
	// Ledger is the credits ledger the stores' balances are read from (nil
	// when none is configured), and CreditsPerProduct what one product's AI
	// optimization costs.
	Ledger            *ledger.Client
	CreditsPerProduct int64
	// Images signs the short-lived URLs of the catalog's images.
	Images *ImageSigner
	// Schedules are the stores' recurring schedules.
	Schedules Schedules
}

// ParkedReleaser enqueues again the jobs a pause set aside once their
// pause has ended (sweep.Sweeper).
type ParkedReleaser interface {
	ReleaseParked(ctx context.Context, limit int) (int, error)
}

// Server serves the API.
type Server struct {
	jobs       *jobtable.Table
	dispatcher *dispatch.Dispatcher
	parked     ParkedReleaser
	queues     *queue.Queues
	jobTypes   *jobtype.Registry
	catalog    Catalog
	auth       auth.Authenticator
	cfg        Config
	log        *slog.Logger
	mux        *http.ServeMux
	routes     []Route
	// dashboards serves the dashboards' pages, which need no token: they
	// call the API below with the viewer's.
	dashboards http.Handler
}

// New returns the API handler.
func New(jobs *jobtable.Table, q *queue.Queues, d *dispatch.Dispatcher, parked ParkedReleaser, jobTypes *jobtype.Registry, cat Catalog, authenticator auth.Authenticator, cfg Config, log *slog.Logger) *Server {
	srv := &Server{jobs: jobs, queues: q, dispatcher: d, parked: parked, jobTypes: jobTypes, catalog: cat, auth: authenticator, cfg: cfg, log: log, mux: http.NewServeMux()}
	srv.routes = srv.routeTable()
	dashboards := dashboardConfig(jobTypes)
	dashboards.ImageOrigins = imageOrigins(cfg.Images)
	srv.dashboards = dashboard.New(dashboards)
	for _, rt := range srv.routes {
		srv.mux.HandleFunc(rt.Pattern, rt.handler)
	}
	return srv
}

// Route is one route of the API.
type Route struct {
	Pattern string // as net/http.ServeMux reads it: "METHOD /path/{param}"
	// Public routes need no token; every other route does.
	Public bool
	// OperatorOnly routes refuse store principals (403).
	OperatorOnly bool
	handler      http.HandlerFunc
}

// Routes lists every route; the OpenAPI document must describe exactly these.
func (s *Server) Routes() []Route { return s.routes }

func (s *Server) routeTable() []Route {
	return []Route{
		{Pattern: "GET /healthz", Public: true, handler: s.healthz},
		{Pattern: "GET /api/background-jobs/openapi.json", handler: s.openAPI},
		{Pattern: "POST /api/background-jobs", handler: s.createJob},
		{Pattern: "GET /api/background-jobs", handler: s.listJobs},
		{Pattern: "GET /api/background-jobs/status", handler: s.queueStatus},
		{Pattern: "GET /api/background-jobs/metrics", handler: s.metrics},
		{Pattern: "GET /api/background-jobs/{id}", handler: s.getJob},
		{Pattern: "GET /api/background-jobs/{id}/status", handler: s.jobStatus},
		{Pattern: "GET /api/background-jobs/{id}/logs", handler: s.jobLogs},
		{Pattern: "POST /api/background-jobs/{id}/cancel", handler: s.cancelJob},
		{Pattern: "POST /api/background-jobs/{id}/retry", handler: s.retryJob},
		{Pattern: "POST /api/background-jobs/pause", OperatorOnly: true, handler: s.pauseQueue},
		{Pattern: "POST /api/background-jobs/resume", OperatorOnly: true, handler: s.resumeQueue},
		{Pattern: "GET /api/background-jobs/dead-letters", OperatorOnly: true, handler: s.deadLetters},
		{Pattern: "GET /api/background-jobs/alerts", OperatorOnly: true, handler: s.alerts},
		{Pattern: "GET /api/marketplace/connections", handler: s.listConnections},
		{Pattern: "PUT /api/marketplace/connections/{marketplace}", handler: s.putConnection},
		{Pattern: "DELETE /api/marketplace/connections/{marketplace}", handler: s.deleteConnection},
		{Pattern: "GET /api/catalog/products", handler: s.listCatalog(catalog.KindProduct, "products")},
		{Pattern: "GET /api/catalog/products/{id}", handler: s.getProduct},
		{Pattern: "GET /api/catalog/collections", handler: s.listCatalog(catalog.KindCollection, "collections")},
		{Pattern: "GET /api/catalog/categories", handler: s.listCatalog(catalog.KindCategory, "categories")},
		{Pattern: "GET /api/catalog/images/{key...}", handler: s.getImage},
		{Pattern: "GET /api/credits", handler: s.getCredits},
		{Pattern: "GET /api/catalog/ui-labels", handler: s.getUILabels},
		{Pattern: "PUT /api/catalog/ui-labels", handler: s.putUILabels},
		{Pattern: "GET /api/schedules", handler: s.listSchedules},
		{Pattern: "POST /api/schedules", handler: s.createSchedule},
		{Pattern: "GET /api/schedules/{id}", handler: s.getSchedule},
		{Pattern: "PATCH /api/schedules/{id}", handler: s.updateSchedule},
		{Pattern: "DELETE /api/schedules/{id}", handler: s.deleteSchedule},
		{Pattern: "POST /api/schedules/{id}/run", handler: s.runSchedule},
	}
}

// dashboardConfig tells the dashboards which job types can be started.
func dashboardConfig(jobTypes *jobtype.Registry) dashboard.Config {
	var cfg dashboard.Config
	for _, kind := range jobTypes.Kinds() {
		entry, _ := jobTypes.Lookup(kind)
		cfg.JobTypes = append(cfg.JobTypes, dashboard.JobType{Type: kind, System: entry.System})
	}
	return cfg
}

// ServeHTTP serves the dashboards' pages, or authenticates the caller and
// routes to the API. Unknown routes get the API's JSON error shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if dashboard.Owns(r.URL.Path) {
		s.dashboards.ServeHTTP(w, r)
		return
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		writeError(w, http.StatusNotFound, "not_found", "no such route: "+r.Method+" "+r.URL.Path)
		return
	}
	var route Route
	for _, rt := range s.routes {
		if rt.Pattern == pattern {
			route = rt
		}
	}
	if !route.Public {
		principal, err := s.auth.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="background-jobs"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "a valid bearer token is required")
			return
		}
		if route.OperatorOnly && !principal.Operator {
			writeError(w, http.StatusForbidden, "forbidden", "this route needs an operator token (scope jobs:admin)")
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), principal))
	}
	s.mux.ServeHTTP(w, r)
}

// principal is the authenticated caller of a non-public route.
func principal(r *http.Request) auth.Principal {
	p, _ := auth.FromContext(r.Context())
	return p
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
	// Fields names the request's field a 400 is about, so a client can
	// show the problem beside it; absent when the request as a whole is
	// wrong (not JSON, a repeated key).
	Fields []fieldProblem `json:"fields,omitempty"`
}

// fieldProblem is one wrong field of a request: a query parameter's name,
// or a dotted path from the body's top level (payload.target_language).
type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: message}})
}

// writeInvalid answers 400 with code and err's message, naming in fields
// the field err is about: the *jobtype.FieldError in its chain, whose path
// starts inside within ("" for the request's top level, "payload" for a
// job's payload). An err without one names within itself, or no field.
func writeInvalid(w http.ResponseWriter, code string, err error, within string) {
	body := apiError{Code: code, Message: err.Error()}
	var invalid *jobtype.FieldError
	switch {
	case errors.As(err, &invalid) && within != "":
		body.Fields = []fieldProblem{{Field: within + "." + invalid.Field, Message: invalid.Message}}
	case errors.As(err, &invalid):
		body.Fields = []fieldProblem{{Field: invalid.Field, Message: invalid.Message}}
	case within != "":
		body.Fields = []fieldProblem{{Field: within, Message: err.Error()}}
	}
	writeJSON(w, http.StatusBadRequest, map[string]apiError{"error": body})
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
