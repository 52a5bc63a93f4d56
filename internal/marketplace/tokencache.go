package marketplace

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// tokenRenewBefore is how long before its expiry an access token is
// renewed, so a request that starts with it does not arrive with an
// expired one.
const tokenRenewBefore = time.Minute

// GrantFunc asks a marketplace's token endpoint for a new access token and
// says how long it lives.
type GrantFunc func(ctx context.Context) (token string, lifetime time.Duration, err error)

// TokenCache is a client's current OAuth access token. One grant runs at a
// time and the callers that arrive meanwhile take its result. The lock is a
// one-slot channel rather than a mutex so a waiting caller can give up with
// its context. It is safe for concurrent use.
type TokenCache struct {
	marketplace string
	now         func() time.Time
	lock        chan struct{}
	token       string
	renewAt     time.Time
}

// NewTokenCache returns an empty cache for a client of the named
// marketplace, whose tokens expire on now (nil means time.Now).
func NewTokenCache(marketplace string, now func() time.Time) *TokenCache {
	if now == nil {
		now = time.Now
	}
	return &TokenCache{marketplace: marketplace, now: now, lock: make(chan struct{}, 1)}
}

// Token returns the cached access token while it has more than a minute to
// live, otherwise one from grant. rejected, when not empty, is a token the
// marketplace just refused: if it is still the cached one it is renewed,
// but a token another caller renewed meanwhile is taken as it is, so one
// rejection costs one grant.
func (c *TokenCache) Token(ctx context.Context, rejected string, grant GrantFunc) (string, error) {
	select {
	case c.lock <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("%s access token: %w", c.marketplace, ctx.Err())
	}
	defer func() { <-c.lock }()

	if c.token != "" && c.token != rejected && c.now().Before(c.renewAt) {
		return c.token, nil
	}
	c.token = ""
	requestedAt := c.now()
	token, lifetime, err := grant(ctx)
	if err != nil {
		return "", err
	}
	c.token = token
	c.renewAt = requestedAt.Add(lifetime - min(tokenRenewBefore, lifetime/2))
	return token, nil
}

// TokenRejectedError is an API's refusal of the access token a request
// carried. The token may have expired early or been revoked with the
// seller's grant; only a fresh grant tells which, so Call renews it once
// before calling it a rejected credential.
type TokenRejectedError struct {
	Reason string
}

func (e *TokenRejectedError) Error() string { return "access token rejected: " + e.Reason }

// Call runs send with the access token and, when send answers
// *TokenRejectedError, once more with a renewed one. A token rejected
// right after its renewal is a *CredentialError with the API's reason.
func (c *TokenCache) Call(ctx context.Context, grant GrantFunc, send func(token string) error) error {
	token, err := c.Token(ctx, "", grant)
	if err != nil {
		return err
	}
	err = send(token)
	var rejected *TokenRejectedError
	if !errors.As(err, &rejected) {
		return err
	}
	if token, err = c.Token(ctx, token, grant); err != nil {
		return err
	}
	err = send(token)
	if errors.As(err, &rejected) {
		return &CredentialError{Marketplace: c.marketplace, Reason: rejected.Reason}
	}
	return err
}
