// Package docs holds the project's documents; openapi.json is the API's
// contract, embedded so the API can serve it and tests can check it.
package docs

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of the HTTP API.
//
//go:embed openapi.json
var OpenAPI []byte
