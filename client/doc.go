// Package client is the Go client of the background jobs API: create jobs
// for a store (now, later, or on a recurring schedule), follow them to
// their end, read their logs, control the queue, and read the store's
// marketplace connections and catalog.
//
// A Client is safe for concurrent use. It takes the bearer token from the
// caller (WithToken, or WithTokenFunc for tokens that expire), and retries
// only what is safe to send twice: reads, and writes the server makes
// idempotent (a create always carries an Idempotency-Key, made for it when
// the caller gives none). Network errors, 5xx answers and short rate limits
// are retried with jittered, doubling backoff; everything else comes back at
// once as an *Error that errors.Is matches against ErrNotFound,
// ErrJobAlreadyActive, ErrValidation, ErrUnauthorized, ErrForbidden and
// ErrRateLimited.
//
// Watch and Wait follow a job by polling its status, quickly while it
// moves and more slowly while it does not, until it is completed, failed or
// cancelled.
//
// The types mirror the API's OpenAPI document (docs/openapi.json, also
// served at /api/background-jobs/openapi.json); a test checks every schema
// and operation of the document against this package, so the two cannot
// drift apart.
package client
