// Package shopify is a small client of the Shopify Admin GraphQL API: the
// shop's identity (a cheap check of the credential), counts, and the
// products and collections of a store page by page, mapped into the
// catalog's types.
//
// # Queries and their cost
//
// Shopify prices every query before running it (an object costs 1, a
// connection 2 plus first × what one node costs) and refuses one whose
// requested cost is over 1,000 points. Variants, media and collections
// nested in a products page multiply that cost by the page size, so a page
// asks for the first 20 variants, 10 images and 10 collections of each
// product, which puts a page of 10 products just under the limit (992
// points); New refuses a PageSize whose page would cost more. A product
// with more of any of them is completed with follow-up queries of 250 at a
// time (product(id:) { variants(first: 250, after:) }) before the page is
// returned, so a page always holds whole products. Collections are paged 50
// at a time and carry productsCount rather than their products, which a
// product's own collections already give.
//
// Products and collections are paged by id (sortKey: ID), which stays
// stable while the store changes; with a since time only those updated
// after it are returned (query: "updated_at:>'…'").
//
// # Errors
//
// Every answer becomes a value or one of the marketplace error classes:
//
//   - 401 (a revoked or wrong token), 402 (the shop is frozen for an unpaid
//     bill) and 423 (Shopify locked the shop): *marketplace.CredentialError;
//     nothing helps until the merchant acts.
//   - THROTTLED (HTTP 200 with errors[].extensions.code "THROTTLED"; 429
//     too): *marketplace.RateLimitError, waiting (requestedQueryCost −
//     currentlyAvailable) / restoreRate, or Retry-After.
//   - 403, 404, other 4xx, and GraphQL errors (a query Shopify cannot run,
//     such as one over the cost limit): *marketplace.PermanentError.
//   - 5xx, GraphQL INTERNAL_SERVER_ERROR, timeouts, dropped connections:
//     a plain error, which the job retries.
//
// The client never retries by itself.
//
// # Pacing
//
// Every answer reports the cost bucket (throttleStatus). The client keeps
// the last report and, before a query, estimates what the bucket holds
// now (it refills at restoreRate up to maximumAvailable) against what the
// last query of the same kind requested (until Shopify has answered one,
// the client's own estimate by the rules above). When that is short it
// sleeps the difference first, if that is at most Config.MaxInlineWait; a
// longer wait comes back as a RateLimitError without sending anything, for
// the job to continue later. A long import so rides the bucket instead of
// being throttled. The first query a client sends knows nothing of the
// bucket yet, so it may be throttled if another client emptied it.
//
// A page is the unit to resume from: when a follow-up query of a page
// fails, the page fails, and reading it again from its cursor costs the
// page again.
package shopify
