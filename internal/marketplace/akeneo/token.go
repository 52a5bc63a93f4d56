package akeneo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
)

const (
	// renewAhead is how long before its expiry an access token is renewed,
	// so that no call carries a token that expires on the way.
	renewAhead = 2 * time.Minute
	// assumedTokenLifetime stands in for an expires_in Akeneo left out: its
	// access tokens live an hour.
	assumedTokenLifetime = time.Hour
)

// token is the connection's current pair of tokens.
type token struct {
	access  string
	refresh string
	// renewAt is when the access token is renewed, ahead of its expiry.
	renewAt time.Time
}

// tokenResponse is the token endpoint's answer to a grant.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
}

// Verify checks the connection's credentials with a password grant, the
// cheapest call that proves them, and keeps the tokens it gets.
func (c *Client) Verify(ctx context.Context) error {
	if err := c.lockGranting(ctx); err != nil {
		return err
	}
	defer c.unlockGranting()
	_, err := c.passwordGrant(ctx)
	return err
}

// accessToken returns a usable access token, asking for one if the client
// has none or its own is about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	if access, ok := c.currentToken(); ok {
		return access, nil
	}
	if err := c.lockGranting(ctx); err != nil {
		return "", err
	}
	defer c.unlockGranting()
	// Another caller may have renewed it while this one waited.
	if access, ok := c.currentToken(); ok {
		return access, nil
	}
	return c.renew(ctx)
}

// renewRejected renews the token after Akeneo answered 401 to rejected.
// Callers that were all refused the same token share one renewal.
func (c *Client) renewRejected(ctx context.Context, rejected string) error {
	if err := c.lockGranting(ctx); err != nil {
		return err
	}
	defer c.unlockGranting()
	c.mu.Lock()
	renewed := c.token.access != rejected
	if !renewed {
		c.token.access = ""
	}
	c.mu.Unlock()
	if renewed {
		return nil
	}
	_, err := c.renew(ctx)
	return err
}

func (c *Client) currentToken() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token.access == "" || !c.now().Before(c.token.renewAt) {
		return "", false
	}
	return c.token.access, true
}

// renew gets a new access token: by the refresh grant when the client holds
// a refresh token, by the password grant when it holds none or Akeneo
// rejects it. The caller holds the granting lock.
func (c *Client) renew(ctx context.Context) (string, error) {
	c.mu.Lock()
	refresh := c.token.refresh
	c.mu.Unlock()
	if refresh != "" {
		access, err := c.grant(ctx, map[string]string{"grant_type": "refresh_token", "refresh_token": refresh}, &c.refreshGrants)
		if err == nil {
			return access, nil
		}
		if _, rejected := marketplace.IsCredential(err); !rejected {
			// A rate limit or an outage says nothing about the refresh
			// token; the password grant would meet the same.
			return "", err
		}
	}
	return c.passwordGrant(ctx)
}

func (c *Client) passwordGrant(ctx context.Context) (string, error) {
	return c.grant(ctx, map[string]string{
		"grant_type": "password",
		"username":   c.cfg.Username,
		"password":   c.cfg.Password,
	}, &c.passwordGrants)
}

// grant asks the token endpoint for a new pair of tokens and keeps it. A
// rejected grant forgets the pair the client held, since Akeneo has just
// said it is no good.
func (c *Client) grant(ctx context.Context, body map[string]string, counter *atomic.Int64) (string, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("akeneo: encode token request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/api/oauth/v1/token", nil), bytes.NewReader(payload))
	if err != nil {
		return "", fmt.Errorf("akeneo: token request: %w", err)
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.Secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	counter.Add(1)
	resp, release, err := c.send(req)
	if err != nil {
		return "", err
	}
	defer release()
	if resp.StatusCode != http.StatusOK {
		err := c.tokenError(resp)
		if _, rejected := marketplace.IsCredential(err); rejected {
			c.mu.Lock()
			c.token = token{}
			c.mu.Unlock()
		}
		return "", err
	}
	var answer tokenResponse
	if err := decodeJSON(resp.Body, maxTokenBytes, &answer); err != nil {
		return "", fmt.Errorf("akeneo: token response: %w", err)
	}
	if answer.AccessToken == "" {
		return "", errors.New("akeneo: token response has no access_token")
	}
	lifetime := time.Duration(answer.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = assumedTokenLifetime
	}
	// A short-lived token is renewed halfway through its life rather than
	// before it was even issued.
	ahead := min(renewAhead, lifetime/2)
	c.mu.Lock()
	c.token = token{access: answer.AccessToken, refresh: answer.RefreshToken, renewAt: c.now().Add(lifetime - ahead)}
	c.mu.Unlock()
	return answer.AccessToken, nil
}

// tokenError classifies the token endpoint's refusal. Akeneo wraps every
// refused grant (unknown client, wrong user or password, stale refresh
// token, missing parameter) as a 422 with its reason.
func (c *Client) tokenError(resp *http.Response) error {
	reason := errorMessage(resp)
	switch code := resp.StatusCode; {
	case code == http.StatusUnprocessableEntity, code == http.StatusUnauthorized, code == http.StatusForbidden:
		return &marketplace.CredentialError{Marketplace: marketplace.Akeneo, Reason: reason}
	default:
		return c.statusError(resp, reason)
	}
}

func (c *Client) lockGranting(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("akeneo: waiting for a token: %w", err)
	}
	select {
	case c.granting <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("akeneo: waiting for a token: %w", ctx.Err())
	}
}

func (c *Client) unlockGranting() { <-c.granting }

// decodeJSON decodes one JSON value of at most limit bytes from r.
func decodeJSON(r io.Reader, limit int64, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("response larger than %d bytes", limit)
	}
	return json.Unmarshal(data, v)
}
