// Package fakeserver is the plumbing the OAuth marketplace fakes
// (amazonfake, ebayfake) share around their protocols: the injected latency
// that spares the controls, the /_faults body and its delays, the public
// URL answers are built on, JSON answers and unguessable tokens. What a fake
// answers, and which faults it has, stays in the fake.
package fakeserver

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// MaxDelay bounds an injected delay (latency, Retry-After), so a typo
	// cannot hang the sandbox for hours.
	MaxDelay = 5 * time.Minute
	// maxRequestBytes bounds a request body read before a delay.
	maxRequestBytes = 10 << 20
	// maxFaultsBytes bounds a /_faults body.
	maxFaultsBytes = 64 << 10
)

// IsControlPath reports whether path is one of a fake's controls: its
// index ("/") and the paths under "/_" (faults, counters). Injected latency
// never delays them, so a person can always change the faults.
func IsControlPath(path string) bool { return path == "/" || strings.HasPrefix(path, "/_") }

// Delay holds a request for latency before it is served, and reports
// whether it is still worth serving: false when the client gave up while
// it waited, as nobody reads the answer then.
func Delay(w http.ResponseWriter, r *http.Request, latency time.Duration) bool {
	if latency <= 0 {
		return true
	}
	// Receive the whole request first, as a slow server does: once the body
	// is read, net/http notices a client that gives up and ends the
	// request's context.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	timer := time.NewTimer(latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// ServeSetFaults answers POST /_faults. The body is the faults' JSON form
// J, whose fields left out are cleared and whose unknown fields are
// refused; parse turns it into the faults F, which set puts in force and
// show gives back as the answer. A body either refuses is answered 400.
func ServeSetFaults[J, F any](w http.ResponseWriter, r *http.Request, parse func(J) (F, error), set func(F), show func(F) J) {
	var in J
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFaultsBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "faults: " + err.Error()})
		return
	}
	f, err := parse(in)
	if err != nil {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "faults: " + err.Error()})
		return
	}
	set(f)
	WriteJSON(w, http.StatusOK, show(f))
}

// ParseDelay reads the /_faults field name, a Go duration ("250ms", "30s");
// empty means none. It refuses a delay that is negative or over MaxDelay.
func ParseDelay(name, raw string) (time.Duration, error) {
	if raw == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if d < 0 || d > MaxDelay {
		return 0, fmt.Errorf("%s %s is not between 0 and %s", name, d, MaxDelay)
	}
	return d, nil
}

// PublicURL is the base URL clients reach a fake at, prefix included, for
// the URLs its answers give. It is safe for concurrent use.
type PublicURL struct {
	mu  sync.Mutex
	url string
}

// Set sets the URL; a trailing slash is dropped.
func (p *PublicURL) Set(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.url = strings.TrimRight(u, "/")
}

// Of returns the URL set or, unset, the request's scheme and host, which is
// right only when the fake is mounted at the root.
func (p *PublicURL) Of(r *http.Request) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.url != "" {
		return p.url
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// NewToken returns a token that starts with prefix, the shape of the
// marketplace's own, and goes on unguessably, so a test cannot pass by
// accident.
func NewToken(prefix string) string {
	var b [48]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
