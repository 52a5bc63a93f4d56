// Package ebay is the client of eBay's Sell APIs for one store's
// connection: a seller who granted our app a user token.
//
// # Authentication
//
// Every call carries a user access token as a Bearer token. The client
// obtains it with the refresh-token grant (POST
// <APIURL>/identity/v1/oauth2/token, form-encoded, the app's client id and
// secret as Basic credentials, and the scopes the calls need), keeps it
// until shortly before its two hours run out, and renews it once when an
// API answers 401, eBay's answer to an expired or revoked token (errorId
// 1001). The token endpoint allows an app 50,000 refresh grants a day; the
// cache keeps a store far from that.
//
// # Errors
//
// Every answer becomes a value or one of the error classes of package
// marketplace, so a job type never reads a status code:
//
//   - a grant refused with invalid_grant, invalid_client,
//     unauthorized_client or invalid_scope, a 401 that a fresh token does
//     not cure, and 403 errorId 1100 (the seller did not grant a scope the
//     call needs): *marketplace.CredentialError carrying eBay's own words;
//   - 429 (errorId 2001, usually the app's daily call quota):
//     *marketplace.RateLimitError, with Retry-After as Wait when eBay sends
//     it (it seldom does);
//   - any other 4xx: *marketplace.PermanentError;
//   - 5xx (errorId 25001 system error, 25025 concurrent access), 408,
//     timeouts and broken connections: a plain error, transient.
package ebay
