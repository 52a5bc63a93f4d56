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
// QuotaReset alone uses an application token instead, the app's own: the
// client-credentials grant of the same keyset for the base scope
// (https://api.ebay.com/oauth/api_scope), in a cache of its own (eBay
// allows 1,000 such grants a day).
//
// # Listing products
//
// An export lists a product in three steps of the Sell Inventory API:
//
//   - BulkCreateOrReplaceInventoryItems writes up to 25 inventory items
//     (the product: title, description, aspects, images, condition,
//     quantity), each replacing the seller's item of its SKU. eBay answers
//     per item, 200 or 207 for the call; a refused item is an ItemResult
//     with eBay's errors, not an error of the call.
//   - OffersBySKU finds the SKU's offer on the credentials' marketplace
//     (eBay allows one per SKU, marketplace and format; none is an empty
//     list, though eBay answers it with 404 errorId 25713), then
//     UpdateOffer changes it or CreateOffer makes it: price, quantity,
//     category, the seller's inventory location and business policies.
//   - PublishOffer makes the offer a listing, or revises the listing of a
//     published offer, whose id stays the same.
//
// Writes carry the credentials' Content-Language, which eBay requires, and
// an item without a locale gets the same language (en-US → en_US).
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
//     it (it seldom does; QuotaReset then says how long the quota lasts);
//   - any other 4xx: *marketplace.PermanentError, among them a product eBay
//     will not list (400, errorIds 25002–25764, such as an offer published
//     without a category), whose Reason holds every error eBay gave, for
//     the job to record against the product;
//   - 5xx (errorId 25001 system error, 25025 concurrent access of the same
//     item), 408, timeouts and broken connections: a plain error,
//     transient.
package ebay
