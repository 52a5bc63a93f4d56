// Package lambdaadapter runs a plain net/http handler on AWS Lambda behind an
// API Gateway HTTP API that uses payload format version 2.0.
//
// HTTP converts each APIGatewayV2HTTPRequest event into an *http.Request,
// serves it with the wrapped handler into an in-memory http.ResponseWriter and
// converts the captured response back into an APIGatewayV2HTTPResponse:
//
//	lambda.Start(lambdaadapter.HTTP(mux))
//
// The handler sees the request much as net/http's server would present it:
// Host is promoted out of the header map, cookies delivered in the event's
// Cookies field are joined into a single Cookie header, a base64-encoded body
// is decoded, and the context carries the original event, available through
// RequestFromContext (for example to read JWT authorizer claims).
//
// The path is the event's rawPath as API Gateway delivers it. With a named
// stage on the default execute-api endpoint that path begins with the stage
// name; serve the API from the $default stage or a custom domain so that
// routes match the paths used by the local server.
//
// A panic in the handler is recovered and answered with a 500 JSON error
// instead of failing the invocation.
package lambdaadapter
