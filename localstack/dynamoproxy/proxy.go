package dynamoproxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// targetPrefix is the X-Amz-Target prefix of every DynamoDB operation.
const targetPrefix = "DynamoDB_20120810."

// jsonContentType is the content type of the DynamoDB JSON protocol.
const jsonContentType = "application/x-amz-json-1.0"

// maxRequestBytes bounds the body of a request the proxy handles itself
// (AWS allows 4 MB for a transaction; this leaves room).
const maxRequestBytes = 16 << 20

// DefaultTTLInterval is how often expired items are deleted when
// Config.TTLInterval is zero.
const DefaultTTLInterval = 30 * time.Second

// Config configures a Proxy.
type Config struct {
	// Upstream is the base URL of dynalite, e.g. http://127.0.0.1:8001.
	Upstream string
	// TTLInterval is the period of the expired-item sweep started by Run.
	// Zero means DefaultTTLInterval.
	TTLInterval time.Duration
	// Logger receives operational messages. Nil discards them.
	Logger *slog.Logger
	// Transport carries requests to Upstream. Nil means a dedicated
	// http.Transport without compression or proxy settings.
	Transport http.RoundTripper
	// Now returns the current time; nil means time.Now. Used for TTL expiry
	// and idempotency windows.
	Now func() time.Time
}

// Proxy serves the DynamoDB JSON protocol, implementing transactions and TTL
// itself and forwarding every other operation to dynalite.
type Proxy struct {
	upstream    *url.URL
	client      *http.Client
	forward     *httputil.ReverseProxy
	log         *slog.Logger
	now         func() time.Time
	ttlInterval time.Duration

	// mu orders transactions (write lock) against every other request
	// (read lock).
	mu sync.RWMutex

	schemas schemaCache
	ttl     ttlSettings
	tokens  tokenStore
}

// New returns a Proxy for the given configuration.
func New(cfg Config) (*Proxy, error) {
	if cfg.Upstream == "" {
		return nil, errors.New("dynamoproxy: upstream URL is required")
	}
	u, err := url.Parse(cfg.Upstream)
	if err != nil {
		return nil, fmt.Errorf("dynamoproxy: upstream URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("dynamoproxy: upstream URL %q must be http(s)://host:port", cfg.Upstream)
	}
	transport := cfg.Transport
	if transport == nil {
		transport = &http.Transport{
			Proxy:               nil,
			DisableCompression:  true,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	interval := cfg.TTLInterval
	if interval <= 0 {
		interval = DefaultTTLInterval
	}
	p := &Proxy{
		upstream:    u,
		client:      &http.Client{Transport: transport},
		log:         logger,
		now:         now,
		ttlInterval: interval,
	}
	p.schemas.init()
	p.ttl.init()
	p.tokens.init()
	p.forward = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = u.Scheme
			pr.Out.URL.Host = u.Host
			// Keep the Host header the client signed.
			pr.Out.Host = pr.In.Host
		},
		Transport:      transport,
		ModifyResponse: p.observeForwarded,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.log.Error("forward to upstream failed", "target", r.Header.Get("X-Amz-Target"), "err", err)
			writeAPIError(w, &apiError{
				status: http.StatusBadGateway,
				body:   errorBody("com.amazonaws.dynamodb.v20120810#InternalServerError", "upstream unavailable: "+err.Error()),
			})
		},
	}
	return p, nil
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	var handler func(context.Context, []byte) ([]byte, error)
	if r.Method == http.MethodPost {
		switch op {
		case "TransactWriteItems":
			handler = p.transactWriteItems
		case "TransactGetItems":
			handler = p.transactGetItems
		case "UpdateTimeToLive":
			handler = p.updateTimeToLive
		case "DescribeTimeToLive":
			handler = p.describeTimeToLive
		}
	}
	if handler == nil {
		p.forwardRequest(w, r, op)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		writeAPIError(w, newAPIError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException", "cannot read request body: "+err.Error()))
		return
	}
	if len(body) > maxRequestBytes {
		writeAPIError(w, newAPIError(http.StatusRequestEntityTooLarge, "com.amazon.coral.service#SerializationException", "request body too large"))
		return
	}
	// A transaction must finish once started even if the client goes away:
	// stopping half way would leave it partly applied.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := handler(ctx, body)
	if took := time.Since(start); took > slowRequest {
		p.log.Warn("slow request", "op", op, "took", took)
	}
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			p.log.Error("operation failed", "op", op, "err", err)
			ae = newAPIError(http.StatusInternalServerError, "com.amazonaws.dynamodb.v20120810#InternalServerError", err.Error())
		}
		writeAPIError(w, ae)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// forwardRequest sends the request to dynalite unchanged under the read lock.
func (p *Proxy) forwardRequest(w http.ResponseWriter, r *http.Request, op string) {
	// The whole request is read first and sent upstream detached from the
	// client: dynalite crashes (it throws on the request's "aborted" error)
	// when a request is cut off midway, as happens whenever a client gives
	// up on a call.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		writeAPIError(w, newAPIError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException", "cannot read request body: "+err.Error()))
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	if op == "DeleteTable" || op == "CreateTable" {
		// Remember the table name so cached state can be dropped once
		// dynalite confirms.
		var in struct{ TableName string }
		if json.Unmarshal(body, &in) == nil && in.TableName != "" {
			ctx = context.WithValue(ctx, tableOpKey{}, tableOp{op: op, table: in.TableName})
		}
	}
	r = r.WithContext(ctx)
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	start := time.Now()
	p.mu.RLock()
	defer p.mu.RUnlock()
	p.forward.ServeHTTP(&noSniffWriter{ResponseWriter: w}, r)
	if took := time.Since(start); took > slowRequest {
		p.log.Warn("slow request", "op", op, "took", took)
	}
}

// slowRequest is how long a request may take before the proxy logs it:
// dynalite answers in milliseconds, so a longer one (waiting for the lock
// or for dynalite) explains a stalled test.
const slowRequest = 5 * time.Second

// noSniffWriter stops net/http from adding a Content-Type that dynalite did
// not send (it sniffs one for answers without it).
type noSniffWriter struct{ http.ResponseWriter }

func (w *noSniffWriter) WriteHeader(status int) {
	if _, ok := w.Header()["Content-Type"]; !ok {
		w.Header()["Content-Type"] = nil
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *noSniffWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type tableOpKey struct{}

type tableOp struct{ op, table string }

// observeForwarded drops cached per-table state when a table is created or
// deleted through the proxy.
func (p *Proxy) observeForwarded(resp *http.Response) error {
	t, ok := resp.Request.Context().Value(tableOpKey{}).(tableOp)
	if !ok || resp.StatusCode != http.StatusOK {
		return nil
	}
	p.schemas.forget(t.table)
	if t.op == "DeleteTable" {
		p.ttl.forget(t.table)
	}
	return nil
}

// apiError is a DynamoDB error answer: status and JSON body.
type apiError struct {
	status int
	body   []byte
}

func (e *apiError) Error() string {
	var b struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(e.body, &b)
	msg := b.Message
	if msg == "" {
		msg = b.Message2
	}
	return fmt.Sprintf("%d %s: %s", e.status, b.Type, msg)
}

// code is the error code after the '#' of __type.
func (e *apiError) code() string {
	var b struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(e.body, &b)
	_, c, found := strings.Cut(b.Type, "#")
	if !found {
		return b.Type
	}
	return c
}

func newAPIError(status int, typ, msg string) *apiError {
	return &apiError{status: status, body: errorBody(typ, msg)}
}

func validationError(msg string) *apiError {
	return newAPIError(http.StatusBadRequest, "com.amazon.coral.validate#ValidationException", msg)
}

func errorBody(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{typ, msg})
	return b
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, e.body)
}

// writeJSON writes a DynamoDB JSON answer with the checksum header the SDKs
// verify.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", jsonContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	h.Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func requestID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [52]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
