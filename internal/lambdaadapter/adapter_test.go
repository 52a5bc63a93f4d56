package lambdaadapter

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// loadEvent decodes a fixture from testdata. Unknown fields are rejected so
// that a typo in a fixture cannot silently drop data.
func loadEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var ev events.APIGatewayV2HTTPRequest
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return ev
}

// seen is what a handler observed about the request it served.
type seen struct {
	called        bool
	method        string
	pattern       string
	id            string
	path          string
	escapedPath   string
	requestURI    string
	query         url.Values
	header        http.Header
	cookies       map[string]string
	host          string
	remoteAddr    string
	proto         string
	contentLength int64
	noBody        bool
	body          []byte
	hasEvent      bool
	claims        map[string]string
}

func observe(t *testing.T, r *http.Request) seen {
	t.Helper()
	s := seen{
		called:        true,
		method:        r.Method,
		pattern:       r.Pattern,
		id:            r.PathValue("id"),
		path:          r.URL.Path,
		escapedPath:   r.URL.EscapedPath(),
		requestURI:    r.RequestURI,
		query:         r.URL.Query(),
		header:        r.Header.Clone(),
		cookies:       map[string]string{},
		host:          r.Host,
		remoteAddr:    r.RemoteAddr,
		proto:         r.Proto,
		contentLength: r.ContentLength,
		noBody:        r.Body == http.NoBody,
	}
	for _, c := range r.Cookies() {
		s.cookies[c.Name] = c.Value
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("reading request body: %v", err)
	}
	s.body = body
	ev, ok := RequestFromContext(r.Context())
	s.hasEvent = ok
	if ok && ev.RequestContext.Authorizer != nil && ev.RequestContext.Authorizer.JWT != nil {
		s.claims = ev.RequestContext.Authorizer.JWT.Claims
	}
	return s
}

// newTestMux is a small stand-in for the API's routes.
func newTestMux(t *testing.T, got *seen) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/background-jobs/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		*got = observe(t, r)
		id := r.PathValue("id")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Cookie")
		http.SetCookie(w, &http.Cookie{Name: "last_job", Value: id, Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark", Path: "/"})
		fmt.Fprintf(w, `{"id":%q,"status":"running"}`, id)
	})
	mux.HandleFunc("POST /api/background-jobs", func(w http.ResponseWriter, r *http.Request) {
		*got = observe(t, r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/api/background-jobs/job_new/status")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"job_new","status":"queued"}`)
	})
	return mux
}

func TestHTTPFixtures(t *testing.T) {
	t.Parallel()

	binaryBody, err := base64.StdEncoding.DecodeString("H4sIAAAAAAAA/2pvYi1pbnB1dAD+/4Dw8fLz9PX29/j5+vv8/f7/")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		fixture string

		// What the handler must see.
		method        string
		pattern       string
		id            string
		path          string
		requestURI    string
		query         url.Values
		header        map[string]string // subset, by r.Header.Get
		cookies       map[string]string
		host          string
		remoteAddr    string
		body          []byte
		contentLength int64
		claims        map[string]string

		// What must come back to API Gateway.
		status        int
		respHeaders   map[string]string
		respCookies   []string
		respBody      string
		respBase64    bool
		respNoHeaders []string
	}{
		{
			fixture:    "create-job.json",
			method:     http.MethodPost,
			pattern:    "POST /api/background-jobs",
			path:       "/api/background-jobs",
			requestURI: "/api/background-jobs",
			query:      url.Values{},
			header: map[string]string{
				"Content-Type":      "application/json",
				"Content-Length":    "74",
				"Idempotency-Key":   "4f0c2a8e-6b1d-4d5e-9a43-2f7e0b1c9d11",
				"Accept-Encoding":   "gzip, deflate, br",
				"X-Forwarded-Proto": "https",
				"User-Agent":        "curl/8.7.1",
			},
			cookies:       map[string]string{},
			host:          "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
			remoteAddr:    "203.0.113.10",
			body:          []byte(`{"type":"thumbnail.generate","payload":{"imageId":"img_8842","width":320}}`),
			contentLength: 74,
			status:        http.StatusAccepted,
			respHeaders: map[string]string{
				"Content-Type": "application/json",
				"Location":     "/api/background-jobs/job_new/status",
			},
			respBody: `{"id":"job_new","status":"queued"}`,
		},
		{
			fixture:    "job-status.json",
			method:     http.MethodGet,
			pattern:    "GET /api/background-jobs/{id}/status",
			id:         "job_01HYQ3K9T2V7X8Z",
			path:       "/api/background-jobs/job_01HYQ3K9T2V7X8Z/status",
			requestURI: "/api/background-jobs/job_01HYQ3K9T2V7X8Z/status?include=result&include=logs&verbose=true",
			query:      url.Values{"include": {"result", "logs"}, "verbose": {"true"}},
			header: map[string]string{
				"Accept":        "application/json, text/plain",
				"Authorization": "Bearer eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzQyIn0.c2lnbmF0dXJl",
				"Cookie":        "session=3b7f9c1e2a; theme=dark",
				"X-Request-Tag": "dashboard,poll",
			},
			cookies:    map[string]string{"session": "3b7f9c1e2a", "theme": "dark"},
			host:       "api.jobs.example.com",
			remoteAddr: "198.51.100.7",
			body:       []byte{},
			claims: map[string]string{
				"aud":       "jobs-api",
				"exp":       "1716563010",
				"iat":       "1716559410",
				"iss":       "https://auth.example.com/",
				"scope":     "jobs:read jobs:write",
				"sub":       "user_42",
				"tenant_id": "tenant_7",
			},
			status: http.StatusOK,
			respHeaders: map[string]string{
				"Content-Type":  "application/json",
				"Cache-Control": "no-store",
				"Vary":          "Accept, Cookie",
			},
			respCookies: []string{
				"last_job=job_01HYQ3K9T2V7X8Z; Path=/; HttpOnly",
				"theme=dark; Path=/",
			},
			respBody:      `{"id":"job_01HYQ3K9T2V7X8Z","status":"running"}`,
			respNoHeaders: []string{"Set-Cookie"},
		},
		{
			fixture:       "create-job-binary.json",
			method:        http.MethodPost,
			pattern:       "POST /api/background-jobs",
			path:          "/api/background-jobs",
			requestURI:    "/api/background-jobs?type=archive.extract",
			query:         url.Values{"type": {"archive.extract"}},
			header:        map[string]string{"Content-Type": "application/octet-stream", "Content-Length": "39"},
			cookies:       map[string]string{},
			host:          "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
			remoteAddr:    "192.0.2.44",
			body:          binaryBody,
			contentLength: int64(len(binaryBody)),
			status:        http.StatusAccepted,
			respHeaders:   map[string]string{"Content-Type": "application/json"},
			respBody:      `{"id":"job_new","status":"queued"}`,
		},
	}

	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			ev := loadEvent(t, tt.fixture)
			var got seen
			resp, err := HTTP(newTestMux(t, &got))(t.Context(), ev)
			if err != nil {
				t.Fatalf("HTTP returned error: %v", err)
			}

			if !got.called {
				t.Fatalf("handler not called; response %d %q", resp.StatusCode, resp.Body)
			}
			checkEqual(t, "method", got.method, tt.method)
			checkEqual(t, "pattern", got.pattern, tt.pattern)
			checkEqual(t, "PathValue(id)", got.id, tt.id)
			checkEqual(t, "URL.Path", got.path, tt.path)
			checkEqual(t, "RequestURI", got.requestURI, tt.requestURI)
			checkEqual(t, "query", got.query, tt.query)
			for k, want := range tt.header {
				checkEqual(t, "header "+k, got.header.Get(k), want)
			}
			if v, ok := got.header["Host"]; ok {
				t.Errorf("Host left in header map: %q", v)
			}
			checkEqual(t, "cookies", got.cookies, tt.cookies)
			checkEqual(t, "Host", got.host, tt.host)
			checkEqual(t, "RemoteAddr", got.remoteAddr, tt.remoteAddr)
			checkEqual(t, "Proto", got.proto, "HTTP/1.1")
			checkEqual(t, "body", got.body, tt.body)
			checkEqual(t, "ContentLength", got.contentLength, tt.contentLength)
			checkEqual(t, "Body is http.NoBody", got.noBody, len(tt.body) == 0)
			checkEqual(t, "RequestFromContext ok", got.hasEvent, true)
			checkEqual(t, "claims", got.claims, tt.claims)

			checkEqual(t, "StatusCode", resp.StatusCode, tt.status)
			for k, want := range tt.respHeaders {
				checkEqual(t, "response header "+k, resp.Headers[k], want)
			}
			for _, k := range tt.respNoHeaders {
				if v, ok := resp.Headers[k]; ok {
					t.Errorf("response header %s = %q, want absent", k, v)
				}
			}
			checkEqual(t, "Cookies", resp.Cookies, tt.respCookies)
			checkEqual(t, "Body", resp.Body, tt.respBody)
			checkEqual(t, "IsBase64Encoded", resp.IsBase64Encoded, tt.respBase64)
		})
	}
}

// TestHTTPBinaryRoundTrip echoes a base64-encoded request body and expects the
// same bytes back, base64-encoded.
func TestHTTPBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	ev := loadEvent(t, "create-job-binary.json")
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		io.Copy(w, r.Body)
	})
	resp, err := HTTP(echo)(t.Context(), ev)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "StatusCode", resp.StatusCode, http.StatusOK)
	checkEqual(t, "Content-Type", resp.Headers["Content-Type"], "application/octet-stream")
	checkEqual(t, "IsBase64Encoded", resp.IsBase64Encoded, true)
	checkEqual(t, "Body", resp.Body, ev.Body)
}

// minimalEvent is the smallest event the adapter accepts, for tests that do
// not need a full fixture.
func minimalEvent(method, rawPath string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "$default",
		RawPath:  rawPath,
		Headers:  map[string]string{"host": "api.jobs.example.com"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "api.jobs.example.com",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:   method,
				Path:     rawPath,
				Protocol: "HTTP/1.1",
				SourceIP: "203.0.113.10",
			},
		},
	}
}

func TestHTTPRequestConversion(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		event  func() events.APIGatewayV2HTTPRequest
		check  func(t *testing.T, s seen)
		wantID string
	}{
		{
			name: "path falls back to requestContext.http.path",
			event: func() events.APIGatewayV2HTTPRequest {
				ev := minimalEvent(http.MethodGet, "")
				ev.RequestContext.HTTP.Path = "/api/background-jobs/job_1/status"
				return ev
			},
			check: func(t *testing.T, s seen) {
				checkEqual(t, "URL.Path", s.path, "/api/background-jobs/job_1/status")
				checkEqual(t, "PathValue(id)", s.id, "job_1")
			},
		},
		{
			name: "decoded rawPath is re-escaped",
			event: func() events.APIGatewayV2HTTPRequest {
				return minimalEvent(http.MethodGet, "/api/background-jobs/100% done?/status")
			},
			check: func(t *testing.T, s seen) {
				checkEqual(t, "URL.Path", s.path, "/api/background-jobs/100% done?/status")
				checkEqual(t, "PathValue(id)", s.id, "100% done?")
				checkEqual(t, "EscapedPath", s.escapedPath, "/api/background-jobs/100%25%20done%3F/status")
				checkEqual(t, "RequestURI", s.requestURI, "/api/background-jobs/100%25%20done%3F/status")
			},
		},
		{
			name: "encoded rawPath is kept",
			event: func() events.APIGatewayV2HTTPRequest {
				ev := minimalEvent(http.MethodGet, "/api/background-jobs/a%2Fb/status")
				ev.RawQueryString = "q=x%20y"
				return ev
			},
			check: func(t *testing.T, s seen) {
				checkEqual(t, "URL.Path", s.path, "/api/background-jobs/a/b/status")
				checkEqual(t, "PathValue(id)", s.id, "a/b")
				checkEqual(t, "EscapedPath", s.escapedPath, "/api/background-jobs/a%2Fb/status")
				checkEqual(t, "RequestURI", s.requestURI, "/api/background-jobs/a%2Fb/status?q=x%20y")
				checkEqual(t, "query", s.query, url.Values{"q": {"x y"}})
			},
		},
		{
			name: "host falls back to domainName and user agent to requestContext",
			event: func() events.APIGatewayV2HTTPRequest {
				ev := minimalEvent(http.MethodGet, "/api/background-jobs/job_1/status")
				ev.Headers = nil
				ev.RequestContext.HTTP.UserAgent = "jobs-cli/1.4.0"
				return ev
			},
			check: func(t *testing.T, s seen) {
				checkEqual(t, "Host", s.host, "api.jobs.example.com")
				checkEqual(t, "User-Agent", s.header.Get("User-Agent"), "jobs-cli/1.4.0")
			},
		},
		{
			name: "header keys are canonicalised and cookies replace a cookie header",
			event: func() events.APIGatewayV2HTTPRequest {
				ev := minimalEvent(http.MethodGet, "/api/background-jobs/job_1/status")
				ev.Headers["x-correlation-id"] = "c-1"
				ev.Headers["cookie"] = "stale=1"
				ev.Cookies = []string{"session=s1", "csrf=t0k"}
				return ev
			},
			check: func(t *testing.T, s seen) {
				checkEqual(t, "X-Correlation-Id", s.header["X-Correlation-Id"], []string{"c-1"})
				checkEqual(t, "Cookie", s.header["Cookie"], []string{"session=s1; csrf=t0k"})
				checkEqual(t, "cookies", s.cookies, map[string]string{"session": "s1", "csrf": "t0k"})
			},
		},
		{
			name: "no body is http.NoBody",
			event: func() events.APIGatewayV2HTTPRequest {
				return minimalEvent(http.MethodGet, "/api/background-jobs/job_1/status")
			},
			check: func(t *testing.T, s seen) {
				checkEqual(t, "Body is http.NoBody", s.noBody, true)
				checkEqual(t, "ContentLength", s.contentLength, int64(0))
				checkEqual(t, "claims", s.claims, map[string]string(nil))
				checkEqual(t, "RequestFromContext ok", s.hasEvent, true)
			},
		},
		{
			name: "protocol is taken from the event",
			event: func() events.APIGatewayV2HTTPRequest {
				ev := minimalEvent(http.MethodGet, "/api/background-jobs/job_1/status")
				ev.RequestContext.HTTP.Protocol = "HTTP/2.0"
				return ev
			},
			check: func(t *testing.T, s seen) {
				checkEqual(t, "Proto", s.proto, "HTTP/2.0")
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got seen
			resp, err := HTTP(newTestMux(t, &got))(t.Context(), tt.event())
			if err != nil {
				t.Fatalf("HTTP returned error: %v", err)
			}
			if !got.called {
				t.Fatalf("handler not called; response %d %q", resp.StatusCode, resp.Body)
			}
			tt.check(t, got)
		})
	}
}

func TestHTTPInvalidEvent(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		event func() events.APIGatewayV2HTTPRequest
	}{
		{
			name: "payload format 1.0 event has no method",
			event: func() events.APIGatewayV2HTTPRequest {
				return minimalEvent("", "/api/background-jobs")
			},
		},
		{
			name: "invalid method",
			event: func() events.APIGatewayV2HTTPRequest {
				return minimalEvent("GE T", "/api/background-jobs")
			},
		},
		{
			name: "invalid base64 body",
			event: func() events.APIGatewayV2HTTPRequest {
				ev := minimalEvent(http.MethodPost, "/api/background-jobs")
				ev.Body = "not base64!"
				ev.IsBase64Encoded = true
				return ev
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			called := false
			h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
			_, err := HTTP(h)(t.Context(), tt.event())
			if err == nil {
				t.Fatal("HTTP returned no error")
			}
			if called {
				t.Error("handler was called")
			}
		})
	}
}

func TestRequestFromContextOutsideLambda(t *testing.T) {
	t.Parallel()
	if _, ok := RequestFromContext(t.Context()); ok {
		t.Error("RequestFromContext reported an event for a plain context")
	}
}

func TestHTTPResponseConversion(t *testing.T) {
	t.Parallel()

	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	internal := events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusInternalServerError,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       `{"error":{"code":"internal","message":"internal error"}}`,
	}

	tests := []struct {
		name    string
		method  string // GET when empty
		handler func(t *testing.T, w http.ResponseWriter, r *http.Request)
		want    events.APIGatewayV2HTTPResponse
	}{
		{
			name:    "nothing written is 200 with empty body",
			handler: func(*testing.T, http.ResponseWriter, *http.Request) {},
			want:    events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{}},
		},
		{
			name: "json with status",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				io.WriteString(w, `{"error":{"code":"not_found","message":"job not found"}}`)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusNotFound,
				Headers:    map[string]string{"Content-Type": "application/json"},
				Body:       `{"error":{"code":"not_found","message":"job not found"}}`,
			},
		},
		{
			name: "text types are plain strings",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/csv")
				io.WriteString(w, "id,status\njob_1,done\n")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "text/csv"},
				Body:       "id,status\njob_1,done\n",
			},
		},
		{
			name: "svg is text",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "image/svg+xml")
				io.WriteString(w, `<svg xmlns="http://www.w3.org/2000/svg"/>`)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "image/svg+xml"},
				Body:       `<svg xmlns="http://www.w3.org/2000/svg"/>`,
			},
		},
		{
			name: "javascript is text",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/javascript")
				io.WriteString(w, "export const ok = true;")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "application/javascript"},
				Body:       "export const ok = true;",
			},
		},
		{
			name: "structured json suffix is text",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				io.WriteString(w, `{"title":"conflict"}`)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "application/problem+json"},
				Body:       `{"title":"conflict"}`,
			},
		},
		{
			name: "any type with a charset is text",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/x-ndjson; charset=UTF-8")
				io.WriteString(w, "{\"n\":1}\n{\"n\":2}\n")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "application/x-ndjson; charset=UTF-8"},
				Body:       "{\"n\":1}\n{\"n\":2}\n",
			},
		},
		{
			name: "binary is base64",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				w.Write([]byte{0x00, 0xff, 0x10, 0x80})
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      http.StatusOK,
				Headers:         map[string]string{"Content-Type": "application/octet-stream"},
				Body:            base64.StdEncoding.EncodeToString([]byte{0x00, 0xff, 0x10, 0x80}),
				IsBase64Encoded: true,
			},
		},
		{
			name: "invalid utf-8 under a text type is base64",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
				w.Write([]byte("caf\xe9"))
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      http.StatusOK,
				Headers:         map[string]string{"Content-Type": "text/plain; charset=iso-8859-1"},
				Body:            base64.StdEncoding.EncodeToString([]byte("caf\xe9")),
				IsBase64Encoded: true,
			},
		},
		{
			name: "missing content type is sniffed like net/http",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Write(png)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      http.StatusOK,
				Headers:         map[string]string{"Content-Type": "image/png"},
				Body:            base64.StdEncoding.EncodeToString(png),
				IsBase64Encoded: true,
			},
		},
		{
			name: "suppressed content type is not sniffed",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header()["Content-Type"] = nil
				io.WriteString(w, "plain")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode:      http.StatusOK,
				Headers:         map[string]string{},
				Body:            base64.StdEncoding.EncodeToString([]byte("plain")),
				IsBase64Encoded: true,
			},
		},
		{
			name: "set-cookie becomes cookies and multi-valued headers are joined",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				h := w.Header()
				h.Set("Content-Type", "application/json")
				h.Add("Link", "</api/background-jobs?page=2>; rel=\"next\"")
				h.Add("Link", "</api/background-jobs?page=9>; rel=\"last\"")
				h.Add("Set-Cookie", "session=s2; Path=/; Secure; HttpOnly")
				h.Add("Set-Cookie", "flash=; Max-Age=0")
				h["x-lowercase"] = []string{"kept"}
				io.WriteString(w, "[]")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers: map[string]string{
					"Content-Type": "application/json",
					"Link":         "</api/background-jobs?page=2>; rel=\"next\", </api/background-jobs?page=9>; rel=\"last\"",
					"X-Lowercase":  "kept",
				},
				Cookies: []string{"session=s2; Path=/; Secure; HttpOnly", "flash=; Max-Age=0"},
				Body:    "[]",
			},
		},
		{
			name: "headers changed after WriteHeader and second WriteHeader are ignored",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusCreated)
				w.Header().Set("X-Late", "1")
				w.WriteHeader(http.StatusTeapot)
				io.WriteString(w, "created")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusCreated,
				Headers:    map[string]string{"Content-Type": "text/plain"},
				Body:       "created",
			},
		},
		{
			name: "informational status is not final",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Link", "</app.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Set("Content-Type", "text/plain")
				io.WriteString(w, "ok")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "text/plain", "Link": "</app.css>; rel=preload"},
				Body:       "ok",
			},
		},
		{
			name: "flush commits status and headers",
			handler: func(t *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
				w.Header().Set("X-Late", "1")
				io.WriteString(w, "data: 1\n\n")
				w.(http.Flusher).Flush()
				io.WriteString(w, "data: 2\n\n")
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "text/event-stream"},
				Body:       "data: 1\n\ndata: 2\n\n",
			},
		},
		{
			name: "no body for 204",
			handler: func(t *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusNoContent)
				if _, err := io.WriteString(w, "ignored"); !errors.Is(err, http.ErrBodyNotAllowed) {
					t.Errorf("Write after 204: err = %v, want %v", err, http.ErrBodyNotAllowed)
				}
			},
			want: events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{}},
		},
		{
			name:   "HEAD keeps headers and drops the body",
			method: http.MethodHead,
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"status":"running"}`)
			},
			want: events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusOK,
				Headers:    map[string]string{"Content-Type": "application/json"},
			},
		},
		{
			name: "panic before writing is a 500",
			handler: func(*testing.T, http.ResponseWriter, *http.Request) {
				panic("boom")
			},
			want: internal,
		},
		{
			name: "panic after a partial response discards it",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.Header().Set("X-Partial", "1")
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "leak"})
				w.WriteHeader(http.StatusOK)
				io.WriteString(w, "half a resp")
				panic(errors.New("boom"))
			},
			want: internal,
		},
		{
			name: "http.ErrAbortHandler is a 500",
			handler: func(*testing.T, http.ResponseWriter, *http.Request) {
				panic(http.ErrAbortHandler)
			},
			want: internal,
		},
		{
			name: "invalid status code is a 500",
			handler: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(42)
			},
			want: internal,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tt.handler(t, w, r) })
			got, err := HTTP(h)(t.Context(), minimalEvent(method, "/api/background-jobs/job_1/status"))
			if err != nil {
				t.Fatalf("HTTP returned error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("response mismatch\n got: %s\nwant: %s", mustJSON(t, got), mustJSON(t, tt.want))
			}
		})
	}
}

// TestHTTPPanicBodyShape checks that the 500 body follows the API's error
// shape.
func TestHTTPPanicBodyShape(t *testing.T) {
	t.Parallel()
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	resp, err := HTTP(h)(t.Context(), loadEvent(t, "create-job.json"))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(resp.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("decoding %q: %v", resp.Body, err)
	}
	checkEqual(t, "error.code", body.Error.Code, "internal")
	checkEqual(t, "error.message", body.Error.Message, "internal error")
}

func TestHTTPNilHandlerPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("HTTP(nil) did not panic")
		}
	}()
	HTTP(nil)
}

func TestIsText(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"":                                     false,
		"application/json":                     true,
		"Application/JSON":                     true,
		"application/json; charset=utf-8":      true,
		"application/vnd.api+json":             true,
		"application/xml":                      true,
		"application/atom+xml":                 true,
		"application/javascript":               true,
		"image/svg+xml":                        true,
		"text/html; charset=utf-8":             true,
		"text/plain":                           true,
		"application/x-custom; charset=utf-8":  true,
		"application/x-custom; charset=utf-8;": true, // malformed parameters
		"application/octet-stream":             false,
		"application/pdf":                      false,
		"image/png":                            false,
		"application/zip; foo":                 false,
	}
	for _, ct := range slices.Sorted(maps.Keys(tests)) {
		if got := isText(ct); got != tests[ct] {
			t.Errorf("isText(%q) = %v, want %v", ct, got, tests[ct])
		}
	}
}

func checkEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
