package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// What a caller branches on. An *Error matches each with errors.Is:
//
//	job, err := c.Create(ctx, client.CreateRequest{Type: "shopify:import:all"})
//	var apiErr *client.Error
//	switch {
//	case errors.Is(err, client.ErrJobAlreadyActive) && errors.As(err, &apiErr):
//		job, err = c.Get(ctx, apiErr.ExistingJobID) // follow the one running
//	case errors.Is(err, client.ErrRateLimited) && errors.As(err, &apiErr):
//		time.Sleep(apiErr.RetryAfter)
//	}
var (
	// ErrNotFound: no such job, connection or catalog item, or not the
	// caller's (another store's job answers not found, never forbidden).
	ErrNotFound = errors.New("not found")
	// ErrJobAlreadyActive: the store already has an active job of the type;
	// Error.ExistingJobID names it.
	ErrJobAlreadyActive = errors.New("job already active")
	// ErrValidation: the request was refused as it is and nothing was
	// written; Error.Fields names the fields at fault where the server knows
	// them.
	ErrValidation = errors.New("validation failed")
	// ErrUnauthorized: no valid bearer token.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the token may not do this (a store token on an
	// operator route, or another store's data).
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited: too many requests; Error.RetryAfter says when to come
	// back.
	ErrRateLimited = errors.New("rate limited")
)

// Error is an answer of the API other than 2xx: its HTTP status, the
// server's error code and message, and what the code carries.
type Error struct {
	StatusCode int
	// Code is the server's error code, such as "job_already_active",
	// "invalid_payload" or "connection_invalid".
	Code    string
	Message string
	// ExistingJobID is the active job a create collided with (409).
	ExistingJobID string
	// Fields are the request's fields at fault, on a validation error.
	Fields []FieldError
	// RetryAfter is the server's Retry-After, on a 429 or 503.
	RetryAfter time.Duration
}

// FieldError is one field of a refused request and what is wrong with it.
type FieldError struct {
	// Field is a dotted path from the request body's top level (such as
	// "payload.target_language") or a query parameter's name.
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(e.StatusCode), " ", "_"))
	}
	return fmt.Sprintf("%d %s: %s", e.StatusCode, code, e.Message)
}

// Is matches the error kinds a caller branches on.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrJobAlreadyActive:
		return e.StatusCode == http.StatusConflict && e.Code == "job_already_active"
	case ErrValidation:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// errorEnvelope is the API's error body; conflictEnvelope is a 409's,
// which names the active job instead of fields.
type (
	errorEnvelope struct {
		Error struct {
			Code    string       `json:"code"`
			Message string       `json:"message"`
			Fields  []FieldError `json:"fields,omitempty"`
		} `json:"error"`
	}
	conflictEnvelope struct {
		Error struct {
			Code          string `json:"code"`
			Message       string `json:"message"`
			ExistingJobID string `json:"existing_job_id,omitempty"`
		} `json:"error"`
	}
)

// decodeError reads an error answer: the API's {"error": {...}} body, or,
// from a gateway in front of it, any other body as the message.
func decodeError(resp *http.Response, body []byte) error {
	e := &Error{StatusCode: resp.StatusCode}
	if after, ok := retryAfter(resp.Header); ok {
		e.RetryAfter = after
	}
	var envelope errorEnvelope
	if json.Unmarshal(body, &envelope) == nil && (envelope.Error.Code != "" || envelope.Error.Message != "") {
		e.Code, e.Message, e.Fields = envelope.Error.Code, envelope.Error.Message, envelope.Error.Fields
		var conflict conflictEnvelope
		if resp.StatusCode == http.StatusConflict && json.Unmarshal(body, &conflict) == nil {
			e.ExistingJobID = conflict.Error.ExistingJobID
		}
		return e
	}
	// API Gateway's own answers (throttling, an authorizer's refusal).
	var gateway struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &gateway)
	e.Message = gateway.Message
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(body))
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}
