package ebayfake

import (
	"crypto/subtle"
	"mime"
	"net/http"
	"net/url"
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

// handleToken is eBay's token endpoint: the app's keyset as Basic
// credentials and a form-encoded body, for the refresh-token grant (a user
// token for the seller of the refresh token) or the client-credentials
// grant (an application token for the app itself).
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
	var grant accessGrant
	switch form.Get("grant_type") {
	case "refresh_token":
		var ok bool
		if grant, ok = s.refreshGrant(w, clientID, form); !ok {
			return
		}
	case "client_credentials":
		// An application token carries the base scope only: the one the
		// Developer Analytics API asks for.
		scopes := []string{ScopeApplication}
		if requested := strings.Fields(form.Get("scope")); len(requested) > 0 {
			if slices.ContainsFunc(requested, func(scope string) bool { return scope != ScopeApplication }) {
				writeOAuthError(w, http.StatusBadRequest, "invalid_scope", descInvalidScope)
				return
			}
			scopes = requested
		}
		grant = accessGrant{clientID: clientID, scopes: scopes}
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return
	default:
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", descUnsupportedGrant)
		return
	}

	now := s.now()
	s.forgetExpiredTokens(now)
	token := newAccessToken()
	grant.expiresAt = now.Add(accessTokenLifetime)
	s.tokens[token] = grant
	s.counters.TokenGrants++
	tokenType := "User Access Token"
	if grant.isApplication() {
		tokenType = "Application Access Token"
	}
	fakeserver.WriteJSON(w, http.StatusOK, oauthToken{
		AccessToken: token,
		ExpiresIn:   int(accessTokenLifetime / time.Second),
		TokenType:   tokenType,
	})
}

// refreshGrant checks a refresh-token grant of clientID's app and returns
// what its token will stand for, or answers the OAuth error. s.mu is held.
func (s *Server) refreshGrant(w http.ResponseWriter, clientID string, form url.Values) (accessGrant, bool) {
	refreshToken := form.Get("refresh_token")
	if refreshToken == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", descMalformed)
		return accessGrant{}, false
	}
	granter, known := s.sellers[refreshToken]
	if !known || granter.ClientID != clientID || s.isRevoked(refreshToken) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_grant", descInvalidGrant)
		return accessGrant{}, false
	}
	// A grant may narrow the scopes, never widen them.
	scopes := granter.Scopes
	if requested := strings.Fields(form.Get("scope")); len(requested) > 0 {
		for _, scope := range requested {
			if !slices.Contains(granter.Scopes, scope) {
				writeOAuthError(w, http.StatusBadRequest, "invalid_scope", descInvalidScope)
				return accessGrant{}, false
			}
		}
		scopes = requested
	}
	return accessGrant{clientID: clientID, refreshToken: refreshToken, scopes: scopes}, true
}

// isRevoked reports whether the seller withdrew the grant of refreshToken.
// s.mu is held.
func (s *Server) isRevoked(refreshToken string) bool {
	return slices.Contains(s.faults.RevokedRefreshTokens, refreshToken)
}

// grantOf returns what a bearer token grants, if it is current: issued
// here, not expired, and not from a revoked grant. s.mu is held.
func (s *Server) grantOf(authorization string, now time.Time) (accessGrant, bool) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok {
		return accessGrant{}, false
	}
	grant, ok := s.tokens[token]
	if !ok || !now.Before(grant.expiresAt) || (!grant.isApplication() && s.isRevoked(grant.refreshToken)) {
		return accessGrant{}, false
	}
	return grant, true
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
