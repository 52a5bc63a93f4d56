// Package amazonfake is a Login with Amazon and Selling Partner API server
// that answers as Amazon does, for the tests (over httptest) and for the
// local sandbox of `make dev`. It is a faithful server, not a stub: the
// client under test talks to it exactly as it talks to Amazon, and only
// the URLs differ.
//
// One handler serves both hosts, under any prefix (http.StripPrefix):
//
//	POST /auth/o2/token                       LWA refresh-token grant (form-encoded)
//	GET  /sellers/v1/marketplaceParticipations  Sellers API
//	GET  /_faults, POST /_faults              the faults in force (JSON)
//	GET  /_counters                           grants and calls so far (JSON)
//	GET  /                                    where to point a client
//
// so a client is configured with LWAURL <base>/auth/o2/token and SPAPIURL
// <base>.
//
// # What it accepts
//
// Nothing until AddSeller registers a seller: the LWA client (id and
// secret) the seller authorized, the refresh token of that authorization,
// the seller id and the marketplaces the seller sells in. SandboxSeller is a
// ready-made one for the sandbox. A grant issues an access token (Atza|…)
// that lives an hour of the Options.Now clock; SP-API accepts it in
// x-amz-access-token until then.
//
// # Answers
//
// The error bodies are Amazon's: LWA's OAuth errors
// ({"error_description":…,"error":"invalid_grant"} and the like), SP-API's
// {"errors":[{"code","message","details"}]} with 403 Unauthorized for a
// missing, unknown, expired or revoked token, 429 QuotaExceeded without
// Retry-After, and 500 InternalFailure. Every SP-API answer carries
// x-amzn-RequestId; the ones that passed the rate limit carry
// x-amzn-RateLimit-Limit. Each operation has a token bucket per seller at
// its published usage plan (getMarketplaceParticipations: 0.016 requests
// per second, burst 15), refilled on the Options.Now clock.
//
// # Faults
//
// SetFaults, or POST /_faults for a person, revokes refresh tokens (their
// grants answer invalid_grant and their access tokens stop working), makes
// the next N SP-API calls answer 429 or 500, and delays every LWA and
// SP-API answer:
//
//	curl -X POST "$BASE/_faults" \
//	  -d '{"revoked_refresh_tokens":["Atzr|sandbox"],"rate_limit_next":2,"server_errors_next":0,"latency":"1.5s"}'
//
// A POST replaces all the faults; POST {} clears them.
package amazonfake
