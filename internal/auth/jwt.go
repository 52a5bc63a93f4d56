package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// tokenClaims are the claims this API reads.
type tokenClaims struct {
	StoreID string `json:"store_id,omitempty"`
	Scope   string `json:"scope,omitempty"`
	jwt.RegisteredClaims
}

// Verifier validates bearer JWTs itself: signature, expiry, issuer and
// audience. The local process uses it in place of API Gateway's authorizer.
type Verifier struct {
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
}

// NewHS256Verifier validates tokens signed with a shared secret (local
// development and tests).
func NewHS256Verifier(secret []byte, issuer, audience string) (*Verifier, error) {
	if len(secret) < 32 {
		return nil, errors.New("the HS256 secret must be at least 32 bytes")
	}
	return &Verifier{
		parser:  newParser(issuer, audience, jwt.SigningMethodHS256.Alg()),
		keyFunc: func(*jwt.Token) (any, error) { return secret, nil },
	}, nil
}

// NewJWKSVerifier validates tokens signed by any key of a JSON Web Key Set
// (RS256 or ES256), chosen by the token's kid, as API Gateway would with the
// issuer's keys.
func NewJWKSVerifier(jwksJSON []byte, issuer, audience string) (*Verifier, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(jwksJSON, &set); err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("the JWKS has no keys")
	}
	return &Verifier{
		parser: newParser(issuer, audience, "RS256", "ES256"),
		keyFunc: func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			keys := set.Key(kid)
			if len(keys) == 0 {
				return nil, fmt.Errorf("no key with kid %q", kid)
			}
			return keys[0].Public().Key, nil
		},
	}, nil
}

func newParser(issuer, audience string, methods ...string) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(30*time.Second),
	)
}

// Authenticate implements Authenticator for "Authorization: Bearer <jwt>".
func (v *Verifier) Authenticate(r *http.Request) (Principal, error) {
	header := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || raw == "" {
		return Principal{}, fmt.Errorf("%w: no bearer token", ErrUnauthenticated)
	}
	var claims tokenClaims
	if _, err := v.parser.ParseWithClaims(strings.TrimSpace(raw), &claims, v.keyFunc); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	p, err := fromClaims(claims.Subject, claims.StoreID, claims.Scope)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return p, nil
}

// MintHS256 signs a token for a principal, for local development and tests.
func MintHS256(secret []byte, issuer, audience string, p Principal, ttl time.Duration) (string, error) {
	now := time.Now()
	claims := tokenClaims{
		StoreID: p.StoreID,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   p.Subject,
			Issuer:    issuer,
			Audience:  jwt.ClaimStrings{audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
	}
	if p.Operator {
		claims.Scope = OperatorScope
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
}

// LocalDevSecret signs local tokens unless JOBS_AUTH_HS256_SECRET says
// otherwise. It is public: never use it for anything but a local run.
const LocalDevSecret = "local-development-secret-do-not-deploy"

// NewLocalVerifier is the local process's verifier: the JWKS file when one
// is configured, else the HS256 secret.
func NewLocalVerifier(hs256Secret, jwksFile, issuer, audience string) (*Verifier, error) {
	if jwksFile != "" {
		data, err := os.ReadFile(jwksFile)
		if err != nil {
			return nil, fmt.Errorf("read JWKS file: %w", err)
		}
		return NewJWKSVerifier(data, issuer, audience)
	}
	return NewHS256Verifier([]byte(hs256Secret), issuer, audience)
}
