package amazonfake

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// Login with Amazon's error descriptions, as Amazon words them; the grant
// type's follows RFC 6749, for a request a client of ours never sends.
const (
	descInvalidGrant     = "The request has an invalid grant parameter : refresh_token"
	descRevokedGrant     = "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission."
	descInvalidClient    = "Client authentication failed"
	descMalformed        = "Malformed request"
	descUnsupportedGrant = "The authorization grant type is not supported by the authorization server"
)

// lwaError is LWA's OAuth error body; LWA writes error_description first.
type lwaError struct {
	ErrorDescription string `json:"error_description"`
	Error            string `json:"error"`
	ErrorIndex       string `json:"error_index,omitempty"`
}

type lwaToken struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// handleToken is LWA's token endpoint for the refresh-token grant: client
// credentials and refresh token in a form-encoded body.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counters.TokenRequests++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")

	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		writeLWAError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return
	}
	form := r.PostForm
	grantType, clientID, clientSecret, refreshToken :=
		form.Get("grant_type"), form.Get("client_id"), form.Get("client_secret"), form.Get("refresh_token")
	if grantType == "" || clientID == "" || clientSecret == "" {
		writeLWAError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return
	}
	if grantType != "refresh_token" {
		writeLWAError(w, http.StatusBadRequest, "unsupported_grant_type", descUnsupportedGrant)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	secret, known := s.clients[clientID]
	if !known || subtle.ConstantTimeCompare([]byte(secret), []byte(clientSecret)) != 1 {
		writeLWAError(w, http.StatusUnauthorized, "invalid_client", descInvalidClient)
		return
	}
	if refreshToken == "" {
		writeLWAError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return
	}
	seller, known := s.sellers[refreshToken]
	if !known || seller.ClientID != clientID {
		// A refresh token is bound to the app it was issued to.
		writeLWAError(w, http.StatusBadRequest, "invalid_grant", descInvalidGrant)
		return
	}
	if s.isRevoked(refreshToken) {
		writeLWAError(w, http.StatusBadRequest, "invalid_grant", descRevokedGrant)
		return
	}

	now := s.now()
	s.forgetExpiredTokens(now)
	token := newAccessToken()
	s.tokens[token] = accessGrant{refreshToken: refreshToken, expiresAt: now.Add(accessTokenLifetime)}
	s.counters.TokenGrants++
	fakeserver.WriteJSON(w, http.StatusOK, lwaToken{
		AccessToken:  token,
		RefreshToken: refreshToken,
		TokenType:    "bearer",
		ExpiresIn:    int(accessTokenLifetime / time.Second),
	})
}

func writeLWAError(w http.ResponseWriter, status int, code, description string) {
	body := lwaError{ErrorDescription: description, Error: code}
	if code == "invalid_request" {
		body.ErrorIndex = newRequestID() // LWA adds an id to look the failure up with
	}
	fakeserver.WriteJSON(w, status, body)
}

// isRevoked reports whether the seller withdrew the authorization of
// refreshToken. s.mu is held.
func (s *Server) isRevoked(refreshToken string) bool {
	return slices.Contains(s.faults.RevokedRefreshTokens, refreshToken)
}

// sellerOf returns the seller an access token acts for, if the token is
// current: issued here, not expired, and from an authorization neither
// revoked nor removed. s.mu is held.
func (s *Server) sellerOf(accessToken string, now time.Time) (Seller, bool) {
	grant, ok := s.tokens[accessToken]
	if !ok || !now.Before(grant.expiresAt) || s.isRevoked(grant.refreshToken) {
		return Seller{}, false
	}
	seller, ok := s.sellers[grant.refreshToken]
	return seller, ok
}

// forgetExpiredTokens keeps the token table from growing in a long sandbox
// session. s.mu is held.
func (s *Server) forgetExpiredTokens(now time.Time) {
	for token, grant := range s.tokens {
		if !now.Before(grant.expiresAt) {
			delete(s.tokens, token)
		}
	}
}
