package ebay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
)

// renewBefore is how long before its expiry an access token is renewed, so
// a request that starts with it does not arrive with an expired one.
const renewBefore = time.Minute

// tokenCache is the current access token. One grant runs at a time and the
// callers that arrive meanwhile take its result. The lock is a one-slot
// channel rather than a mutex so a waiting caller can give up with its
// context.
type tokenCache struct {
	lock    chan struct{}
	token   string
	renewAt time.Time
}

func newTokenCache() tokenCache { return tokenCache{lock: make(chan struct{}, 1)} }

// AccessToken returns a user access token for the seller, from the cache
// while it has more than a minute to live, otherwise from a new
// refresh-token grant.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	return c.accessToken(ctx, "")
}

// accessToken is AccessToken that also renews the cached token when it is
// the one an API just rejected. A token renewed by another caller meanwhile
// is taken as it is: one rejection costs one grant.
func (c *Client) accessToken(ctx context.Context, rejected string) (string, error) {
	select {
	case c.token.lock <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("ebay access token: %w", ctx.Err())
	}
	defer func() { <-c.token.lock }()

	if c.token.token != "" && c.token.token != rejected && c.now().Before(c.token.renewAt) {
		return c.token.token, nil
	}
	c.token.token = ""
	requestedAt := c.now()
	grant, err := c.refreshGrant(ctx)
	if err != nil {
		return "", err
	}
	lifetime := time.Duration(grant.ExpiresIn) * time.Second
	c.token.token = grant.AccessToken
	c.token.renewAt = requestedAt.Add(lifetime - min(renewBefore, lifetime/2))
	return grant.AccessToken, nil
}

// oauthToken is eBay's answer to a refresh-token grant.
type oauthToken struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"` // "User Access Token"
}

// oauthError is eBay's OAuth error body.
type oauthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// credentialErrorCodes are the OAuth errors that mean the store's
// credentials are wrong, withdrawn, or short of a scope the seller must
// grant.
var credentialErrorCodes = map[string]bool{
	"invalid_grant":       true,
	"invalid_client":      true,
	"unauthorized_client": true,
	"invalid_scope":       true,
}

func (c *Client) refreshGrant(ctx context.Context) (oauthToken, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {c.creds.RefreshToken},
		"scope":         {strings.Join(c.scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/identity/v1/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return oauthToken{}, fmt.Errorf("ebay access token: %w", err)
	}
	// eBay takes the keyset as it is, base64(client_id:client_secret),
	// without the form-encoding RFC 6749 describes.
	req.SetBasicAuth(c.creds.ClientID, c.creds.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return oauthToken{}, fmt.Errorf("ebay access token: %w", err)
	}
	defer drainAndClose(resp.Body)

	if resp.StatusCode == http.StatusOK {
		var token oauthToken
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&token); err != nil {
			return oauthToken{}, fmt.Errorf("ebay access token: decode answer: %w", err)
		}
		if token.AccessToken == "" || token.ExpiresIn <= 0 {
			return oauthToken{}, errors.New("ebay access token: answer without access_token or expires_in")
		}
		return token, nil
	}

	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var oauthErr oauthError
	_ = json.Unmarshal(raw, &oauthErr)
	reason := oauthErr.ErrorDescription
	if reason == "" {
		reason = oauthErr.Error
	}
	if reason == "" {
		reason = errorReason(nil, raw, resp.StatusCode)
	}
	switch status := resp.StatusCode; {
	case (status == http.StatusBadRequest || status == http.StatusUnauthorized) && credentialErrorCodes[oauthErr.Error]:
		return oauthToken{}, &marketplace.CredentialError{Marketplace: marketplace.Ebay, Reason: reason}
	case status == http.StatusTooManyRequests:
		wait, _ := retryAfter(resp.Header, c.now())
		return oauthToken{}, &marketplace.RateLimitError{Marketplace: marketplace.Ebay, Wait: wait, Reason: reason}
	case status >= 500 || status == http.StatusRequestTimeout:
		return oauthToken{}, fmt.Errorf("ebay access token: HTTP %d: %s", status, reason)
	default:
		return oauthToken{}, &marketplace.PermanentError{Marketplace: marketplace.Ebay, Status: status, Reason: reason}
	}
}
