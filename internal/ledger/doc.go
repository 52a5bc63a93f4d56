// Package ledger is the client of the store platform's AI credits ledger.
// The ledger belongs to the platform, not to this service: it holds each
// store's balance of credits, and this service asks it to charge them. The
// client speaks the protocol below, which a platform implements to receive
// this service's charges; internal/sandbox/ledgerfake implements it for the
// tests and the sandbox.
//
// # Protocol
//
// Every call carries the service's ledger token, and every body, asked or
// answered, is JSON (Content-Type: application/json):
//
//	Authorization: Bearer <JOBS_CREDITS_LEDGER_TOKEN>
//
// The paths are relative to the ledger's URL (JOBS_CREDITS_LEDGER_URL).
//
// 1. The daily deduction charges one day's charges, a page of stores at a
// time (system:daily_credit_deduction):
//
//	POST <URL>
//	Idempotency-Key: daily-credit-deduction:<date>:<cursor>
//	{"date": "2026-11-29", "cursor": ""}
//
//	200 {"stores_charged": 100, "credits_deducted": 2500, "stores_total": 1200, "next_cursor": "..."}
//
// The first page has the empty cursor; each next one the previous answer's
// next_cursor, and an empty next_cursor ends the day. A repeated
// Idempotency-Key is a replay of the same page: the ledger answers as
// before and charges nothing, so a page whose answer was lost can be asked
// again.
//
// 2. A debit charges one store for one piece of work:
//
//	POST <URL>/debits
//	Idempotency-Key: <key>
//	{"store_id": "store-1", "credits": 3, "reason": "ai_text", "reference": "job-123/sku-9"}
//
//	200 {"debit_id": "...", "store_id": "store-1", "credits": 3, "balance": 97, "replayed": false}
//
// credits is a whole number above 0; balance is the store's balance after
// the debit. A repeated key with the same body answers the first answer
// again with "replayed": true and charges nothing; the same key with a
// different body is refused:
//
//	422 {"error": "idempotency_key_reused", "message": "..."}
//
// A balance below credits charges nothing and does not spend the key, so
// the same key can succeed once the store has topped up:
//
//	402 {"error": "insufficient_credits", "message": "...", "balance": 2, "needed": 3}
//
// 3. A balance:
//
//	GET <URL>/balances/{store_id}
//
//	200 {"store_id": "store-1", "balance": 97}
//
// A store the ledger does not know has a balance of 0.
//
// # Errors
//
// Error answers carry {"error": "<code>", "message": "..."}. What each
// status means, for every call:
//
//   - 401 and 403: the service's ledger token is wrong. Waiting cannot fix
//     it; an operator must. *RefusedError, whose Unauthorized reports it.
//   - 402 insufficient_credits: *InsufficientCreditsError.
//   - 429 and 503: the ledger is busy; retry after its Retry-After (seconds
//     or an HTTP date). *UnavailableError.
//   - any other 4xx: the request can never succeed as it is. *RefusedError.
//   - 5xx and network errors: transient, a plain error; retry later with
//     the same Idempotency-Key.
//
// The client checks a request before sending it (a store, a key and
// credits above 0), and refuses one it cannot send with ErrInvalidRequest.
package ledger
