package ebay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
)

// AccessToken returns a user access token for the seller, from the cache
// while it has more than a minute to live, otherwise from a new
// refresh-token grant.
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	return c.token.Token(ctx, "", c.refreshGrant)
}

// oauthToken is eBay's answer to a grant.
type oauthToken struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"` // "User Access Token" or "Application Access Token"
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

// refreshGrant is the marketplace.GrantFunc of the client's user token.
func (c *Client) refreshGrant(ctx context.Context) (string, time.Duration, error) {
	return c.grant(ctx, "access token", url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {c.creds.RefreshToken},
		"scope":         {strings.Join(c.scopes, " ")},
	})
}

// applicationGrant is the marketplace.GrantFunc of the app's own token:
// the client-credentials grant, which eBay allows an app 1,000 times a day
// (https://developer.ebay.com/api-docs/static/oauth-rate-limits.html).
func (c *Client) applicationGrant(ctx context.Context) (string, time.Duration, error) {
	return c.grant(ctx, "application token", url.Values{
		"grant_type": {"client_credentials"},
		"scope":      {scopeApplication},
	})
}

// grant asks eBay's token endpoint for the token of form; what names it in
// errors.
func (c *Client) grant(ctx context.Context, what string, form url.Values) (string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/identity/v1/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("ebay %s: %w", what, err)
	}
	// eBay takes the keyset as it is, base64(client_id:client_secret),
	// without the form-encoding RFC 6749 describes.
	req.SetBasicAuth(c.creds.ClientID, c.creds.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("ebay %s: %w", what, err)
	}
	defer drainAndClose(resp.Body)

	if resp.StatusCode == http.StatusOK {
		var token oauthToken
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&token); err != nil {
			return "", 0, fmt.Errorf("ebay %s: decode answer: %w", what, err)
		}
		if token.AccessToken == "" || token.ExpiresIn <= 0 {
			return "", 0, fmt.Errorf("ebay %s: answer without access_token or expires_in", what)
		}
		return token.AccessToken, time.Duration(token.ExpiresIn) * time.Second, nil
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
		return "", 0, &marketplace.CredentialError{Marketplace: marketplace.Ebay, Reason: reason}
	case status == http.StatusTooManyRequests:
		wait, _ := retryAfter(resp.Header, c.now())
		return "", 0, &marketplace.RateLimitError{Marketplace: marketplace.Ebay, Wait: wait, Reason: reason}
	case status >= 500 || status == http.StatusRequestTimeout:
		return "", 0, fmt.Errorf("ebay %s: HTTP %d: %s", what, status, reason)
	default:
		return "", 0, &marketplace.PermanentError{Marketplace: marketplace.Ebay, Status: status, Reason: reason}
	}
}
