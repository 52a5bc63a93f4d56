package ledger

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrInvalidRequest is a request the client refuses to send: a missing
// store or Idempotency-Key, credits not above 0, a day that is not one, or
// a ledger URL that is not an http(s) URL. Sending it again cannot help.
var ErrInvalidRequest = errors.New("invalid credits ledger request")

// Error codes of the ledger's answers ({"error": "<code>"}).
const (
	CodeInsufficientCredits  = "insufficient_credits"
	CodeIdempotencyKeyReused = "idempotency_key_reused"
)

// InsufficientCreditsError is a debit the store's balance cannot cover
// (402). Nothing was charged and the Idempotency-Key is not spent: the same
// debit can succeed after a top-up.
type InsufficientCreditsError struct {
	StoreID string
	Balance int64 // the store's balance when the debit was refused
	Needed  int64 // the credits the debit asked for
}

func (e *InsufficientCreditsError) Error() string {
	return fmt.Sprintf("insufficient credits: store %s has %d, %d needed", e.StoreID, e.Balance, e.Needed)
}

// UnavailableError is the ledger asking to be called again later (429 or
// 503). RetryAfter is its Retry-After, zero when it gave none.
type UnavailableError struct {
	Status     int
	RetryAfter time.Duration
	Message    string
}

func (e *UnavailableError) Error() string {
	msg := fmt.Sprintf("credits ledger unavailable (HTTP %d): %s", e.Status, e.Message)
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry in %s)", e.RetryAfter)
	}
	return msg
}

// RefusedError is a request the ledger refused and will refuse again
// however often it is sent (a 4xx other than 402, 429). Code is the
// ledger's error code, empty when its answer had none.
type RefusedError struct {
	Status  int
	Code    string
	Message string
}

func (e *RefusedError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	return fmt.Sprintf("credits ledger refused the request (HTTP %d %s): %s", e.Status, code, e.Message)
}

// Unauthorized reports whether the ledger refused the service's token (401
// or 403): only an operator fixing JOBS_CREDITS_LEDGER_TOKEN helps.
func (e *RefusedError) Unauthorized() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}
