package dynamoproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// idempotencyWindow is how long AWS remembers a ClientRequestToken.
const idempotencyWindow = 10 * time.Minute

// tokenStore remembers the answers of successful transactions by
// ClientRequestToken for idempotencyWindow.
type tokenStore struct {
	mu      sync.Mutex
	entries map[string]tokenEntry
	order   []tokenOrder // by time stored, for expiry
}

type tokenEntry struct {
	fingerprint string
	answer      []byte
	stored      time.Time
}

type tokenOrder struct {
	token  string
	stored time.Time
}

func (s *tokenStore) init() { s.entries = map[string]tokenEntry{} }

// lookup returns the remembered answer for token if the same request was
// seen within the window, or an IdempotentParameterMismatchException if a
// different request used the token.
func (s *tokenStore) lookup(token, fingerprint string, now time.Time) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	e, ok := s.entries[token]
	if !ok {
		return nil, false, nil
	}
	if e.fingerprint != fingerprint {
		return nil, false, newAPIError(http.StatusBadRequest,
			"com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
			"The request uses the same client token as a previous, but non-identical request.")
	}
	return e.answer, true, nil
}

func (s *tokenStore) store(token, fingerprint string, answer []byte, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(now)
	s.entries[token] = tokenEntry{fingerprint: fingerprint, answer: answer, stored: now}
	s.order = append(s.order, tokenOrder{token: token, stored: now})
}

func (s *tokenStore) expire(now time.Time) {
	n := 0
	for n < len(s.order) && now.Sub(s.order[n].stored) >= idempotencyWindow {
		o := s.order[n]
		if e, ok := s.entries[o.token]; ok && e.stored.Equal(o.stored) {
			delete(s.entries, o.token)
		}
		n++
	}
	if n > 0 {
		s.order = append(s.order[:0:0], s.order[n:]...)
	}
}

// requestFingerprint identifies what a transaction asks for: its actions,
// in canonical JSON (sorted keys, numbers as written). The token itself and
// ReturnConsumedCapacity are not part of it, as with AWS.
func requestFingerprint(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v struct{ TransactItems any }
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	canon, err := json.Marshal(v.TransactItems)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}
