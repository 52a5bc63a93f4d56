// Package ebayfake is an eBay OAuth and Sell Inventory API server that
// answers as eBay does, for the tests (over httptest) and for the local
// sandbox of `make dev`. It is a faithful server, not a stub: the client
// under test talks to it exactly as it talks to eBay, and only the base URL
// differs.
//
// One handler serves the whole API host, under any prefix
// (http.StripPrefix):
//
//	POST /identity/v1/oauth2/token            refresh-token grant (Basic client credentials, form body)
//	GET  /sell/inventory/v1/inventory_item    getInventoryItems (limit 1–200, offset = page number)
//	GET  /_faults, POST /_faults              the faults in force (JSON)
//	GET  /_counters                           grants and calls so far (JSON)
//	GET  /                                    where to point a client
//
// so a client is configured with APIURL <base>.
//
// # What it accepts
//
// Nothing until AddSeller registers a seller: the app's keyset (client id
// and secret), the refresh token the seller granted it, the scopes granted
// (sell.inventory when none are given) and the seller's inventory items.
// SandboxSeller is a ready-made one for the sandbox. A grant issues a user
// access token (v^1.1#…) for the scopes asked (all granted ones when the
// grant names none) that lives two hours of the Options.Now clock.
//
// # Answers
//
// The error bodies are eBay's: OAuth's {"error","error_description"}
// (invalid_grant, invalid_client, invalid_scope) and the APIs'
// {"errors":[{"errorId","domain","category","message","longMessage"}]}:
// 401 errorId 1001 for a missing, unknown, expired or revoked token, 403
// errorId 1100 for a token without the call's scope, 429 errorId 2001, and
// 500 errorId 25001. getInventoryItems answers InventoryItems: href, limit,
// next and prev (absolute URLs, see SetPublicURL), size (the number of
// pages, as eBay defines it), total and inventoryItems.
//
// # Faults
//
// SetFaults, or POST /_faults for a person, revokes refresh tokens (their
// grants answer invalid_grant and their access tokens stop working), makes
// the next N API calls answer 429 (with Retry-After when one is set; eBay
// seldom sends it) or 500, and delays every OAuth and API answer:
//
//	curl -X POST "$BASE/_faults" \
//	  -d '{"revoked_refresh_tokens":[],"rate_limit_next":1,"rate_limit_retry_after":"30s","server_errors_next":0,"latency":"0s"}'
//
// A POST replaces all the faults; POST {} clears them.
package ebayfake
