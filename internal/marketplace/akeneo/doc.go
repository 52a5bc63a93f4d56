// Package akeneo is a small client of the Akeneo PIM REST API: the calls the
// Akeneo import jobs need (products, categories, their counts and the
// products' media files) and nothing else.
//
// # Authentication
//
// Akeneo's connections use the OAuth2 password grant: the client id and
// secret authenticate the connection (Basic), the API user's username and
// password authenticate the user. The client asks for a token on first use
// (or in [Client.Verify]), keeps the access and refresh tokens, renews the
// access token with the refresh grant shortly before it expires, and falls
// back to the password grant when Akeneo rejects the refresh token. A
// resource call answered 401 renews the token once and is sent once more; a
// second 401 is a rejected credential.
//
// # Errors
//
// Every failure is one of the classes of package marketplace:
//
//   - *marketplace.CredentialError: the token endpoint refused the
//     connection or the user (Akeneo answers 422 with its reason), or a
//     call was answered 401 twice;
//   - *marketplace.RateLimitError: a 429, with the Retry-After hint;
//   - *marketplace.PermanentError: 403 (the API user lacks a permission),
//     404, 422 (a query Akeneo cannot answer) and other 4xx;
//   - any other error is transient: 408, 5xx, timeouts, dropped connections.
//
// # Limits
//
// Akeneo serves at most 4 concurrent calls per connection; the client never
// has more than Config.MaxInFlight calls in flight, token grants and media
// downloads included. A media download holds its place until its body is
// closed.
//
// # Paging
//
// Products are listed with search-after pagination and categories with page
// pagination; in both cases the link to the next page is Akeneo's
// _links.next.href, passed back verbatim, so a job can checkpoint it and
// resume from it. The client only follows links to the PIM it was configured
// with, so a stored cursor can never send the connection's token elsewhere.
package akeneo
