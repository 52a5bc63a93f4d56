package lambdaadapter

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// responseWriter buffers a handler's response so that it can be returned as
// an APIGatewayV2HTTPResponse. It follows net/http's server semantics where
// they are observable: headers are snapshotted by the first WriteHeader (or
// Write/Flush), later WriteHeader calls are ignored, informational 1xx codes
// are not final, bodies are refused for 204 and 304, and a HEAD response has
// its body discarded.
type responseWriter struct {
	header      http.Header // what the handler mutates
	sent        http.Header // snapshot taken when the status was written
	status      int
	wroteHeader bool
	head        bool
	body        bytes.Buffer
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
)

func newResponseWriter(method string) *responseWriter {
	return &responseWriter{header: make(http.Header), head: method == http.MethodHead}
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		// Same check and message as net/http.
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.wroteHeader {
		return
	}
	// Informational responses cannot be relayed through API Gateway; like
	// net/http, they do not count as the final status.
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		return
	}
	w.wroteHeader = true
	w.status = code
	w.sent = w.header.Clone()
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.head {
		return len(p), nil
	}
	return w.body.Write(p)
}

// Flush commits the status and headers like net/http does; the body is
// still delivered in one piece when the handler returns.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
}

// response converts the captured response into the API Gateway payload.
func (w *responseWriter) response() events.APIGatewayV2HTTPResponse {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	header := w.sent
	body := w.body.Bytes()

	// net/http sniffs a missing Content-Type; a handler suppresses that by
	// setting the header to nil, which leaves the key present.
	if _, ok := header["Content-Type"]; !ok && len(body) > 0 {
		header.Set("Content-Type", http.DetectContentType(body))
	}

	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: w.status,
		Headers:    make(map[string]string, len(header)),
	}
	// Sorted so that keys differing only in case merge deterministically.
	for _, k := range slices.Sorted(maps.Keys(header)) {
		values := header[k]
		if len(values) == 0 {
			continue
		}
		ck := http.CanonicalHeaderKey(k)
		if ck == "Set-Cookie" {
			resp.Cookies = append(resp.Cookies, values...)
			continue
		}
		v := strings.Join(values, ", ")
		if prev, ok := resp.Headers[ck]; ok {
			v = prev + ", " + v
		}
		resp.Headers[ck] = v
	}

	if len(body) > 0 {
		// Invalid UTF-8 would not survive the JSON string, so it is sent as
		// base64 even when the content type says text.
		if isText(header.Get("Content-Type")) && utf8.Valid(body) {
			resp.Body = string(body)
		} else {
			resp.Body = base64.StdEncoding.EncodeToString(body)
			resp.IsBase64Encoded = true
		}
	}
	return resp
}

// isText reports whether a body of the given content type can be returned as
// a plain string rather than base64.
func isText(contentType string) bool {
	if contentType == "" {
		return false
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		// Be lenient with malformed parameters: judge by what is there.
		if strings.Contains(strings.ToLower(contentType), "charset=") {
			return true
		}
		mediaType, _, _ = strings.Cut(contentType, ";")
		mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	}
	if _, ok := params["charset"]; ok {
		return true
	}
	switch mediaType {
	case "application/json", "application/javascript", "application/xml", "image/svg+xml":
		return true
	}
	return strings.HasPrefix(mediaType, "text/") ||
		strings.HasSuffix(mediaType, "+json") ||
		strings.HasSuffix(mediaType, "+xml")
}

// bodyAllowedForStatus mirrors net/http: 1xx, 204 and 304 responses have no
// body.
func bodyAllowedForStatus(status int) bool {
	switch {
	case status >= 100 && status <= 199:
		return false
	case status == http.StatusNoContent, status == http.StatusNotModified:
		return false
	}
	return true
}
