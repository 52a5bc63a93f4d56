// Package ebayfake is an eBay OAuth, Sell Inventory API and Developer
// Analytics API server that answers as eBay does, for the tests (over
// httptest) and for the local sandbox of `make dev`. It is a faithful
// server, not a stub: the client under test talks to it exactly as it
// talks to eBay, and only the base URL differs.
//
// One handler serves the whole API host, under any prefix
// (http.StripPrefix):
//
//	POST /identity/v1/oauth2/token            refresh-token and client-credentials grants (Basic keyset, form body)
//	GET  /sell/inventory/v1/inventory_item    getInventoryItems (limit 1–200, offset = page number)
//	POST /sell/inventory/v1/bulk_create_or_replace_inventory_item
//	                                          bulkCreateOrReplaceInventoryItem (≤25 items)
//	GET  /sell/inventory/v1/offer             getOffers (sku, marketplace_id, format)
//	POST /sell/inventory/v1/offer             createOffer
//	PUT  /sell/inventory/v1/offer/{offerId}   updateOffer
//	POST /sell/inventory/v1/offer/{offerId}/publish[/]
//	                                          publishOffer, with or without the slash
//	GET  /developer/analytics/v1_beta/rate_limit/
//	                                          getRateLimits (application token)
//	GET  /_faults, POST /_faults              the faults in force (JSON)
//	GET  /_counters                           grants, calls and listing work so far (JSON)
//	GET  /                                    where to point a client
//
// so a client is configured with APIURL <base>.
//
// # What it accepts
//
// Nothing until AddSeller registers a seller: the app's keyset (client id
// and secret), the refresh token the seller granted it, the scopes granted
// (sell.inventory when none are given), the seller's inventory items, and
// the seller's listing settings: an inventory location
// (MerchantLocationKey) and business policies (fulfillment, payment,
// return), which an offer must name to be published. SandboxSeller is a
// ready-made one for the sandbox. A refresh-token grant issues a user
// access token (v^1.1#…) for the scopes asked (all granted ones when the
// grant names none); a client-credentials grant issues an application
// token for the base scope. Both live two hours of the Options.Now clock.
// The Sell Inventory API takes user tokens only (an application token is
// refused with 403 errorId 1100), getRateLimits application tokens only (a
// user token is refused with 401 errorId 1001).
//
// InventoryItem and Offers read a seller's state, by refresh token, for a
// test to check what a client wrote.
//
// # Answers
//
// The error bodies are eBay's: OAuth's {"error","error_description"}
// (invalid_grant, invalid_client, invalid_scope) and the APIs'
// {"errors":[{"errorId","domain","category","message","longMessage","parameters"}]}:
// 401 errorId 1001 for a missing, unknown, expired or revoked token, 403
// errorId 1100 for a token without the call's scope, 429 errorId 2001, and
// 500 errorId 25001. The Sell Inventory error ids are those eBay's OpenAPI
// document gives each operation. getInventoryItems answers InventoryItems:
// href, limit, next and prev (absolute URLs, see SetPublicURL), size (the
// number of pages, as eBay defines it), total and inventoryItems.
//
// Writes (bulk items, createOffer, updateOffer) need a Content-Language
// such as en-US; without one they answer 400 errorId 25709 (eBay requires
// the header, its answer without it is not confirmed).
//
// bulkCreateOrReplaceInventoryItem refuses the whole call (400) with more
// than 25 items (25727), a SKU twice (25728) or an item without SKU or
// locale (25733). Otherwise it answers each item: 201 created, 200
// replaced (a SKU is never stored twice), or 400 with every problem and
// the item not stored: a SKU over 50 characters (25707); a condition not
// of ConditionEnum, a negative quantity, a title over 80 characters, a
// description over 4,000, an aspect value over 65 (25709, the field named
// in a "text" parameter); no product, title or image (25017). The call
// answers 200 when every item was stored and 207 otherwise.
//
// getOffers answers 404 errorId 25713 "This Offer is not available." when
// the SKU has no offer of the marketplace and format asked. createOffer
// needs the SKU's inventory item (else 25702) and refuses a second offer of
// the same SKU, marketplace and format with 25002 and the existing offer's
// id in an offerId parameter. publishOffer answers 400 with every problem:
// a quantity not above 0 (25004), a price not above 0 (25003), a location
// (25012) or fulfillment, payment or return policy (25007–25009) the
// seller does not have, or a missing category, location, price, policy,
// item title, image or description (25017). A published offer published
// again keeps its listing id: eBay revises the listing.
//
// # Daily quota
//
// Options.DailyCallLimit, when set, is how many Sell Inventory calls an
// app (all its sellers together) may make in a quota day, which starts at
// midnight in Options.QuotaResetLocation (America/Los_Angeles by default;
// eBay does not document its reset time). Over it, calls answer 429
// errorId 2001 without Retry-After until the day ends. Calls refused for
// their token or by a fault do not count. getRateLimits answers the app's
// quota (count, limit, remaining, reset, timeWindow) under apiContext
// "sell", apiName "inventory".
//
// # Faults
//
// SetFaults, or POST /_faults for a person, revokes refresh tokens (their
// grants answer invalid_grant and their access tokens stop working), makes
// the next N API calls answer 429 (with Retry-After when one is set; eBay
// seldom sends it) or 500, uses up every app's daily quota until the quota
// day ends, and delays every OAuth and API answer:
//
//	curl -X POST "$BASE/_faults" \
//	  -d '{"revoked_refresh_tokens":[],"rate_limit_next":1,"rate_limit_retry_after":"30s","server_errors_next":0,"latency":"0s","quota_exhausted":false}'
//
// A POST replaces all the faults; POST {} clears them.
package ebayfake
