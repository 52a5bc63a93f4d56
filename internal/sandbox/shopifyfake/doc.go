// Package shopifyfake is a fake of Shopify's Admin GraphQL API and of its
// image CDN, faithful enough that the Shopify client and the import jobs
// run against it unchanged: in tests (behind httptest) and in the local
// sandbox (make dev), where a person switches faults on and off by hand.
//
// # Routes
//
// The fake is an http.Handler, mounted at any prefix with http.StripPrefix;
// SetPublicURL tells it where, so that its image URLs point back at it.
//
//	POST /{shop}/admin/api/{version}/graphql.json   the Admin GraphQL API
//	GET  /cdn/{shop}/{file}.png?v=N                 product and collection images
//	GET  /_faults, POST /_faults                    the faults in force, as JSON
//	GET  /_counters                                 what was served, as JSON
//
// A client points its endpoint at the public URL and sends its requests to
// <public URL>/<shop>/admin/api/<version>/graphql.json, as it would to
// https://<shop>. The answer echoes the version in X-Shopify-API-Version.
//
// # Queries
//
// Queries are read with a small GraphQL reader (operations, variables,
// aliases, arguments, inline fragments), checked against the part of the
// Admin API schema the fake serves (see schema.go) and answered with
// exactly the fields they select. The root fields are shop, products,
// productsCount, collections, collectionsCount, product(id:) and
// collection(id:); products carry options, variants, media (images only)
// and collections; collections carry ruleSet (null for a custom one),
// productsCount and products. A field outside that schema gets Shopify's
// undefinedField error, so a client cannot rely on something only the fake
// has. Mutations, named fragments, directives and bulk operations are not
// served, and say so.
//
// Connections page forward with first (at most 250) and after, in id
// order (a product's variants and media in position order); cursors are
// opaque base64 JSON as Shopify's are. The query argument understands
// field:value filters joined by spaces, with :>, :>=, :< and :<= on
// updated_at and created_at; other filters are ignored with a warning in
// extensions.search, as Shopify does.
//
// # Cost and throttling
//
// Every answer to a query carries extensions.cost with the shop's
// throttleStatus. A query's requested cost follows Shopify's published
// rules, simplified: a scalar costs 0, an object 1 plus its selections (a
// list of small objects, such as selectedOptions, counts once), a
// connection 2 + first × (1 + what one node selects). For example
//
//	products(first: 10) { nodes { variants(first: 20) { nodes { image { url } } } } }
//
// costs 2 + 10 × (1 + 2 + 20 × (1 + 1)) = 432. A query over 1,000 points is
// refused (MAX_COST_EXCEEDED). Each shop has a leaky bucket (Options.Bucket,
// by default 2,000 points refilled at 100 a second, on the Options.Now
// clock): a query whose requested cost is more than the bucket holds is
// answered THROTTLED (HTTP 200, no data, actualQueryCost null); otherwise
// it runs and the bucket pays its actual cost, the same formula over the
// nodes actually returned.
//
// # Faults
//
// Faults (SetFaults, or POST /_faults with the fields to change) make the
// fake fail as Shopify does: a revoked token (401 with Shopify's string
// "errors"), a frozen shop (402), a locked shop (423), THROTTLED answers
// for the next N queries, 503/502 for the next N requests, and latency.
// From a shell, with $FAKE the fake's public URL:
//
//	curl -X POST "$FAKE/_faults" -d '{"throttle_next": 3}'
//	curl -X POST "$FAKE/_faults" -d '{"revoked_token": false, "latency_ms": 0}'
//	curl "$FAKE/_counters"
//
// # Data
//
// Seed makes a realistic catalog; AddShop serves a catalog for a shop
// domain and token; Shop returns what a shop holds now, which is what an
// import must produce; UpdateProduct and UpdateCollection change it as a
// merchant would, moving updatedAt and image versions. The seeded catalog
// has oddities an import must survive, found with ProductsWithoutSKU,
// ProductsWithBrokenImages and ProductsWithMoreVariantsThan.
package shopifyfake
