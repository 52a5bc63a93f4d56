package jobtype

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// PermanentError fails the job at once: waiting cannot fix it (invalid
// credentials, validation failed, insufficient credits). Kind names the
// failure for failure groups and alerts ("permanent" when empty). Result,
// when set, is saved as the failed job's result: what the job did before it
// stopped, and what was wrong with each item.
type PermanentError struct {
	Kind   string
	Err    error
	Result any
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as one that no retry can fix.
func Permanent(err error) error { return &PermanentError{Err: err} }

// Failure kinds a job type names its permanent errors with.
const (
	// KindInvalidCredentials: a marketplace rejected the store's credentials.
	KindInvalidCredentials = "invalid_credentials"
	// KindValidation: items of the job were refused for their data, by the
	// job's own checks or by the marketplace.
	KindValidation = "validation"
	// KindInsufficientCredits: the store's AI credits ran out.
	KindInsufficientCredits = "insufficient_credits"
)

// PermanentOfKind is Permanent with the failure's kind.
func PermanentOfKind(kind string, err error) error { return &PermanentError{Kind: kind, Err: err} }

// FailedWithResult is PermanentOfKind with the result the failed job keeps.
func FailedWithResult(kind string, err error, result any) error {
	return &PermanentError{Kind: kind, Err: err, Result: result}
}

// RateLimitedError asks to run the job again after RetryAfter (for example
// the server's Retry-After), instead of on the retry schedule.
type RateLimitedError struct {
	RetryAfter time.Duration
	Err        error
}

func (e *RateLimitedError) Error() string { return "rate limited: " + e.Err.Error() }
func (e *RateLimitedError) Unwrap() error { return e.Err }

// RateLimited marks err as a rate limit to wait out for retryAfter.
func RateLimited(retryAfter time.Duration, err error) error {
	return &RateLimitedError{RetryAfter: retryAfter, Err: err}
}

// CancelledError ends the job as cancelled (the handler decided to stop).
type CancelledError struct{ Err error }

func (e *CancelledError) Error() string { return "cancelled: " + e.Err.Error() }
func (e *CancelledError) Unwrap() error { return e.Err }

// Cancelled ends the job as cancelled, with err as the reason.
func Cancelled(err error) error { return &CancelledError{Err: err} }

// ErrContinueLater asks the worker to hand the job to a fresh invocation
// after the handler's last checkpoint, without counting an attempt. Handlers
// rarely need it: the worker does the same when the invocation's deadline
// ends the handler's context.
var ErrContinueLater = errors.New("continue in a fresh invocation")

// IsContextEnd reports whether err is the handler's context ending.
func IsContextEnd(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// FieldError is a value refused for one field: of a payload, when a job
// type's Validate returns it, or of a request to the API. Field is the
// field's dotted path from the top level (product_ids, target_language);
// the API names it to the client beside the message, prefixed with
// "payload." for a payload's.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Message }

// InvalidField is a FieldError whose message is formatted like fmt.Sprintf's.
func InvalidField(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// DecodeError is err, an error of decoding JSON into a value of type t with
// encoding/json, as a FieldError when it is about one field: a value of the
// wrong type, or a field t does not have (DisallowUnknownFields). Other
// errors come back as they are; either way the message is err's.
func DecodeError(t reflect.Type, err error) error {
	var wrongType *json.UnmarshalTypeError
	if errors.As(err, &wrongType) && wrongType.Field != "" {
		return &FieldError{Field: jsonPath(t, wrongType.Field), Message: err.Error()}
	}
	// encoding/json has no type for it, only this message.
	if quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if name, unquoteErr := strconv.Unquote(quoted); unquoteErr == nil {
			return &FieldError{Field: name, Message: err.Error()}
		}
	}
	return err
}

// jsonPath turns the path of an UnmarshalTypeError into JSON's: encoding/json
// names the embedded structs it went through by their Go names
// (Options.Selection.product_ids), which the JSON does not have.
func jsonPath(t reflect.Type, path string) string {
	var names []string
	for _, name := range strings.Split(path, ".") {
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			names, t = append(names, name), nil
			continue
		}
		if f, ok := t.FieldByName(name); ok && f.Anonymous && f.Tag.Get("json") == "" {
			t = f.Type
			continue
		}
		names, t = append(names, name), jsonFieldType(t, name)
	}
	return strings.Join(names, ".")
}

// jsonFieldType is the type of t's field that JSON names name, or nil.
func jsonFieldType(t reflect.Type, name string) reflect.Type {
	for i := range t.NumField() {
		f := t.Field(i)
		tagName, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tagName == name || tagName == "" && f.Name == name {
			return f.Type
		}
	}
	return nil
}
