// Package ledgerfake is the store platform's credits ledger as package
// ledger's protocol describes it, with balances that move, for the tests
// (over httptest) and the local sandbox. It is a faithful server, not a
// stub: ledger.Client talks to it exactly as it talks to a platform's
// ledger, and only the URL differs.
//
// One handler serves the protocol and the controls, mounted under any
// prefix (http.StripPrefix); the paths are relative to the ledger's URL:
//
//	POST /                      one page of a day's deduction
//	POST /debits                charge a store, once per Idempotency-Key
//	GET  /balances/{store_id}   a store's balance
//	GET  /_balances             every balance (JSON)
//	POST /_balances             set one: {"store_id": "store-1", "balance": 500}
//	GET  /_counters             requests and charges so far (JSON)
//	GET  /_faults, POST /_faults  the faults in force (JSON)
//	GET  /                      where to point a client
//
// so a client is configured with URL <base><prefix>.
//
// # What it accepts
//
// Every protocol call needs Authorization: Bearer <Options.Token>; with no
// Options.Token, any bearer token. A missing or wrong one answers 401
// {"error": "unauthorized"}.
//
// # Balances and charges
//
// The ledger knows a store once SetBalance (or POST /_balances) or TopUp
// names it; a store it does not know has 0 credits. A debit charges a
// store whose balance covers it and keeps the Idempotency-Key with the
// request's fingerprint and the answer: the same key and body answer the
// first answer again with "replayed": true, the same key with another body
// answers 422 idempotency_key_reused. A debit the balance cannot cover
// answers 402 insufficient_credits and leaves the key unspent.
//
// A day's deduction charges every store the ledger knows
// Options.DailyCharge credits (1 by default; a balance never goes below 0,
// and a store at 0 is not counted as charged), in the order of the store
// ids, Options.PageSize stores a page (100 by default). A page's cursor is
// the last store of the page before it. Its Idempotency-Key is kept as a
// debit's is, so a page asked again is answered as before and charges
// nothing.
//
// # Faults
//
// SetFaults, or POST /_faults for a person, makes the next N protocol
// calls answer 500 or 503 (with Retry-After when one is set) and delays
// every protocol call; the controls are never delayed:
//
//	curl -X POST "$BASE/_faults" \
//	  -d '{"server_errors_next":1,"unavailable_next":2,"retry_after":"30s","latency":"1.5s"}'
//
// A POST replaces all the faults; POST {} clears them. A call with a wrong
// token is refused as such before any fault.
package ledgerfake
