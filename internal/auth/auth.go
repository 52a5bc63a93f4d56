// Package auth says who is calling the API. Deployed, API Gateway's JWT
// authorizer validates the token and the API reads the claims it passes on;
// locally, the process validates the same tokens itself. Either way the
// claims become a Principal: a store, which sees only its own jobs, or an
// operator, which sees every store and controls the queue.
package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/dainostore/jobs/internal/lambdaadapter"
)

// Claim names and the operator scope, shared by both authenticators and the
// token minter.
const (
	StoreClaim    = "store_id"
	ScopeClaim    = "scope"
	OperatorScope = "jobs:admin"
)

// Principal is an authenticated caller.
type Principal struct {
	Subject string
	// StoreID is the store a store principal acts for; empty for operators.
	StoreID string
	// Operator principals see all stores and control the queue.
	Operator bool
}

// CanSee reports whether the principal may see and act on a store's jobs.
func (p Principal) CanSee(storeID string) bool { return p.Operator || p.StoreID == storeID }

// ErrUnauthenticated means the request carries no valid credentials.
var ErrUnauthenticated = errors.New("unauthenticated")

// Authenticator finds the principal of a request.
type Authenticator interface {
	Authenticate(r *http.Request) (Principal, error)
}

// fromClaims turns validated claims into a principal: the operator scope
// wins; otherwise the store claim is required.
func fromClaims(subject, storeID, scope string) (Principal, error) {
	for _, s := range strings.Fields(scope) {
		if s == OperatorScope {
			return Principal{Subject: subject, Operator: true}, nil
		}
	}
	if storeID == "" {
		return Principal{}, errors.New("token has neither a store_id claim nor the jobs:admin scope")
	}
	return Principal{Subject: subject, StoreID: storeID}, nil
}

// Gateway reads the claims that API Gateway's JWT authorizer validated and
// passed to the API Lambda. A request without them is refused: the routes
// stay closed even if the authorizer were missing from the stack.
type Gateway struct{}

// Authenticate implements Authenticator.
func (Gateway) Authenticate(r *http.Request) (Principal, error) {
	event, ok := lambdaadapter.RequestFromContext(r.Context())
	if !ok || event.RequestContext.Authorizer == nil || event.RequestContext.Authorizer.JWT == nil {
		return Principal{}, ErrUnauthenticated
	}
	claims := event.RequestContext.Authorizer.JWT.Claims
	scope := claims[ScopeClaim]
	if scope == "" {
		scope = claims["scp"]
	}
	scope = strings.Join(append(strings.Fields(scope), event.RequestContext.Authorizer.JWT.Scopes...), " ")
	p, err := fromClaims(claims["sub"], claims[StoreClaim], scope)
	if err != nil {
		return Principal{}, errors.Join(ErrUnauthenticated, err)
	}
	return p, nil
}

type principalKey struct{}

// WithPrincipal stores the principal in a context.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored by WithPrincipal.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
