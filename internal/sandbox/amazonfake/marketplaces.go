package amazonfake

import (
	"maps"
	"slices"
)

// marketplace is the Sellers API's Marketplace.
type marketplace struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	CountryCode         string `json:"countryCode"`
	DefaultCurrencyCode string `json:"defaultCurrencyCode"`
	DefaultLanguageCode string `json:"defaultLanguageCode"`
	DomainName          string `json:"domainName"`
}

// knownMarketplaces are the marketplaces a fake seller can sell in, by id:
// the ones a store of ours is likely to export to, in the three regions.
var knownMarketplaces = indexByID([]marketplace{
	// North America (na)
	{"ATVPDKIKX0DER", "Amazon.com", "US", "USD", "en_US", "www.amazon.com"},
	{"A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "CAD", "en_CA", "www.amazon.ca"},
	{"A1AM78C64UM0Y8", "Amazon.com.mx", "MX", "MXN", "es_MX", "www.amazon.com.mx"},
	{"A2Q3Y263D00KWC", "Amazon.com.br", "BR", "BRL", "pt_BR", "www.amazon.com.br"},
	// Europe (eu)
	{"A1F83G8C2ARO7P", "Amazon.co.uk", "GB", "GBP", "en_GB", "www.amazon.co.uk"},
	{"A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", "de_DE", "www.amazon.de"},
	{"A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR", "fr_FR", "www.amazon.fr"},
	{"APJ6JRA9NG5V4", "Amazon.it", "IT", "EUR", "it_IT", "www.amazon.it"},
	{"A1RKKUPIHCS9HS", "Amazon.es", "ES", "EUR", "es_ES", "www.amazon.es"},
	{"A1805IZSGTT6HS", "Amazon.nl", "NL", "EUR", "nl_NL", "www.amazon.nl"},
	{"A2NODRKZP88ZB9", "Amazon.se", "SE", "SEK", "sv_SE", "www.amazon.se"},
	{"A1C3SOZRARQ6R3", "Amazon.pl", "PL", "PLN", "pl_PL", "www.amazon.pl"},
	// Far East (fe)
	{"A1VC38T7YXB528", "Amazon.co.jp", "JP", "JPY", "ja_JP", "www.amazon.co.jp"},
	{"A39IBJ37TRP1C6", "Amazon.com.au", "AU", "AUD", "en_AU", "www.amazon.com.au"},
	{"A19VAU5U5O7RUS", "Amazon.sg", "SG", "SGD", "en_SG", "www.amazon.sg"},
})

func indexByID(list []marketplace) map[string]marketplace {
	byID := make(map[string]marketplace, len(list))
	for _, m := range list {
		byID[m.ID] = m
	}
	return byID
}

// KnownMarketplaceIDs lists the marketplace ids a Seller may name, sorted.
func KnownMarketplaceIDs() []string {
	return slices.Sorted(maps.Keys(knownMarketplaces))
}
