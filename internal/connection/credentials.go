package connection

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/dainostore/jobs/internal/marketplace"
)

// Credentials are what a store gives to connect a marketplace.
type Credentials interface {
	// Validate checks the fields before anyone calls the marketplace.
	Validate() error
	// Account is the public part: what names the account, no secret.
	Account() map[string]any
}

// Shopify is a shop's Admin API access token.
type Shopify struct {
	ShopDomain  string `json:"shop_domain"`
	AccessToken string `json:"access_token"`
}

var shopDomainPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}\.myshopify\.com$`)

// Validate checks the shop's domain and that a token is given.
func (c Shopify) Validate() error {
	if !shopDomainPattern.MatchString(c.ShopDomain) {
		return fmt.Errorf("shop_domain %q is not a shop's myshopify.com domain, such as acme.myshopify.com", c.ShopDomain)
	}
	return required(map[string]string{"access_token": c.AccessToken})
}

// Account names the shop.
func (c Shopify) Account() map[string]any { return map[string]any{"shop_domain": c.ShopDomain} }

// Akeneo is a PIM's address and its API connection (client and user).
type Akeneo struct {
	BaseURL      string `json:"base_url"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	// Locale and Scope choose which values become titles and descriptions.
	Locale string `json:"locale,omitempty"`
	Scope  string `json:"scope,omitempty"`
}

// Validate checks the PIM's URL and that every credential is given.
func (c Akeneo) Validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("base_url %q is not the PIM's address, such as https://acme.cloud.akeneo.com", c.BaseURL)
	}
	return required(map[string]string{"client_id": c.ClientID, "client_secret": c.ClientSecret, "username": c.Username, "password": c.Password})
}

// Account names the PIM and its API user.
func (c Akeneo) Account() map[string]any {
	return map[string]any{"base_url": c.BaseURL, "username": c.Username}
}

// Amazon is a seller's Login with Amazon application and authorization.
type Amazon struct {
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret"`
	RefreshToken   string   `json:"refresh_token"`
	SellerID       string   `json:"seller_id"`
	MarketplaceIDs []string `json:"marketplace_ids"`
	Region         string   `json:"region"`
}

// Validate checks that every field is given and the region is Amazon's.
func (c Amazon) Validate() error {
	if err := required(map[string]string{"client_id": c.ClientID, "client_secret": c.ClientSecret, "refresh_token": c.RefreshToken, "seller_id": c.SellerID}); err != nil {
		return err
	}
	switch c.Region {
	case "na", "eu", "fe":
	default:
		return fmt.Errorf("region %q is not one of na, eu, fe", c.Region)
	}
	if len(c.MarketplaceIDs) == 0 {
		return errors.New("marketplace_ids must name at least one marketplace, such as ATVPDKIKX0DER")
	}
	return nil
}

// Account names the seller and its marketplaces.
func (c Amazon) Account() map[string]any {
	return map[string]any{"seller_id": c.SellerID, "marketplace_ids": c.MarketplaceIDs, "region": c.Region}
}

// Ebay is a seller's eBay application and authorization.
type Ebay struct {
	ClientID        string `json:"client_id"`
	ClientSecret    string `json:"client_secret"`
	RefreshToken    string `json:"refresh_token"`
	MarketplaceID   string `json:"marketplace_id"`
	ContentLanguage string `json:"content_language"`
	// Listing settings of the seller's account that every offer names: the
	// inventory location, the three business policies and the eBay category
	// products are listed in. Optional to connect; an export needs them.
	MerchantLocationKey string `json:"merchant_location_key,omitempty"`
	FulfillmentPolicyID string `json:"fulfillment_policy_id,omitempty"`
	PaymentPolicyID     string `json:"payment_policy_id,omitempty"`
	ReturnPolicyID      string `json:"return_policy_id,omitempty"`
	CategoryID          string `json:"category_id,omitempty"`
}

var (
	ebayMarketplacePattern = regexp.MustCompile(`^EBAY_[A-Z_]{2,10}$`)
	languagePattern        = regexp.MustCompile(`^[a-z]{2}-[A-Z]{2}$`)
)

// Validate checks that every field is given, and the marketplace and language look like eBay's.
func (c Ebay) Validate() error {
	if err := required(map[string]string{"client_id": c.ClientID, "client_secret": c.ClientSecret, "refresh_token": c.RefreshToken}); err != nil {
		return err
	}
	if !ebayMarketplacePattern.MatchString(c.MarketplaceID) {
		return fmt.Errorf("marketplace_id %q is not an eBay marketplace id, such as EBAY_US", c.MarketplaceID)
	}
	if !languagePattern.MatchString(c.ContentLanguage) {
		return fmt.Errorf("content_language %q is not a language tag such as en-US", c.ContentLanguage)
	}
	return nil
}

// MissingListingSettings names the listing settings an export needs that
// the connection lacks.
func (c Ebay) MissingListingSettings() []string {
	var missing []string
	for _, f := range []struct{ name, value string }{
		{"merchant_location_key", c.MerchantLocationKey}, {"fulfillment_policy_id", c.FulfillmentPolicyID},
		{"payment_policy_id", c.PaymentPolicyID}, {"return_policy_id", c.ReturnPolicyID}, {"category_id", c.CategoryID},
	} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	return missing
}

// Account names the marketplace and language, and the listing settings
// (account data, not secrets).
func (c Ebay) Account() map[string]any {
	account := map[string]any{"marketplace_id": c.MarketplaceID, "content_language": c.ContentLanguage}
	for name, value := range map[string]string{
		"merchant_location_key": c.MerchantLocationKey, "fulfillment_policy_id": c.FulfillmentPolicyID,
		"payment_policy_id": c.PaymentPolicyID, "return_policy_id": c.ReturnPolicyID, "category_id": c.CategoryID,
	} {
		if value != "" {
			account[name] = value
		}
	}
	return account
}

// Decode reads a marketplace's credentials from a request body (strictly:
// an unknown field is an error, so a typo is never silently dropped) and
// validates them.
func Decode(name string, body []byte) (Credentials, error) {
	var creds Credentials
	switch name {
	case marketplace.Shopify:
		creds = &Shopify{}
	case marketplace.Akeneo:
		creds = &Akeneo{}
	case marketplace.Amazon:
		creds = &Amazon{}
	case marketplace.Ebay:
		creds = &Ebay{}
	default:
		return nil, fmt.Errorf("marketplace %q is not one of %s", name, strings.Join(marketplace.Names, ", "))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(creds); err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("credentials for %s: one JSON object expected", name)
	}
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	return creds, nil
}

// required names the first empty field, in a stable order.
func required(fields map[string]string) error {
	var missing []string
	for name, v := range fields {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("%s must not be empty", strings.Join(missing, ", "))
}
