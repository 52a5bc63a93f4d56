package lambdaadapter

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// internalErrorBody is the response body sent when the handler panics. It
// follows the API's error shape.
const internalErrorBody = `{"error":{"code":"internal","message":"internal error"}}`

// HTTP turns an http.Handler into the Lambda handler for API Gateway HTTP API (payload v2).
//
// The returned function only reports an error for events it cannot turn into
// an HTTP request (for example an event without a method, which usually means
// the integration is configured for payload format 1.0, or a body that is not
// valid base64). Everything the handler does, including panicking, results in
// an HTTP response.
func HTTP(h http.Handler) func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if h == nil {
		panic("lambdaadapter: nil handler")
	}
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		r, err := newRequest(ctx, req)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		w := newResponseWriter(r.Method)
		if !serve(h, w, r) {
			return internalErrorResponse(), nil
		}
		return w.response(), nil
	}
}

// requestKey is the context key under which the original event is stored.
type requestKey struct{}

// RequestFromContext returns the API Gateway event that the request being
// served was built from. ok is false when the context does not come from a
// request served by HTTP, for example when the handler runs in the local
// server.
func RequestFromContext(ctx context.Context) (req events.APIGatewayV2HTTPRequest, ok bool) {
	req, ok = ctx.Value(requestKey{}).(events.APIGatewayV2HTTPRequest)
	return req, ok
}

// newRequest builds the server-side *http.Request for an event.
func newRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, errors.New("lambdaadapter: event has no requestContext.http.method; is the integration using payload format version 2.0?")
	}

	body, err := requestBody(ev)
	if err != nil {
		return nil, err
	}

	// NewRequestWithContext validates the method; the URL is replaced below
	// because the event path must not be re-parsed as a full URL.
	r, err := http.NewRequestWithContext(context.WithValue(ctx, requestKey{}, ev), method, "/", nil)
	if err != nil {
		return nil, fmt.Errorf("lambdaadapter: %w", err)
	}

	r.URL = requestURL(ev)
	r.RequestURI = r.URL.RequestURI()

	if major, minor, ok := http.ParseHTTPVersion(ev.RequestContext.HTTP.Protocol); ok {
		r.Proto, r.ProtoMajor, r.ProtoMinor = ev.RequestContext.HTTP.Protocol, major, minor
	}

	header := make(http.Header, len(ev.Headers)+1)
	for k, v := range ev.Headers {
		header.Add(k, v)
	}
	if len(ev.Cookies) > 0 {
		header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if header.Get("User-Agent") == "" && ev.RequestContext.HTTP.UserAgent != "" {
		header.Set("User-Agent", ev.RequestContext.HTTP.UserAgent)
	}
	// Like net/http's server, promote Host out of the header map.
	r.Host = header.Get("Host")
	header.Del("Host")
	if r.Host == "" {
		r.Host = ev.RequestContext.DomainName
	}
	r.Header = header

	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		r.Body = http.NoBody
	} else {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return r, nil
}

// requestBody returns the event body, decoding it when API Gateway sent it
// base64-encoded.
func requestBody(ev events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !ev.IsBase64Encoded {
		return []byte(ev.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(ev.Body)
	if err != nil {
		return nil, fmt.Errorf("lambdaadapter: decoding base64 request body: %w", err)
	}
	return b, nil
}

// requestURL builds the request URL from the event's path and raw query
// string.
//
// API Gateway HTTP APIs deliver rawPath percent-decoded, while other sources
// of the same payload format (Lambda function URLs) keep it encoded. A path
// that unescapes cleanly is treated as encoded and kept verbatim as RawPath
// when it is a valid encoding; otherwise (a stray '%', a space, a decoded '?')
// it is taken literally and URL.EscapedPath re-encodes it.
func requestURL(ev events.APIGatewayV2HTTPRequest) *url.URL {
	p := ev.RawPath
	if p == "" {
		p = ev.RequestContext.HTTP.Path
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	u := &url.URL{Path: p, RawQuery: ev.RawQueryString}
	if unescaped, err := url.PathUnescape(p); err == nil {
		// EscapedPath ignores RawPath unless it is a valid encoding of Path.
		u.Path, u.RawPath = unescaped, p
	}
	return u
}

// serve runs the handler and reports whether it returned normally. A panic
// is recovered and logged; http.ErrAbortHandler is not logged, as in
// net/http.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (ok bool) {
	defer func() {
		if ok {
			return
		}
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			slog.ErrorContext(r.Context(), "lambdaadapter: panic serving request",
				"method", r.Method,
				"path", r.URL.Path,
				"panic", fmt.Sprint(v),
				"stack", string(debug.Stack()),
			)
		}
	}()
	h.ServeHTTP(w, r)
	return true
}

// internalErrorResponse is the response for a handler that panicked.
func internalErrorResponse() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusInternalServerError,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       internalErrorBody,
	}
}
