package lambdaadapter

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// fuzzSeen is what the fuzz mux's handlers observed.
type fuzzSeen struct {
	called        bool
	method        string
	body          []byte
	contentLength int64
	path          string
	requestURI    string
	uri           string // r.URL.RequestURI()
	event         events.APIGatewayV2HTTPRequest
	hasEvent      bool
	readErr       error
}

// newFuzzMux is a stand-in for the API's routes plus a catch-all that echoes
// the request body. Every route panics when the body is "panic".
func newFuzzMux(got *fuzzSeen) *http.ServeMux {
	record := func(r *http.Request) {
		got.called = true
		got.method = r.Method
		got.contentLength = r.ContentLength
		got.path = r.URL.Path
		got.requestURI = r.RequestURI
		got.uri = r.URL.RequestURI()
		got.event, got.hasEvent = RequestFromContext(r.Context())
		got.body, got.readErr = io.ReadAll(r.Body)
		// Exercise what handlers commonly read.
		_ = r.URL.Query()
		_ = r.URL.EscapedPath()
		_ = r.Cookies()
		_ = r.UserAgent()
		_ = r.Header.Get("Content-Type")
		if string(got.body) == "panic" {
			panic("fuzz: handler asked to panic")
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/background-jobs/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		b, _ := json.Marshal(map[string]string{"id": r.PathValue("id"), "status": "running"})
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.HandleFunc("POST /api/background-jobs", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Location", "/api/background-jobs/job_new/status")
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"id":"job_new","status":"queued"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Echo-Method", r.Method)
		w.Write(got.body)
	})
	return mux
}

// isToken reports whether s is a non-empty RFC 9110 token, which is what
// net/http accepts as a method.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// FuzzHTTP runs events built from arbitrary strings through HTTP. It never
// panics; it reports an error exactly for events that cannot become a
// request, and otherwise returns a response with a valid status: the
// handler's, or a 500 when the handler panicked.
func FuzzHTTP(f *testing.F) {
	type seed struct {
		method, rawPath, rawQuery, headerName, headerValue, cookie, body string
		isBase64                                                         bool
	}
	for _, s := range []seed{
		{"GET", "/api/background-jobs/job_1/status", "", "accept", "application/json", "", "", false},
		{"GET", "/api/background-jobs/job_01HYQ3K9T2V7X8Z/status", "include=result&include=logs&verbose=true", "authorization", "Bearer abc.def.ghi", "session=3b7f9c1e2a", "", false},
		{"POST", "/api/background-jobs", "", "content-type", "application/json", "", `{"type":"thumbnail.generate","payload":{"imageId":"img_8842"}}`, false},
		{"POST", "/api/background-jobs", "", "content-type", "application/json", "", "eyJ0eXBlIjoieCJ9", true},
		{"POST", "/api/background-jobs", "", "content-type", "application/octet-stream", "", "H4sIAAAAAAAA/2pvYi1pbnB1dAD+/4Dw8fLz9PX29/j5+vv8/f7/", true},
		{"PUT", "/anything/else", "a=1;b=2", "x-custom", "v", "", "echo me", false},
		{"HEAD", "/api/background-jobs/job_1/status", "", "", "", "", "", false},
		{"OPTIONS", "*", "", "", "", "", "", false},
		{"CONNECT", "example.com:443", "", "", "", "", "", false},
		{"DELETE", "api/background-jobs/no-leading-slash", "", "", "", "", "", false},
		// Panicking handlers.
		{"POST", "/api/background-jobs", "", "", "", "", "panic", false},
		{"POST", "/api/background-jobs", "", "", "", "", "cGFuaWM=", true},
		{"GET", "/api/background-jobs/job_1/status", "", "", "", "", "panic", false},
		{"PATCH", "/other", "", "", "", "", "panic", false},
		// Paths: encoded, decoded, needing cleaning.
		{"GET", "/api/background-jobs/job%2F1/status", "", "", "", "", "", false},
		{"GET", "/api/background-jobs/a b/status", "", "", "", "", "", false},
		{"GET", "/api/background-jobs/100%/status", "", "", "", "", "", false},
		{"GET", "/api/background-jobs/a?b/status", "q=1", "", "", "", "", false},
		{"GET", "/api/background-jobs/%E4%BD%9C%E4%B8%9A/status", "", "", "", "", "", false},
		{"GET", "/api/background-jobs/作业/status", "", "", "", "", "", false},
		{"GET", "/api//background-jobs/../background-jobs/job_1/status", "", "", "", "", "", false},
		{"GET", "/api/background-jobs/%00/status", "", "", "", "", "", false},
		{"GET", "", "", "", "", "", "", false},
		{"GET", "/%", "%zz=%", "", "", "", "", false},
		// Headers and cookies.
		{"GET", "/", "", "host", "evil.example.com:8080", "", "", false},
		{"GET", "/", "", "Cookie", "a=1", "b=2", "", false},
		{"GET", "/", "", "user-agent", "", "=; ;;", "", false},
		{"GET", "/", "", "x-bad\r\nname", "bad\r\nvalue\x00", "n\x00=v\xff", "", false},
		{"GET", "/", "", "content-length", "-1", "", "body", false},
		// Events that cannot become a request.
		{"", "/api/background-jobs", "", "", "", "", "", false},
		{"GE T", "/api/background-jobs", "", "", "", "", "", false},
		{"GET\n", "/", "", "", "", "", "", false},
		{"GÉT", "/", "", "", "", "", "", false},
		{"POST", "/api/background-jobs", "", "", "", "", "not base64!", true},
		{"POST", "/api/background-jobs", "", "", "", "", "cGFuaWM", true},
		// Bodies.
		{"POST", "/echo", "", "", "", "", "\x00\xff\xfe invalid utf-8", false},
		{"POST", "/echo", "", "", "", "", "", true},
		{"POST", "/echo", "", "", "", "", "AP8=", true},
	} {
		f.Add(s.method, s.rawPath, s.rawQuery, s.headerName, s.headerValue, s.cookie, s.body, s.isBase64)
	}

	f.Fuzz(func(t *testing.T, method, rawPath, rawQuery, headerName, headerValue, cookie, body string, isBase64 bool) {
		ev := events.APIGatewayV2HTTPRequest{
			Version:         "2.0",
			RouteKey:        "$default",
			RawPath:         rawPath,
			RawQueryString:  rawQuery,
			Headers:         map[string]string{},
			Body:            body,
			IsBase64Encoded: isBase64,
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
		if headerName != "" {
			ev.Headers[headerName] = headerValue
		}
		if cookie != "" {
			ev.Cookies = []string{cookie}
		}

		// What the handler must receive, if anything.
		wantBody := []byte(body)
		bodyOK := true
		if isBase64 {
			var err error
			wantBody, err = base64.StdEncoding.DecodeString(body)
			bodyOK = err == nil
		}
		wantErr := !isToken(method) || !bodyOK

		var got fuzzSeen
		resp, err := HTTP(newFuzzMux(&got))(t.Context(), ev)

		if err != nil {
			if !wantErr {
				t.Fatalf("HTTP returned error %v for an event that is a valid request: method %q, base64 %v, body %q", err, method, isBase64, body)
			}
			if err.Error() == "" {
				t.Fatal("HTTP returned an error with an empty message")
			}
			if got.called {
				t.Fatal("handler was called for an event that HTTP refused")
			}
			if !reflect.DeepEqual(resp, events.APIGatewayV2HTTPResponse{}) {
				t.Fatalf("HTTP returned both an error and a response: %+v", resp)
			}
			return
		}
		if wantErr {
			t.Fatalf("HTTP accepted an event that cannot become a request: method %q, base64 %v, body %q; response %d", method, isBase64, body, resp.StatusCode)
		}
		if resp.StatusCode < 100 || resp.StatusCode > 599 {
			t.Fatalf("status %d is not an HTTP status", resp.StatusCode)
		}
		if !got.called {
			// The mux answered itself (a redirect to the clean path).
			return
		}

		if got.method != method {
			t.Errorf("handler saw method %q, want %q", got.method, method)
		}
		if got.readErr != nil {
			t.Errorf("reading the request body: %v", got.readErr)
		}
		if string(got.body) != string(wantBody) {
			t.Errorf("handler saw body %q, want %q", got.body, wantBody)
		}
		if got.contentLength != int64(len(wantBody)) {
			t.Errorf("ContentLength = %d, want %d", got.contentLength, len(wantBody))
		}
		if !strings.HasPrefix(got.path, "/") {
			t.Errorf("URL.Path %q does not start with /", got.path)
		}
		if got.requestURI != got.uri {
			t.Errorf("RequestURI = %q, URL.RequestURI() = %q", got.requestURI, got.uri)
		}
		if !got.hasEvent || !reflect.DeepEqual(got.event, ev) {
			t.Errorf("RequestFromContext = %+v, %v; want the event", got.event, got.hasEvent)
		}

		if string(wantBody) == "panic" {
			if !reflect.DeepEqual(resp, internalErrorResponse()) {
				t.Fatalf("a panicking handler gave %+v, want the 500 response", resp)
			}
			return
		}
		if resp.StatusCode == http.StatusInternalServerError {
			t.Fatalf("a handler that did not panic gave a 500: %+v", resp)
		}
		if resp.Headers["X-Echo-Method"] == method && method != http.MethodHead {
			// The catch-all echoes the body back, as base64 because the
			// content type is binary.
			echoed := []byte(resp.Body)
			if resp.IsBase64Encoded {
				echoed, err = base64.StdEncoding.DecodeString(resp.Body)
				if err != nil {
					t.Fatalf("response body is not valid base64: %v", err)
				}
			}
			if string(echoed) != string(wantBody) {
				t.Errorf("echoed body %q, want %q", echoed, wantBody)
			}
		}
	})
}
