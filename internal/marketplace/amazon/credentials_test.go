package amazon_test

import (
	"testing"

	"github.com/dainostore/jobs/internal/marketplace/amazon"
)

func TestCredentialsValidate(t *testing.T) {
	t.Parallel()
	valid := amazon.Credentials{
		ClientID:       "amzn1.application-oa2-client.0123",
		ClientSecret:   "secret",
		RefreshToken:   "Atzr|IwEBIA",
		SellerID:       "A3TESTSELLER42",
		MarketplaceIDs: []string{"ATVPDKIKX0DER", "APJ6JRA9NG5V4"},
		Region:         "na",
	}
	tests := []struct {
		name   string
		change func(*amazon.Credentials)
		want   string
	}{
		{"valid", func(*amazon.Credentials) {}, ""},
		{"nothing", func(c *amazon.Credentials) { *c = amazon.Credentials{} },
			"amazon credentials: client id is missing; client secret is missing; refresh token is missing; " +
				"seller id is missing; region is missing (na, eu or fe); no marketplace id"},
		{"pasted with a line break", func(c *amazon.Credentials) { c.RefreshToken += "\n" },
			"amazon credentials: refresh token has leading or trailing spaces"},
		{"unknown region", func(c *amazon.Credentials) { c.Region = "us" },
			`amazon credentials: region "us" is not na, eu or fe`},
		{"implausible marketplace", func(c *amazon.Credentials) { c.MarketplaceIDs = []string{"amazon.de", "A1PA6795UKMFR9"} },
			`amazon credentials: marketplace id "amazon.de" is not an Amazon marketplace id (such as ATVPDKIKX0DER)`},
		{"duplicate marketplace", func(c *amazon.Credentials) { c.MarketplaceIDs = []string{"ATVPDKIKX0DER", "ATVPDKIKX0DER"} },
			"amazon credentials: marketplace id ATVPDKIKX0DER is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			creds := valid
			creds.MarketplaceIDs = append([]string(nil), valid.MarketplaceIDs...)
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
	creds := amazon.Credentials{
		ClientID: "id", ClientSecret: "secret", RefreshToken: "Atzr|x", SellerID: "A3TESTSELLER42",
		MarketplaceIDs: []string{"A1PA6795UKMFR9"}, Region: "eu",
	}
	if _, err := amazon.New(amazon.Config{}, creds); err != nil {
		t.Errorf("New with the default URLs: %v", err)
	}
	if _, err := amazon.New(amazon.Config{SPAPIURL: "sellingpartnerapi-eu.amazon.com"}, creds); err == nil {
		t.Errorf("New accepted an SP-API URL without a scheme")
	}
	creds.Region = ""
	if _, err := amazon.New(amazon.Config{}, creds); err == nil {
		t.Errorf("New accepted credentials without a region")
	}
}
