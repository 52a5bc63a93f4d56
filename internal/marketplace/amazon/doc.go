// Package amazon is the client of Amazon's Selling Partner API (SP-API) for
// one store's connection: a seller who authorized our app in Seller Central.
//
// # Authentication
//
// SP-API takes a Login with Amazon (LWA) access token in the
// x-amz-access-token header; AWS Signature Version 4 has not been required
// since October 2023. The client obtains the token with the refresh-token
// grant (POST https://api.amazon.com/auth/o2/token, form-encoded, client id
// and secret in the body), keeps it until shortly before its hour runs out,
// and renews it once when SP-API answers 403 Unauthorized, the answer to an
// expired or revoked token.
//
// # Listings
//
// PutListingsItem is the Listings Items API's putListingsItem (PUT
// /listings/2021-08-01/items/{sellerId}/{sku}): it creates or fully
// replaces a listing, product facts and offer together. The operation takes
// one marketplace per request, so the client sends one per marketplace of
// the credentials and folds the answers into one Submission. A submission
// Amazon finds invalid is answered 200 with status INVALID and its issues;
// the client returns it as a Submission, not an error, so a job records the
// issues against the product and goes on with the next.
//
// The listings calls keep to putListingsItem's usage plan (5 requests a
// second, burst 10) on the client's side, with a token bucket per client
// (Config.ListingsRate and ListingsBurst), so that an export meets few
// 429s; Verify's call has its own quota at Amazon and does not wait on it.
//
// # Errors
//
// Every answer becomes a value or one of the error classes of package
// marketplace, so a job type never reads a status code:
//
//   - LWA invalid_grant, invalid_client, unauthorized_client or
//     invalid_request, and an SP-API 403 that a fresh token does not cure:
//     *marketplace.CredentialError carrying Amazon's own description;
//   - 429 (QuotaExceeded, from LWA or SP-API): *marketplace.RateLimitError.
//     SP-API sends no Retry-After, so Wait is zero unless a header gives one;
//   - any other 4xx: *marketplace.PermanentError;
//   - 5xx, 408, timeouts and broken connections: a plain error, transient.
//
// # Hosts
//
// LWA is global; SP-API has one host per region, chosen from
// Credentials.Region unless Config.SPAPIURL points elsewhere (a sandbox or a
// fake).
package amazon
