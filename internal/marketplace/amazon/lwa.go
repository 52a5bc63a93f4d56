package amazon

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

// AccessToken returns an LWA access token for the seller, from the cache
// while it has more than a minute to live, otherwise from a new
// refresh-token grant.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	return c.token.Token(ctx, "", c.refreshGrant)
}

// lwaToken is LWA's answer to a grant. LWA may also return the refresh
// token; it is the one sent, so the stored credentials stay as they are.
type lwaToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// lwaError is LWA's OAuth error body.
type lwaError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// credentialErrorCodes are the OAuth errors that mean the store's
// credentials are wrong or withdrawn. invalid_request is among them because
// the request is built from those values: LWA answers it to a value it
// cannot parse, which only the store can fix.
var credentialErrorCodes = map[string]bool{
	"invalid_grant":       true,
	"invalid_client":      true,
	"unauthorized_client": true,
	"invalid_request":     true,
}

// refreshGrant is the marketplace.GrantFunc of the client's token cache.
func (c *Client) refreshGrant(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {c.creds.RefreshToken},
		"client_id":     {c.creds.ClientID},
		"client_secret": {c.creds.ClientSecret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.lwaURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("amazon access token: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("amazon access token: %w", err)
	}
	defer drainAndClose(resp.Body)

	if resp.StatusCode == http.StatusOK {
		var token lwaToken
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&token); err != nil {
			return "", 0, fmt.Errorf("amazon access token: decode answer: %w", err)
		}
		if token.AccessToken == "" || token.ExpiresIn <= 0 {
			return "", 0, errors.New("amazon access token: answer without access_token or expires_in")
		}
		return token.AccessToken, time.Duration(token.ExpiresIn) * time.Second, nil
	}

	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	var oauthErr lwaError
	_ = json.Unmarshal(raw, &oauthErr)
	reason := oauthErr.ErrorDescription
	if reason == "" {
		reason = oauthErr.Error
	}
	if reason == "" {
		reason = http.StatusText(resp.StatusCode)
	}
	switch status := resp.StatusCode; {
	case (status == http.StatusBadRequest || status == http.StatusUnauthorized) && credentialErrorCodes[oauthErr.Error]:
		return "", 0, &marketplace.CredentialError{Marketplace: marketplace.Amazon, Reason: reason}
	case status == http.StatusTooManyRequests:
		return "", 0, &marketplace.RateLimitError{Marketplace: marketplace.Amazon, Wait: c.rateLimitWait(resp.Header), Reason: reason}
	case status >= 500 || status == http.StatusRequestTimeout:
		return "", 0, fmt.Errorf("amazon access token: HTTP %d: %s", status, reason)
	default:
		return "", 0, &marketplace.PermanentError{Marketplace: marketplace.Amazon, Status: status, Reason: reason}
	}
}
