package ebayfake

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// eBay's OAuth error descriptions. Those of invalid_grant and
// invalid_client are eBay's words; the others paraphrase RFC 6749's
// definitions of their codes.
const (
	descInvalidGrant     = "the provided authorization refresh token is invalid or was issued to another client"
	descInvalidClient    = "client authentication failed"
	descInvalidScope     = "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"
	descUnsupportedGrant = "grant type in request is not supported by the authorization server"
	descMalformed        = "request is missing a required parameter or malformed."
)

type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

type oauthToken struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	fakeserver.WriteJSON(w, status, oauthError{Error: code, ErrorDescription: description})
}

// handleToken is eBay's token endpoint for the refresh-token grant: the
// app's keyset as Basic credentials, the refresh token and the scopes in a
// form-encoded body.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counters.TokenRequests++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")

	clientID, clientSecret, hasBasic := r.BasicAuth()
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "application/x-www-form-urlencoded" || r.ParseForm() != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return
	}
	form := r.PostForm

	s.mu.Lock()
	defer s.mu.Unlock()
	secret, known := s.clients[clientID]
	if !hasBasic || !known || subtle.ConstantTimeCompare([]byte(secret), []byte(clientSecret)) != 1 {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", descInvalidClient)
		return
	}
	switch form.Get("grant_type") {
	case "refresh_token":
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", descUnsupportedGrant)
		return
	}
	refreshToken := form.Get("refresh_token")
	if refreshToken == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return
	}
	granter, known := s.sellers[refreshToken]
	if !known || granter.ClientID != clientID || s.isRevoked(refreshToken) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", descInvalidGrant)
		return
	}
	// A grant may narrow the scopes, never widen them.
	scopes := granter.Scopes
	if requested := strings.Fields(form.Get("scope")); len(requested) > 0 {
		for _, scope := range requested {
			if !slices.Contains(granter.Scopes, scope) {
				writeOAuthError(w, http.StatusBadRequest, "invalid_scope", descInvalidScope)
				return
			}
		}
		scopes = requested
	}

	now := s.now()
	s.forgetExpiredTokens(now)
	token := newAccessToken()
	s.tokens[token] = accessGrant{refreshToken: refreshToken, scopes: scopes, expiresAt: now.Add(accessTokenLifetime)}
	s.counters.TokenGrants++
	fakeserver.WriteJSON(w, http.StatusOK, oauthToken{
		AccessToken: token,
		ExpiresIn:   int(accessTokenLifetime / time.Second),
		TokenType:   "User Access Token",
	})
}

// isRevoked reports whether the seller withdrew the grant of refreshToken.
// s.mu is held.
func (s *Server) isRevoked(refreshToken string) bool {
	return slices.Contains(s.faults.RevokedRefreshTokens, refreshToken)
}

// grantOf returns what a bearer token grants, if it is current: issued
// here, not expired, and from a grant neither revoked nor removed. s.mu is
// held.
func (s *Server) grantOf(authorization string, now time.Time) (accessGrant, *seller, bool) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return accessGrant{}, nil, false
	}
	grant, ok := s.tokens[token]
	if !ok || !now.Before(grant.expiresAt) || s.isRevoked(grant.refreshToken) {
		return accessGrant{}, nil, false
	}
	granter, ok := s.sellers[grant.refreshToken]
	return grant, granter, ok
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
