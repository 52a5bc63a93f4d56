// Package catalogexport is the job types that send a store's products to
// the marketplaces: amazon:export:products and ebay:export:products.
//
// An export walks the selected products in catalog id order, a batch of 25
// at a time, through two stages that overlap: while one batch is being sent
// to the marketplace, the next ones are prepared, each starting its AI calls
// as soon as the one before has claimed its last, so the export's AI places
// (AIConcurrency) stay busy across batches. Preparing a product checks the
// fields the marketplace needs, then (with ai_optimize) debits the store's
// AI credits and has the model rewrite its title, description and bullet
// points. Sending it is Amazon's Listings Items API (one PUT per product) or
// eBay's Sell Inventory API (inventory items in bulk, then an offer per
// product, created or updated, then published). The marketplace's answer is
// recorded in the catalog the moment it comes, as the product's listing,
// with the hash of what was sent; a checkpoint follows every batch.
//
// What makes it safe to run again:
//   - A product whose listing is listed with the hash it would send again is
//     skipped: it costs no credit, no AI call and no marketplace call. A
//     product recorded by this same job before a crash is counted as it was.
//   - A debit's idempotency key is the job, the product and its hash, so a
//     crash, a retry, a duplicate message or a continuation never charges a
//     product twice.
//   - Amazon's PUT replaces the listing of the SKU, and eBay's inventory item
//     is replaced and its offer looked up before one is created, so sending
//     a product again never makes a second listing or offer.
//
// How it ends: completed when every product is listed or unchanged;
// failed with the kind "validation" ("Product validation failed") when some
// were refused, after every valid one was sent; failed at once with
// "Insufficient credits" when the store cannot pay for the next product
// (after the paid ones are sent); failed at once with "Invalid credentials"
// when the marketplace rejects the connection. Rate limits are waited out
// (Amazon's 429 with jittered backoff, as it sends no Retry-After) or, when
// long (eBay's daily quota), turned into a retry at the time the quota
// resets. Other faults follow the retry schedule and resume at the last
// batch done.
package catalogexport
