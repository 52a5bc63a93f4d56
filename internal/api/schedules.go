package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/schedule"
)

// Recurring schedules (package schedule): a store's own, or for an
// operator any store's. They live under /api/schedules because an item
// path under /api/background-jobs/ would be ambiguous with the jobs'
// /api/background-jobs/{id}/status and /logs.

// Schedules is what the schedule routes need: the schedules, and running
// one now. Nil in a deployment without them: the routes answer 404.
type Schedules struct {
	Store  *schedule.Store
	Runner *schedule.Runner
}

// scheduleRequest is a create's body; the timing fields are schedule.Spec's.
type scheduleRequest struct {
	Type     string          `json:"type"`
	StoreID  string          `json:"store_id"`
	Name     string          `json:"name"`
	Payload  json.RawMessage `json:"payload"`
	Priority *job.Priority   `json:"priority"`
	Enabled  *bool           `json:"enabled"`
	schedule.Spec
}

// schedulePatch is an update's body: the fields it names change.
type schedulePatch struct {
	Name     *string         `json:"name"`
	Payload  json.RawMessage `json:"payload"`
	Priority *job.Priority   `json:"priority"`
	Cron     *string         `json:"cron"`
	Every    *string         `json:"every"`
	At       *string         `json:"at"`
	Weekday  *string         `json:"weekday"`
	TimeZone *string         `json:"time_zone"`
	Enabled  *bool           `json:"enabled"`
}

// readStrict reads a JSON object body into v, refusing what checkJSON
// refuses and any field but those named, spelled exactly; it answers 400 or
// 413 itself.
func readStrict(w http.ResponseWriter, r *http.Request, v any, fields ...string) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body is larger than %d bytes", maxBodyBytes))
		return false
	}
	if err := checkJSON(body); err != nil {
		writeInvalid(w, "invalid_request", err, "")
		return false
	}
	if err := checkFieldNames(body, fields...); err != nil {
		writeInvalid(w, "invalid_request", err, "")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeInvalid(w, "invalid_request", jobtype.DecodeError(reflect.TypeOf(v).Elem(), fmt.Errorf("request body: %w", err)), "")
		return false
	}
	if dec.More() {
		writeInvalid(w, "invalid_request", errors.New("request body must be a single JSON object"), "")
		return false
	}
	return true
}

// scheduleScope is the store whose schedules the caller acts on: a store's
// own, or "" (any) for an operator.
func scheduleScope(r *http.Request) string {
	if caller := principal(r); !caller.Operator {
		return caller.StoreID
	}
	return ""
}

func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request) {
	storeID, ok := s.storeScope(w, r, r.URL.Query().Get("store_id"))
	if !ok {
		return
	}
	for name := range r.URL.Query() {
		if name != "store_id" {
			writeInvalid(w, "invalid_request", jobtype.InvalidField(name, "unknown query parameter %q; the one parameter is store_id", name), "")
			return
		}
	}
	list, err := s.cfg.Schedules.Store.List(r.Context(), storeID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if err := s.cfg.Schedules.Store.FillJobStatuses(r.Context(), list...); err != nil {
		s.internalError(w, r, err)
		return
	}
	for i := range list {
		list[i] = s.redactedSchedule(list[i])
	}
	writeJSON(w, http.StatusOK, map[string][]*schedule.Schedule{"schedules": list})
}

func (s *Server) createSchedule(w http.ResponseWriter, r *http.Request) {
	var req scheduleRequest
	if !readStrict(w, r, &req, "type", "store_id", "name", "payload", "priority", "enabled", "cron", "every", "at", "weekday", "time_zone") {
		return
	}
	caller := principal(r)
	switch {
	case req.StoreID == "" && !caller.Operator:
		req.StoreID = caller.StoreID
	case req.StoreID == "":
		writeInvalid(w, "invalid_request", jobtype.InvalidField("store_id", "store_id is required with an operator token"), "")
		return
	case !caller.CanSee(req.StoreID):
		writeError(w, http.StatusForbidden, "forbidden", "a store token can only schedule jobs for its own store")
		return
	}
	if !s.schedulableType(w, r, req.StoreID, req.Type, req.Payload) {
		return
	}
	priority := job.PriorityNormal
	if req.Priority != nil {
		priority = *req.Priority
	}
	created, err := s.cfg.Schedules.Store.Create(r.Context(), schedule.Definition{
		StoreID: req.StoreID, Name: req.Name, Type: req.Type, Payload: req.Payload,
		Priority: priority, Spec: req.Spec, Disabled: req.Enabled != nil && !*req.Enabled,
	})
	var invalid *jobtype.FieldError
	switch {
	case errors.As(err, &invalid):
		writeInvalid(w, "invalid_request", err, "")
	case err != nil:
		s.internalError(w, r, err)
	default:
		w.Header().Set("Location", "/api/schedules/"+created.ID)
		writeJSON(w, http.StatusCreated, map[string]*schedule.Schedule{"schedule": s.redactedSchedule(created)})
	}
}

// schedulableType checks a schedule's type and payload as a job's create
// would (admitJob), answering the refusal itself: the jobs it will create
// must not be refused when due. System jobs keep their EventBridge rules.
func (s *Server) schedulableType(w http.ResponseWriter, r *http.Request, storeID, jobType string, payload json.RawMessage) bool {
	if jobType == "" {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("type", "type is required"), "")
		return false
	}
	entry, ok := s.lookupType(w, jobType)
	if !ok {
		return false
	}
	if entry.System && principal(r).Operator {
		writeInvalid(w, "invalid_request", jobtype.InvalidField("type", "%s is a system job: system jobs keep their EventBridge rules", jobType), "")
		return false
	}
	return s.admitJob(w, r, entry, storeID, payload)
}

// loadSchedule reads {id} as the caller may see it, answering 404 itself.
func (s *Server) loadSchedule(w http.ResponseWriter, r *http.Request) (*schedule.Schedule, bool) {
	id := r.PathValue("id")
	found, err := s.cfg.Schedules.Store.Get(r.Context(), scheduleScope(r), id)
	if errors.Is(err, schedule.ErrNotFound) {
		writeError(w, http.StatusNotFound, "schedule_not_found", "no schedule with id "+id)
		return nil, false
	}
	if err != nil {
		s.internalError(w, r, err)
		return nil, false
	}
	return found, true
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) {
	found, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	if err := s.cfg.Schedules.Store.FillJobStatuses(r.Context(), found); err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]*schedule.Schedule{"schedule": s.redactedSchedule(found)})
}

func (s *Server) updateSchedule(w http.ResponseWriter, r *http.Request) {
	var p schedulePatch
	if !readStrict(w, r, &p, "name", "payload", "priority", "cron", "every", "at", "weekday", "time_zone", "enabled") {
		return
	}
	if reflect.ValueOf(p).IsZero() {
		writeInvalid(w, "invalid_request", errors.New("name at least one field to change"), "")
		return
	}
	found, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	if p.Payload != nil {
		if entry, known := s.jobTypes.Lookup(found.Type); known {
			if err := entry.Validate(p.Payload); err != nil {
				writeInvalid(w, "invalid_payload", err, "payload")
				return
			}
		}
	}
	updated, err := s.cfg.Schedules.Store.Update(r.Context(), found.StoreID, found.ID, schedule.Patch{
		Name: p.Name, Payload: p.Payload, Priority: p.Priority, Cron: p.Cron, Every: p.Every, At: p.At,
		Weekday: p.Weekday, TimeZone: p.TimeZone, Enabled: p.Enabled,
	})
	var invalid *jobtype.FieldError
	switch {
	case errors.As(err, &invalid):
		writeInvalid(w, "invalid_request", err, "")
	case errors.Is(err, schedule.ErrNotFound):
		writeError(w, http.StatusNotFound, "schedule_not_found", "no schedule with id "+found.ID)
	case errors.Is(err, schedule.ErrStale):
		writeError(w, http.StatusConflict, "schedule_changed", "the schedule kept changing while it was updated; read it and try again")
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]*schedule.Schedule{"schedule": s.redactedSchedule(updated)})
	}
}

func (s *Server) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	deleted, err := s.cfg.Schedules.Store.Delete(r.Context(), scheduleScope(r), id)
	switch {
	case errors.Is(err, schedule.ErrNotFound):
		writeError(w, http.StatusNotFound, "schedule_not_found", "no schedule with id "+id)
	case err != nil:
		s.internalError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]*schedule.Schedule{"schedule": s.redactedSchedule(deleted)})
	}
}

// runSchedule is "run now": the schedule's job, created as a create would
// be (a second click within the minute answers the same job).
func (s *Server) runSchedule(w http.ResponseWriter, r *http.Request) {
	found, ok := s.loadSchedule(w, r)
	if !ok {
		return
	}
	if !s.schedulableType(w, r, found.StoreID, found.Type, found.Payload) {
		return
	}
	created, err := s.cfg.Schedules.Runner.RunNow(r.Context(), found.StoreID, found.ID, principal(r).Subject)
	switch {
	case errors.Is(err, schedule.ErrNotFound):
		writeError(w, http.StatusNotFound, "schedule_not_found", "no schedule with id "+found.ID)
	case s.writeCreateRefusal(w, r, found.StoreID, found.Type, err):
	case err != nil:
		s.internalError(w, r, err)
	default:
		w.Header().Set("Location", "/api/background-jobs/"+created.ID)
		writeJSON(w, http.StatusCreated, map[string]*job.Job{"job": s.redacted(created)})
	}
}

// redactedSchedule is a schedule as the API shows it: the credential
// fields of its payload, by its type's rule, read "[redacted]".
func (s *Server) redactedSchedule(sched *schedule.Schedule) *schedule.Schedule {
	view := *sched
	if clean, err := s.jobTypes.SecretRule(sched.Type).Redact(sched.Payload); err == nil && json.Valid(clean) {
		view.Payload = clean
	} else {
		view.Payload = json.RawMessage(`{}`)
	}
	return &view
}
