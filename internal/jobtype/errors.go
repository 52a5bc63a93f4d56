package jobtype

import (
	"context"
	"errors"
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
