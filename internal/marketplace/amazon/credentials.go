package amazon

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Regions of SP-API, each with its own host.
const (
	RegionNorthAmerica = "na"
	RegionEurope       = "eu"
	RegionFarEast      = "fe"
)

// regionHosts are SP-API's production hosts by region.
var regionHosts = map[string]string{
	RegionNorthAmerica: "https://sellingpartnerapi-na.amazon.com",
	RegionEurope:       "https://sellingpartnerapi-eu.amazon.com",
	RegionFarEast:      "https://sellingpartnerapi-fe.amazon.com",
}

// Credentials are what a store's connection to Amazon holds: our app's LWA
// client, the refresh token the seller granted it, and where the seller
// sells.
type Credentials struct {
	ClientID     string // amzn1.application-oa2-client.…
	ClientSecret string
	RefreshToken string // Atzr|…
	SellerID     string // the seller's merchant token, as in the Listings Items API's paths
	// MarketplaceIDs are the marketplaces the store exports to, such as
	// ATVPDKIKX0DER (amazon.com) or A1PA6795UKMFR9 (amazon.de).
	MarketplaceIDs []string
	Region         string // na, eu or fe: the SP-API host that serves the marketplaces
}

// marketplaceIDPattern is the shape of every published marketplace id: an A
// then upper-case letters and digits, 13 or 14 characters in all. The range
// is a little wider so a marketplace Amazon opens tomorrow still passes.
var marketplaceIDPattern = regexp.MustCompile(`^A[0-9A-Z]{9,15}$`)

// Validate reports every problem of the credentials at once, so a person
// connecting a store fixes them in one go. It checks shape only; Verify asks
// Amazon.
func (c Credentials) Validate() error {
	var problems []string
	required := []struct{ name, value string }{
		{"client id", c.ClientID},
		{"client secret", c.ClientSecret},
		{"refresh token", c.RefreshToken},
		{"seller id", c.SellerID},
	}
	for _, field := range required {
		switch {
		case field.value == "":
			problems = append(problems, field.name+" is missing")
		case strings.TrimSpace(field.value) != field.value:
			// A value pasted with its line break would fail at Amazon with a
			// message that does not say why.
			problems = append(problems, field.name+" has leading or trailing spaces")
		}
	}
	if _, ok := regionHosts[c.Region]; !ok {
		if c.Region == "" {
			problems = append(problems, "region is missing (na, eu or fe)")
		} else {
			problems = append(problems, fmt.Sprintf("region %q is not na, eu or fe", c.Region))
		}
	}
	if len(c.MarketplaceIDs) == 0 {
		problems = append(problems, "no marketplace id")
	}
	seen := make(map[string]bool, len(c.MarketplaceIDs))
	for _, id := range c.MarketplaceIDs {
		switch {
		case !marketplaceIDPattern.MatchString(id):
			problems = append(problems, fmt.Sprintf("marketplace id %q is not an Amazon marketplace id (such as ATVPDKIKX0DER)", id))
		case seen[id]:
			problems = append(problems, fmt.Sprintf("marketplace id %s is listed twice", id))
		}
		seen[id] = true
	}
	if len(problems) > 0 {
		return errors.New("amazon credentials: " + strings.Join(problems, "; "))
	}
	return nil
}
