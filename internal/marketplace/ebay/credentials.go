package ebay

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Credentials are what a store's connection to eBay holds: our app's
// keyset, the refresh token the seller granted it, and the eBay site and
// language the store lists in.
type Credentials struct {
	ClientID     string // the app's App ID
	ClientSecret string // the app's Cert ID
	RefreshToken string // v^1.1#…
	// MarketplaceID is the eBay site offers are published to, such as
	// EBAY_US, EBAY_GB or EBAY_DE.
	MarketplaceID string
	// ContentLanguage is the language of the listings' text, sent as the
	// Content-Language of every write: en-US, en-GB, de-DE, …
	ContentLanguage string
}

var (
	// marketplaceIDPattern is the shape of eBay's MarketplaceIdEnum values
	// (EBAY_US, EBAY_MOTORS_US, EBAY_FR, …).
	marketplaceIDPattern = regexp.MustCompile(`^EBAY_[A-Z]{2,}(_[A-Z]{2,})?$`)
	// contentLanguagePattern is the language-COUNTRY form eBay's
	// Content-Language takes.
	contentLanguagePattern = regexp.MustCompile(`^[a-z]{2}-[A-Z]{2}$`)
)

// Validate reports every problem of the credentials at once, so a person
// connecting a store fixes them in one go. It checks shape only; Verify asks
// eBay.
func (c Credentials) Validate() error {
	var problems []string
	required := []struct{ name, value string }{
		{"client id", c.ClientID},
		{"client secret", c.ClientSecret},
		{"refresh token", c.RefreshToken},
	}
	for _, field := range required {
		switch {
		case field.value == "":
			problems = append(problems, field.name+" is missing")
		case strings.TrimSpace(field.value) != field.value:
			// A value pasted with its line break would fail at eBay with a
			// message that does not say why.
			problems = append(problems, field.name+" has leading or trailing spaces")
		}
	}
	switch {
	case c.MarketplaceID == "":
		problems = append(problems, "marketplace id is missing (such as EBAY_US)")
	case !marketplaceIDPattern.MatchString(c.MarketplaceID):
		problems = append(problems, fmt.Sprintf("marketplace id %q is not an eBay marketplace id (such as EBAY_US)", c.MarketplaceID))
	}
	switch {
	case c.ContentLanguage == "":
		problems = append(problems, "content language is missing (such as en-US)")
	case !contentLanguagePattern.MatchString(c.ContentLanguage):
		problems = append(problems, fmt.Sprintf("content language %q is not of the form en-US", c.ContentLanguage))
	}
	if len(problems) > 0 {
		return errors.New("ebay credentials: " + strings.Join(problems, "; "))
	}
	return nil
}
