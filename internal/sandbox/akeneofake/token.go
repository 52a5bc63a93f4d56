package akeneofake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
)

// maxTokenRequestBytes bounds the token request's body; Akeneo answers a
// larger one 413.
const maxTokenRequestBytes = 2048

// Akeneo's reasons for refusing a grant, all answered 422.
const (
	msgBadClient       = `Parameter "client_id" is missing or does not match any client, or secret is invalid`
	msgBadUser         = "No user found for the given username and password"
	msgBadRefreshToken = "Refresh token is invalid or has expired"
	msgMissingParams   = `Parameter "grant_type", "username" or "password" is missing, empty or invalid`
)

// serveToken is POST /api/oauth/v1/token: the password and refresh grants,
// with the client authenticated by Basic and the grant in a JSON or form
// body.
func (f *Fake) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("No route found for \"%s %s\": Method Not Allowed (Allow: POST)", r.Method, r.URL.Path))
		return
	}
	f.mu.Lock()
	f.counters.TokenRequests++
	f.mu.Unlock()
	grant, err := readGrant(w, r)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request content exceeded the maximum allowed size of %d bytes", maxTokenRequestBytes))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "Invalid json message received")
		return
	}

	clientID, secret, _ := r.BasicAuth()
	f.mu.Lock()
	client, known := f.clients[clientID]
	f.mu.Unlock()
	if !known || client.secret != secret || clientID == "" {
		writeError(w, http.StatusUnprocessableEntity, msgBadClient)
		return
	}
	// A grant is a call like any other for the limit on concurrent calls.
	if !f.enter(w, clientID) {
		return
	}
	defer f.leave(clientID)
	if !f.delay(r) {
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	switch grant["grant_type"] {
	case "password":
		if grant["username"] == "" || grant["password"] == "" {
			writeError(w, http.StatusUnprocessableEntity, msgMissingParams)
			return
		}
		if f.faults.RevokedCredentials || grant["username"] != client.username || grant["password"] != client.password {
			writeError(w, http.StatusUnprocessableEntity, msgBadUser)
			return
		}
		f.counters.PasswordGrants++
	case "refresh_token":
		issued, ok := f.refresh[grant["refresh_token"]]
		if !ok || issued.clientID != clientID || !f.opts.Now().Before(issued.expiresAt) || f.faults.RevokedCredentials {
			writeError(w, http.StatusUnprocessableEntity, msgBadRefreshToken)
			return
		}
		// A refresh token is good for one refresh.
		delete(f.refresh, grant["refresh_token"])
		f.counters.RefreshGrants++
	default:
		writeError(w, http.StatusUnprocessableEntity, msgMissingParams)
		return
	}

	access, refresh := newToken(), newToken()
	now := f.opts.Now()
	f.access[access] = &issuedToken{clientID: clientID, expiresAt: now.Add(f.opts.TokenTTL)}
	f.refresh[refresh] = &issuedToken{clientID: clientID, expiresAt: now.Add(refreshTokenTTL)}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  access,
		"expires_in":    int(f.opts.TokenTTL.Seconds()),
		"token_type":    "bearer",
		"scope":         nil,
		"refresh_token": refresh,
	})
}

// readGrant reads the grant's parameters from a JSON or a form body.
func readGrant(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "application/x-www-form-urlencoded" {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		grant := map[string]string{}
		for _, key := range []string{"grant_type", "username", "password", "refresh_token"} {
			grant[key] = r.PostForm.Get(key)
		}
		return grant, nil
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return nil, err
	}
	grant := map[string]string{}
	for key, v := range body {
		if s, ok := v.(string); ok {
			grant[key] = s
		}
	}
	return grant, nil
}

// newToken returns a token as opaque as Akeneo's.
func newToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
