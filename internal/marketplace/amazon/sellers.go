package amazon

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/dainostore/jobs/internal/marketplace"
)

// marketplaceParticipation is one marketplace the seller can sell in, as
// the Sellers API describes it.
type marketplaceParticipation struct {
	Marketplace struct {
		ID                  string `json:"id"`
		Name                string `json:"name"`
		CountryCode         string `json:"countryCode"`
		DefaultCurrencyCode string `json:"defaultCurrencyCode"`
		DefaultLanguageCode string `json:"defaultLanguageCode"`
		DomainName          string `json:"domainName"`
	} `json:"marketplace"`
	Participation struct {
		IsParticipating      bool `json:"isParticipating"`
		HasSuspendedListings bool `json:"hasSuspendedListings"`
	} `json:"participation"`
}

// Verify checks the connection with the cheapest calls that prove it works:
// an LWA grant, then the Sellers API's getMarketplaceParticipations. That
// read needs no role beyond the seller's authorization, answers from the
// host of the credentials' region, and its quota (burst 15, then one per
// minute) is separate from the Listings Items API's, so checking a
// connection never slows an export. It also confirms that the seller sells
// in every marketplace of the credentials: a marketplace the seller does not
// sell in (a typo, another account's) is a connection to fix, not a fault
// to retry.
//
// The seller id is not checked here: getMarketplaceParticipations answers
// for the token's seller and does not name it.
func (c *Client) Verify(ctx context.Context) error {
	participations, err := c.marketplaceParticipations(ctx)
	if err != nil {
		return fmt.Errorf("verify amazon connection: %w", err)
	}
	var participating []string
	for _, p := range participations {
		if p.Participation.IsParticipating {
			participating = append(participating, p.Marketplace.ID)
		}
	}
	var missing []string
	for _, id := range c.creds.MarketplaceIDs {
		if !slices.Contains(participating, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		sellsIn := "no marketplace"
		if len(participating) > 0 {
			sellsIn = strings.Join(participating, ", ")
		}
		return &marketplace.CredentialError{
			Marketplace: marketplace.Amazon,
			Reason: fmt.Sprintf("the seller does not sell in marketplace %s of region %s (it sells in %s)",
				strings.Join(missing, ", "), c.creds.Region, sellsIn),
		}
	}
	return nil
}

func (c *Client) marketplaceParticipations(ctx context.Context) ([]marketplaceParticipation, error) {
	var answer struct {
		Payload []marketplaceParticipation `json:"payload"`
	}
	if err := c.call(ctx, http.MethodGet, "/sellers/v1/marketplaceParticipations", nil, nil, &answer); err != nil {
		return nil, err
	}
	return answer.Payload, nil
}
