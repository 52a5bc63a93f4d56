package connection

import (
	"context"
	"fmt"
	"net/http"

	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/akeneo"
	"github.com/dainostore/jobs/internal/marketplace/amazon"
	"github.com/dainostore/jobs/internal/marketplace/ebay"
	"github.com/dainostore/jobs/internal/marketplace/shopify"
)

// Clients builds the marketplace clients of a store's credentials, reaching
// each marketplace at the endpoints of the configuration: the marketplace's
// own when deployed, the sandbox's fakes locally and in tests.
type Clients struct {
	// ShopifyEndpoint, when set, replaces https://<shop domain> with
	// <ShopifyEndpoint>/<shop domain>.
	ShopifyEndpoint   string
	ShopifyAPIVersion string
	AmazonLWAURL      string
	AmazonSPAPIURL    string
	EbayAPIURL        string
	// HTTP sends every request (marketplace.NewHTTPClient).
	HTTP *http.Client
}

// Shopify returns a client of the shop.
func (c Clients) Shopify(creds Shopify) (*shopify.Client, error) {
	return shopify.New(shopify.Config{
		ShopDomain: creds.ShopDomain, AccessToken: creds.AccessToken,
		Endpoint: c.ShopifyEndpoint, APIVersion: c.ShopifyAPIVersion, HTTP: c.HTTP,
	})
}

// Akeneo returns a client of the PIM.
func (c Clients) Akeneo(creds Akeneo) (*akeneo.Client, error) {
	return akeneo.New(akeneo.Config{
		BaseURL: creds.BaseURL, ClientID: creds.ClientID, Secret: creds.ClientSecret,
		Username: creds.Username, Password: creds.Password, Locale: creds.Locale, Scope: creds.Scope, HTTP: c.HTTP,
	})
}

// Amazon returns a client of the seller's account.
func (c Clients) Amazon(creds Amazon) (*amazon.Client, error) {
	return amazon.New(amazon.Config{LWAURL: c.AmazonLWAURL, SPAPIURL: c.AmazonSPAPIURL, HTTP: c.HTTP}, amazon.Credentials{
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, RefreshToken: creds.RefreshToken,
		SellerID: creds.SellerID, MarketplaceIDs: creds.MarketplaceIDs, Region: creds.Region,
	})
}

// Ebay returns a client of the seller's account.
func (c Clients) Ebay(creds Ebay) (*ebay.Client, error) {
	return ebay.New(ebay.Config{APIURL: c.EbayAPIURL, HTTP: c.HTTP}, ebay.Credentials{
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, RefreshToken: creds.RefreshToken,
		MarketplaceID: creds.MarketplaceID, ContentLanguage: creds.ContentLanguage,
	})
}

// Verify checks credentials with one cheap call to their marketplace. A
// rejection is a *marketplace.CredentialError.
func (c Clients) Verify(ctx context.Context, name string, creds Credentials) error {
	switch creds := creds.(type) {
	case *Shopify:
		client, err := c.Shopify(*creds)
		if err != nil {
			return err
		}
		_, err = client.Shop(ctx)
		return err
	case *Akeneo:
		client, err := c.Akeneo(*creds)
		if err != nil {
			return err
		}
		return client.Verify(ctx)
	case *Amazon:
		client, err := c.Amazon(*creds)
		if err != nil {
			return err
		}
		return client.Verify(ctx)
	case *Ebay:
		client, err := c.Ebay(*creds)
		if err != nil {
			return err
		}
		return client.Verify(ctx)
	}
	return fmt.Errorf("no client for the credentials of %s (%T)", marketplace.Title(name), creds)
}
