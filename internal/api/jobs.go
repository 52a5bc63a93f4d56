package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/secret"
)

// Limits on what a client may send.
const (
	maxBodyBytes      = 256 << 10
	maxPayloadBytes   = 64 << 10
	maxIdempotencyKey = 128
	maxTypeLength     = 128
	defaultPageSize   = 20
	maxPageSize       = 100
)

var (
	storeIDPattern        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
	idempotencyKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
	jobTypePattern        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
)

type createRequest struct {
	Type     string          `json:"type"`
	StoreID  string          `json:"store_id"`
	Priority *job.Priority   `json:"priority"`
	Payload  json.RawMessage `json:"payload"`
	// RunAt (RFC 3339) or RunIn (a duration such as "6h" or "90m") delays
	// the job.
	RunAt string `json:"run_at"`
	RunIn string `json:"run_in"`

	runAt *time.Time // read from RunAt
	runIn time.Duration
}

// maxDelay is how far ahead a job may be delayed.
const maxDelay = 366 * 24 * time.Hour

// startAt is when a delayed job may start; nil for one that may start now
// (a start time already past included).
func (req createRequest) startAt(now time.Time) (*time.Time, error) {
	var at time.Time
	switch {
	case req.runAt != nil:
		at = *req.runAt
	case req.runIn > 0:
		at = now.Add(req.runIn)
	default:
		return nil, nil
	}
	if at.Sub(now) > maxDelay {
		field := "run_at"
		if req.runAt == nil {
			field = "run_in"
		}
		return nil, jobtype.InvalidField(field, "%s is more than a year ahead; a job starts at most %d days after it is created", field, int(maxDelay.Hours()/24))
	}
	if !at.After(now) {
		return nil, nil
	}
	return &at, nil
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes))
		return
	}
	caller := principal(r)
	req, err := decodeCreate(body, caller.StoreID)
	if err != nil {
		writeInvalid(w, "invalid_request", err, "")
		return
	}
	entry, ok := s.lookupType(w, req.Type)
	if !ok {
		return
	}
	if !caller.CanSee(req.StoreID) {
		writeError(w, http.StatusForbidden, "forbidden", "a store token can only create jobs for its own store")
		return
	}
	if !s.admitJob(w, r, entry, req.StoreID, req.Payload) {
		return
	}
	runAt, err := req.startAt(s.jobs.Now())
	if err != nil {
		writeInvalid(w, "invalid_request", err, "")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !idempotencyKeyPattern.MatchString(key) {
		writeError(w, http.StatusBadRequest, "invalid_idempotency_key", fmt.Sprintf("Idempotency-Key must be 1-%d characters of letters, digits, _ . : -", maxIdempotencyKey))
		return
	}
	priority := job.PriorityNormal
	if req.Priority != nil {
		priority = *req.Priority
	}
	hash := sha256.Sum256(body)
	created, replayed, err := s.dispatcher.Create(r.Context(), dispatch.Request{
		StoreID: req.StoreID, Type: req.Type, Priority: priority, Payload: req.Payload,
		IdempotencyKey: key, RequestHash: hex.EncodeToString(hash[:]), CreatedBy: caller.Subject, RunAt: runAt,
	})
	switch {
	case s.writeCreateRefusal(w, r, req.StoreID, req.Type, err):
	case errors.Is(err, jobtable.ErrIdempotencyMismatch):
		writeError(w, http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was already used with a different request body")
	case err != nil:
		s.internalError(w, r, err)
	case replayed:
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, map[string]*job.Job{"job": s.redacted(created)})
	default:
		w.Header().Set("Location", "/api/background-jobs/"+created.ID)
		writeJSON(w, http.StatusCreated, map[string]*job.Job{"job": s.redacted(created)})
	}
}

// lookupType finds a job type's registration, answering 400 itself for a
// type that is not registered.
func (s *Server) lookupType(w http.ResponseWriter, jobType string) (*jobtype.Entry, bool) {
	entry, ok := s.jobTypes.Lookup(jobType)
	if !ok {
		writeError(w, http.StatusBadRequest, "unknown_job_type", fmt.Sprintf("job type %q is not registered; known types: %s", jobType, strings.Join(s.jobTypes.Kinds(), ", ")))
	}
	return entry, ok
}

// admitJob checks what a job of the type needs before anything is
// written, however it is created (now, later, or by a schedule): a system
// job only for operators, its payload, and for a marketplace's type the
// store's usable connection. It answers the refusal itself.
func (s *Server) admitJob(w http.ResponseWriter, r *http.Request, entry *jobtype.Entry, storeID string, payload json.RawMessage) bool {
	if entry.System && !principal(r).Operator {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("%s is a system job; only operators can create it", entry.Kind))
		return false
	}
	if err := entry.Validate(payload); err != nil {
		writeInvalid(w, "invalid_payload", err, "payload")
		return false
	}
	if entry.Marketplace != "" {
		code, refusal, err := s.connectionRefusal(r.Context(), storeID, entry.Marketplace)
		if err != nil {
			s.internalError(w, r, err)
			return false
		}
		if refusal != "" {
			writeError(w, http.StatusUnprocessableEntity, code, refusal)
			return false
		}
	}
	return true
}

// writeCreateRefusal answers a create the job table refused for the
// store's sake: its creation limit (429 with Retry-After) or its active job
// of the type (409 naming it, and when it starts if delayed). It tells
// whether err was one of them.
func (s *Server) writeCreateRefusal(w http.ResponseWriter, r *http.Request, storeID, jobType string, err error) bool {
	var duplicate *jobtable.DuplicateError
	var limited *jobtable.RateLimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int((limited.RetryAfter+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, "rate_limited", limited.Error())
	case errors.As(err, &duplicate):
		writeJSON(w, http.StatusConflict, map[string]apiError{"error": {
			Code:          "job_already_active",
			Message:       fmt.Sprintf("store %s already has an active %s job: %s%s", storeID, jobType, duplicate.ExistingJobID, s.startsLater(r.Context(), duplicate.ExistingJobID)),
			ExistingJobID: duplicate.ExistingJobID,
		}})
	default:
		return false
	}
	return true
}

// startsLater says when a delayed job will start, for a refusal that names
// it; empty for a job that is not delayed (or could not be read).
func (s *Server) startsLater(ctx context.Context, id string) string {
	j, err := s.jobs.Get(ctx, id)
	if err != nil || j.Status != job.StatusPending || j.RunAt == nil || !j.RunAt.After(s.jobs.Now()) {
		return ""
	}
	return ", scheduled to start at " + j.RunAt.Format(time.RFC3339)
}

// decodeCreate parses and checks a create request, naming the first
// problem, and its field (a *jobtype.FieldError) when it is about one. A
// store principal may leave store_id out: it is its own store.
func decodeCreate(body []byte, defaultStoreID string) (createRequest, error) {
	var req createRequest
	if err := checkJSON(body); err != nil {
		return req, err
	}
	if err := checkFieldNames(body, "type", "store_id", "priority", "payload", "run_at", "run_in"); err != nil {
		return req, err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, createDecodeError(body, err)
	}
	if dec.More() {
		return req, errors.New("request body must be a single JSON object")
	}
	if req.StoreID == "" {
		req.StoreID = defaultStoreID
	}
	switch {
	case req.Type == "":
		return req, jobtype.InvalidField("type", "type is required")
	case len(req.Type) > maxTypeLength:
		return req, jobtype.InvalidField("type", "type is longer than %d characters", maxTypeLength)
	case req.StoreID == "":
		return req, jobtype.InvalidField("store_id", "store_id is required")
	case !storeIDPattern.MatchString(req.StoreID):
		return req, jobtype.InvalidField("store_id", "store_id must be 1-128 characters of letters, digits, _ . : - and start with a letter or digit")
	}
	switch {
	case req.RunAt != "" && req.RunIn != "":
		return req, jobtype.InvalidField("run_in", "give run_at or run_in, not both")
	case req.RunAt != "":
		at, err := time.Parse(time.RFC3339, req.RunAt)
		if err != nil {
			return req, jobtype.InvalidField("run_at", "run_at must be an RFC 3339 time such as 2026-12-01T02:00:00+01:00")
		}
		req.runAt = &at
	case req.RunIn != "":
		in, err := time.ParseDuration(req.RunIn)
		if err != nil || in < 0 {
			return req, jobtype.InvalidField("run_in", "run_in must be a duration such as 90m, 6h or 48h")
		}
		req.runIn = in
	}
	payload := bytes.TrimSpace(req.Payload)
	if len(payload) == 0 || bytes.Equal(payload, []byte("null")) {
		req.Payload = json.RawMessage("{}")
	} else if payload[0] != '{' {
		return req, jobtype.InvalidField("payload", "payload must be a JSON object")
	} else {
		var compact bytes.Buffer
		if err := json.Compact(&compact, payload); err != nil {
			return req, jobtype.InvalidField("payload", "payload is not valid JSON: %v", err)
		}
		req.Payload = compact.Bytes()
	}
	if len(req.Payload) > maxPayloadBytes {
		return req, jobtype.InvalidField("payload", "payload is larger than %d bytes", maxPayloadBytes)
	}
	return req, nil
}

// createDecodeError words a create request's decoding error, with its
// field when it names one: a value of the wrong type, or priority, which
// parses itself, refusing its value.
func createDecodeError(body []byte, err error) error {
	message := fmt.Sprintf("request body is not a valid job request: %v", err)
	var invalid *jobtype.FieldError
	if errors.As(jobtype.DecodeError(reflect.TypeFor[createRequest](), err), &invalid) {
		return &jobtype.FieldError{Field: invalid.Field, Message: message}
	}
	var only struct {
		Priority *job.Priority `json:"priority"`
	}
	if json.Unmarshal(body, &only) != nil {
		return &jobtype.FieldError{Field: "priority", Message: message}
	}
	return errors.New(message)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.loadJob(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]*job.Job{"job": s.redacted(j)})
}

// redacted is the job as the API shows it: credential fields of its payload
// and result (by its type's secret rule) read "[redacted]", and so does any
// credential value of the payload that its result repeats elsewhere.
func (s *Server) redacted(j *job.Job) *job.Job {
	view := *j
	rule := s.jobTypes.SecretRule(j.Type)
	values := rule.Values(j.Payload)
	for _, field := range []*json.RawMessage{&view.Payload, &view.Result} {
		if len(*field) == 0 {
			continue
		}
		clean, err := rule.Redact(*field)
		if err == nil {
			clean = json.RawMessage(secret.Scrub(string(clean), values))
		}
		if err != nil || !json.Valid(clean) {
			clean = json.RawMessage(`"[redacted]"`)
		}
		*field = clean
	}
	return &view
}

// jobStatusView is the guide's job status shape.
type jobStatusView struct {
	ID              string     `json:"id"`
	Type            string     `json:"type"`
	Status          job.Status `json:"status"`
	Progress        int        `json:"progress"`
	ProgressMessage string     `json:"progress_message"`
	Attempts        int        `json:"attempts"`
	Error           string     `json:"error,omitempty"`
	NextAttemptAt   *job.Time  `json:"next_attempt_at,omitempty"`
	PausedAt        *job.Time  `json:"paused_at,omitempty"`
	// Waiting says why a pending or retrying job has not started (waiting.go).
	Waiting *waitingView `json:"waiting,omitempty"`
	// Estimate says when a running job should end.
	Estimate *estimateView `json:"estimate,omitempty"`
}

func (s *Server) jobStatus(w http.ResponseWriter, r *http.Request) {
	j, ok := s.loadJob(w, r)
	if !ok {
		return
	}
	view := jobStatusView{
		ID: j.ID, Type: j.Type, Status: j.Status, Progress: j.Progress, ProgressMessage: j.ProgressMessage,
		Attempts: j.Attempts, Error: j.Error, NextAttemptAt: j.NextAttemptAt, PausedAt: j.PausedAt,
	}
	var err error
	view.Waiting, view.Estimate, err = s.waitingOrEstimate(r.Context(), j)
	if err != nil && !errors.Is(err, context.Canceled) {
		// The status itself is what a client polls for: it goes out without
		// the explanation rather than not at all.
		s.log.Warn("explain a job's wait", "job_id", j.ID, "error", err)
	}
	writeJSON(w, http.StatusOK, map[string]jobStatusView{"job": view})
}

// loadJob reads the job of the path, if the caller may see it. Another
// store's job is "not found": its existence is not revealed; so is a job
// past its retention that TTL has not deleted yet.
func (s *Server) loadJob(w http.ResponseWriter, r *http.Request) (*job.Job, bool) {
	id := r.PathValue("id")
	j, err := s.jobs.Get(r.Context(), id)
	if err == nil && (!principal(r).CanSee(j.StoreID) || (!j.ExpiresAt.IsZero() && !j.ExpiresAt.After(s.jobs.Now()))) {
		err = jobtable.ErrNotFound
	}
	if errors.Is(err, jobtable.ErrNotFound) {
		writeError(w, http.StatusNotFound, "job_not_found", "no job with id "+id)
		return nil, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return nil, false
	}
	return j, true
}

// listJobs lists jobs newest first: a store's own, or for an operator one
// store's or (without store_id) every store's, filtered by type, status and
// creation time. With order=finished it lists one store's finished jobs by
// when they finished.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	filter, ok := s.listFilter(w, r)
	if !ok {
		return
	}
	limit, ok := intParam(w, r, "limit", defaultPageSize, maxPageSize)
	if !ok {
		return
	}
	page, err := s.jobs.ListJobs(r.Context(), filter, limit, r.URL.Query().Get("cursor"))
	if errors.Is(err, jobtable.ErrBadCursor) {
		writeError(w, http.StatusBadRequest, "invalid_cursor", "cursor is not valid for this listing")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	jobs := make([]*job.Job, len(page.Jobs))
	for i, j := range page.Jobs {
		jobs[i] = s.redacted(j)
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs, "next_cursor": page.Cursor})
}

// listParameters are the query parameters of GET /api/background-jobs.
var listParameters = []string{"store_id", "type", "status", "from", "to", "order", "limit", "cursor"}

// listFilter reads the listing's filters, answering 400 itself on any
// parameter it does not know, repeats, or cannot read: a typo must not
// silently list everything.
func (s *Server) listFilter(w http.ResponseWriter, r *http.Request) (jobtable.JobFilter, bool) {
	var f jobtable.JobFilter
	query := r.URL.Query()
	for name, values := range query {
		if !slices.Contains(listParameters, name) {
			writeInvalid(w, "invalid_request", jobtype.InvalidField(name, "unknown query parameter %q; known: %s", name, strings.Join(listParameters, ", ")), "")
			return f, false
		}
		if len(values) > 1 {
			writeInvalid(w, "invalid_request", jobtype.InvalidField(name, "query parameter %q is given more than once", name), "")
			return f, false
		}
	}
	var ok bool
	if f.StoreID, ok = s.storeScope(w, r, query.Get("store_id")); !ok {
		return f, false
	}
	if f.Type = query.Get("type"); f.Type != "" && !jobTypePattern.MatchString(f.Type) {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("type", "type must be 1-%d characters of letters, digits, _ . : - and start with a letter or digit", maxTypeLength), "")
		return f, false
	}
	if statuses := query.Get("status"); statuses != "" {
		for name := range strings.SplitSeq(statuses, ",") {
			status := job.Status(strings.TrimSpace(name))
			if !status.Valid() {
				writeInvalid(w, "invalid_request", jobtype.InvalidField("status", "status %q is not one of %s (several may be given, separated by commas)", name, statusNames()), "")
				return f, false
			}
			if !slices.Contains(f.Statuses, status) {
				f.Statuses = append(f.Statuses, status)
			}
		}
	}
	for _, bound := range []struct {
		name string
		into *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := query.Get(bound.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeInvalid(w, "invalid_request", jobtype.InvalidField(bound.name, "%s must be an RFC 3339 time such as 2026-11-29T09:00:00Z", bound.name), "")
			return f, false
		}
		*bound.into = t
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("from", "from must be before to"), "")
		return f, false
	}
	switch order := query.Get("order"); order {
	case "", "created":
	case "finished":
		f.ByFinished = true
		if err := finishedOrderProblem(f); err != nil {
			writeInvalid(w, "invalid_request", err, "")
			return f, false
		}
	default:
		writeInvalid(w, "invalid_request", jobtype.InvalidField("order", "order %q is not one of created, finished", order), "")
		return f, false
	}
	return f, true
}

// finishedOrderProblem names what order=finished cannot list, and the
// parameter to change: the finished index holds one store's finished jobs,
// keyed by when they finished, so it has no creation time to bound.
func finishedOrderProblem(f jobtable.JobFilter) error {
	switch {
	case f.StoreID == "":
		return jobtype.InvalidField("store_id", "order=finished lists one store's jobs: give store_id")
	case !f.From.IsZero():
		return jobtype.InvalidField("from", "from bounds the creation time and cannot be used with order=finished")
	case !f.To.IsZero():
		return jobtype.InvalidField("to", "to bounds the creation time and cannot be used with order=finished")
	}
	for _, st := range f.Statuses {
		if !st.Terminal() {
			return jobtype.InvalidField("status", "status %q is not a finished status; order=finished lists only completed, failed and cancelled jobs", st)
		}
	}
	return nil
}

func statusNames() string {
	names := make([]string, len(job.Statuses))
	for i, st := range job.Statuses {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// storeScope decides which store a read is about. A store principal reads
// its own store (another store is "not found"); an operator names any store,
// or none for all of them.
func (s *Server) storeScope(w http.ResponseWriter, r *http.Request, requested string) (string, bool) {
	if requested != "" && !storeIDPattern.MatchString(requested) {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("store_id", "store_id is not a valid store id"), "")
		return "", false
	}
	caller := principal(r)
	if caller.Operator {
		return requested, true
	}
	if requested != "" && requested != caller.StoreID {
		writeError(w, http.StatusNotFound, "store_not_found", "no store "+requested)
		return "", false
	}
	return caller.StoreID, true
}

// intParam reads an optional query parameter between 1 and max, answering
// 400 itself when it is not.
func intParam(w http.ResponseWriter, r *http.Request, name string, fallback, max int) (int, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return fallback, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		writeInvalid(w, "invalid_request", jobtype.InvalidField(name, "%s must be between 1 and %d", name, max), "")
		return 0, false
	}
	return n, true
}
