// Package amazonfake is a Login with Amazon and Selling Partner API server
// that answers as Amazon does, for the tests (over httptest) and for the
// local sandbox of `make dev`. It is a faithful server, not a stub: the
// client under test talks to it exactly as it talks to Amazon, and only
// the URLs differ.
//
// One handler serves both hosts, under any prefix (http.StripPrefix):
//
//	POST /auth/o2/token                                LWA refresh-token grant (form-encoded)
//	GET  /sellers/v1/marketplaceParticipations         Sellers API
//	PUT  /listings/2021-08-01/items/{sellerId}/{sku}   Listings Items API: putListingsItem
//	GET  /listings/2021-08-01/items/{sellerId}/{sku}   Listings Items API: getListingsItem
//	GET  /_faults, POST /_faults                       the faults in force (JSON)
//	GET  /_counters                                    grants, calls and listings so far (JSON)
//	GET  /                                             where to point a client
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
// per second, burst 15; putListingsItem and getListingsItem: 5 per second,
// burst 10), refilled on the Options.Now clock.
//
// # Listings
//
// The Listings Items API acts for the token's seller only: another
// sellerId in the path is 403 Unauthorized. marketplaceIds is required and
// each must be one the seller participates in, else 400 INVALID_INPUT;
// putListingsItem takes exactly one, as its model says (maxItems 1). A
// body without productType or attributes, or with requirements other than
// LISTING, LISTING_PRODUCT_ONLY or LISTING_OFFER_ONLY, is 400 BAD_REQUEST.
//
// A submission is then checked as a product type's schema would check it,
// in the request's marketplace (a value object applies where its
// marketplace_id says, or everywhere without one): item_name, brand,
// externally_assigned_product_identifier (type ean, upc, gtin or isbn),
// main_product_image_locator, and, as sales terms, condition_type,
// purchasable_offer (with our_price) and fulfillment_availability are
// required (LISTING_PRODUCT_ONLY drops the sales terms, LISTING_OFFER_ONLY
// keeps only them); item_name has at most 200 characters, bullet_point at
// most 5 values of 500, product_description at most 2000. Each breach is
// an ERROR issue (90220 MISSING_ATTRIBUTE, or INVALID_ATTRIBUTE), and any
// ERROR makes the answer 200 with status INVALID: nothing is stored, as on
// SP-API. Otherwise the answer is ACCEPTED and the submission replaces the
// SKU's listing in that marketplace (a PUT is a full replace), under an
// ASIN derived from the seller and the SKU, the same in every marketplace.
// includedData (issues by default; identifiers gives the ASIN) and
// mode=VALIDATION_PREVIEW (VALID, nothing stored) work as on SP-API.
//
// getListingsItem answers the stored listing in each requested marketplace
// (includedData summaries by default; attributes and issues on request) or
// 404 NOT_FOUND. Listings gives a test or the sandbox every listing of a
// seller, Counters how many PUTs arrived, created, replaced or were
// INVALID.
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
