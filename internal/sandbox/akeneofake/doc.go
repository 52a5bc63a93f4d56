// Package akeneofake is a fake Akeneo PIM that speaks the REST API's
// protocol: the tests of the Akeneo client and import jobs run against it
// over httptest, and the local sandbox serves it with a seeded catalog.
//
//	fake := akeneofake.New(akeneofake.Options{})
//	fake.AddClient("client", "secret", "api_user", "password")
//	fake.SetCatalog(akeneofake.Seed(1, 2000, 150))
//	mux.Handle("/sandbox/akeneo/", http.StripPrefix("/sandbox/akeneo", fake))
//	fake.SetPublicURL("http://127.0.0.1:8080/sandbox/akeneo")
//
// # Routes
//
//	POST /api/oauth/v1/token                          password and refresh grants
//	GET  /api/rest/v1/products-uuid                   search-after or page pagination, search, with_count
//	GET  /api/rest/v1/products-uuid/{uuid}
//	GET  /api/rest/v1/categories                      page pagination, with_count, with_position
//	GET  /api/rest/v1/categories/{code}
//	GET  /api/rest/v1/media-files/{code...}/download  the file, as image/png
//	GET  /_faults, POST /_faults                      the injected faults, as JSON
//
// # As Akeneo does
//
// The token endpoint takes the client id and secret by Basic and the grant
// as JSON or a form, and refuses with 422 and Akeneo's messages. Access
// tokens last Options.TokenTTL, refresh tokens 14 days and one refresh. The
// REST calls want a bearer token and answer 401 with Akeneo's bodies
// without one, with an unknown one or with an expired one. A client may
// have Options.MaxConcurrent calls in flight (the token endpoint included)
// and, if set, Options.RequestsPerSecond; beyond either it is answered 429
// with Retry-After. Lists take limit 1 to 100 (more is 422 "You cannot
// request more than 100 items."); products are listed by uuid; links are
// absolute, built on the public URL; search-after pages link to the next
// whenever they are full, so the last link may lead to an empty page.
//
// The search filter on products knows updated and created (>, <, BETWEEN,
// SINCE LAST N DAYS), enabled (=, !=), categories (IN, NOT IN,
// UNCLASSIFIED) and family (IN, NOT IN, EMPTY, NOT EMPTY). Other filters
// Akeneo has are answered 422 as not supported by the sandbox, and so is a
// search on categories.
//
// # Seeded data
//
// Seed draws a realistic catalog from a seed; see its documentation for the
// products that lack an sku and the images that are broken on purpose.
package akeneofake
