package ebay_test

import (
	"testing"

	"github.com/dainostore/jobs/internal/marketplace/ebay"
)

func TestCredentialsValidate(t *testing.T) {
	t.Parallel()
	valid := ebay.Credentials{
		ClientID:        "DainoSto-jobs-PRD-1234abcd5-6789ef01",
		ClientSecret:    "PRD-secret",
		RefreshToken:    "v^1.1#i^1#r^1#f^0#p^3#t^Ul4xMF8w",
		MarketplaceID:   "EBAY_DE",
		ContentLanguage: "de-DE",
	}
	tests := []struct {
		name   string
		change func(*ebay.Credentials)
		want   string
	}{
		{"valid", func(*ebay.Credentials) {}, ""},
		{"motors", func(c *ebay.Credentials) { c.MarketplaceID = "EBAY_MOTORS_US" }, ""},
		{"nothing", func(c *ebay.Credentials) { *c = ebay.Credentials{} },
			"ebay credentials: client id is missing; client secret is missing; refresh token is missing; " +
				"marketplace id is missing (such as EBAY_US); content language is missing (such as en-US)"},
		{"pasted with a line break", func(c *ebay.Credentials) { c.ClientSecret = " " + c.ClientSecret },
			"ebay credentials: client secret has leading or trailing spaces"},
		{"site name instead of id", func(c *ebay.Credentials) { c.MarketplaceID = "ebay.de" },
			`ebay credentials: marketplace id "ebay.de" is not an eBay marketplace id (such as EBAY_US)`},
		{"underscore language", func(c *ebay.Credentials) { c.ContentLanguage = "de_DE" },
			`ebay credentials: content language "de_DE" is not of the form en-US`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			creds := valid
			tt.change(&creds)
			err := creds.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q\nwant         %q", got, tt.want)
			}
		})
	}
}

func TestNewRejectsUnusableConfig(t *testing.T) {
	t.Parallel()
	creds := ebay.Credentials{ClientID: "id", ClientSecret: "secret", RefreshToken: "v^1.1#x", MarketplaceID: "EBAY_US", ContentLanguage: "en-US"}
	if _, err := ebay.New(ebay.Config{}, creds); err != nil {
		t.Errorf("New with the default URL: %v", err)
	}
	if _, err := ebay.New(ebay.Config{APIURL: "api.ebay.com"}, creds); err == nil {
		t.Errorf("New accepted an API URL without a scheme")
	}
	creds.ContentLanguage = ""
	if _, err := ebay.New(ebay.Config{}, creds); err == nil {
		t.Errorf("New accepted credentials without a content language")
	}
}
