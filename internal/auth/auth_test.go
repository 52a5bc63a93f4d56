package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/dainostore/jobs/internal/lambdaadapter"
)

const (
	issuer   = "https://auth.example.com/"
	audience = "background-jobs"
)

func request(token string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "/api/background-jobs/status", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func TestHS256RoundTrip(t *testing.T) {
	t.Parallel()
	secret := []byte("a-secret-that-is-at-least-32-bytes-long")
	v, err := NewHS256Verifier(secret, issuer, audience)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []Principal{{Subject: "owner", StoreID: "store-1"}, {Subject: "ops", Operator: true}} {
		token, err := MintHS256(secret, issuer, audience, want, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Authenticate(request(token))
		if err != nil || got != want {
			t.Errorf("Authenticate = %+v, %v; want %+v", got, err, want)
		}
	}
	if _, err := NewHS256Verifier([]byte("short"), issuer, audience); err == nil {
		t.Error("a short secret was accepted")
	}
}

func TestJWKSVerifier(t *testing.T) {
	t.Parallel()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
	jwks, _ := json.Marshal(set)
	v, err := NewJWKSVerifier(jwks, issuer, audience)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(k *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
		token := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		token.Header["kid"] = kid
		s, err := token.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := jwt.MapClaims{"sub": "u", "store_id": "s1", "iss": issuer, "aud": audience, "exp": time.Now().Add(time.Minute).Unix()}
	if p, err := v.Authenticate(request(sign(key, "k1", claims))); err != nil || p.StoreID != "s1" {
		t.Errorf("valid RS256 token: %+v, %v", p, err)
	}
	for name, token := range map[string]string{
		"unknown kid": sign(key, "k2", claims),
		"another key": sign(other, "k1", claims),
		"HS256 with the kid": func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("x"))
			return s
		}(),
	} {
		if _, err := v.Authenticate(request(token)); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("%s: %v, want unauthenticated", name, err)
		}
	}
}

func TestGatewayReadsTheAuthorizersClaims(t *testing.T) {
	t.Parallel()
	handler := lambdaadapter.HTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := Gateway{}.Authenticate(r)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(p)
	}))
	event := func(claims map[string]string, scopes []string) events.APIGatewayV2HTTPRequest {
		e := events.APIGatewayV2HTTPRequest{RawPath: "/x", RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/x"}}}
		if claims != nil {
			e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes}}
		}
		return e
	}
	tests := []struct {
		name string
		in   events.APIGatewayV2HTTPRequest
		want string
	}{
		{"store", event(map[string]string{"sub": "u", "store_id": "s1"}, nil), `{"Subject":"u","StoreID":"s1","Operator":false}`},
		{"operator by scope claim", event(map[string]string{"sub": "o", "scope": "openid jobs:admin"}, nil), `{"Subject":"o","StoreID":"","Operator":true}`},
		{"operator by scp", event(map[string]string{"sub": "o", "scp": "jobs:admin"}, nil), `{"Subject":"o","StoreID":"","Operator":true}`},
		{"operator by route scopes", event(map[string]string{"sub": "o"}, []string{"jobs:admin"}), `{"Subject":"o","StoreID":"","Operator":true}`},
		{"no claims", event(nil, nil), ""},
		{"neither store nor scope", event(map[string]string{"sub": "u"}, nil), ""},
	}
	for _, tt := range tests {
		resp, err := handler(context.Background(), tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == "" {
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", tt.name, resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusOK || resp.Body != tt.want+"\n" {
			t.Errorf("%s: %d %s, want %s", tt.name, resp.StatusCode, resp.Body, tt.want)
		}
	}
	// Outside Lambda there are no claims at all.
	if _, err := (Gateway{}).Authenticate(request("")); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("no Lambda event: %v", err)
	}
}

func TestCanSee(t *testing.T) {
	t.Parallel()
	store := Principal{StoreID: "a"}
	if !store.CanSee("a") || store.CanSee("b") || store.CanSee("") {
		t.Error("a store sees exactly its own store")
	}
	if !(Principal{Operator: true}).CanSee("anything") {
		t.Error("an operator sees every store")
	}
}
