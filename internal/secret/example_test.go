package secret_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dainostore/jobs/internal/secret"
)

func ExampleRule_Redact() {
	payload := json.RawMessage(`{
  "store_id": "store-42",
  "amazon": {"seller_id": "A2EUQ1", "sp_api_refresh_token": "Atzr|IwEBIBIG"},
  "shopify": [{"shop": "mugs", "accessToken": "shpat_0123456789"}],
  "pin": 4321,
  "author": "ann"
}`)
	rule := secret.Rule{Extra: []string{"pin"}}
	redacted, err := rule.Redact(payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(redacted))

	_, err = rule.Redact(json.RawMessage(`{"password": "hunter22"`))
	fmt.Println(errors.Is(err, secret.ErrInvalidJSON))
	// Output:
	// {
	//   "store_id": "store-42",
	//   "amazon": {"seller_id": "A2EUQ1", "sp_api_refresh_token": "[redacted]"},
	//   "shopify": [{"shop": "mugs", "accessToken": "[redacted]"}],
	//   "pin": "[redacted]",
	//   "author": "ann"
	// }
	// true
}

func ExampleScrub() {
	payload := json.RawMessage(`{"credentials": {"client_id": "app-1", "client_secret": "PRD-0123456789"}}`)
	values := secret.Rule{}.Values(payload)
	fmt.Printf("%q\n", values)

	msg := `ebay: invalid client app-1 with secret "PRD-0123456789"`
	fmt.Println(secret.Scrub(msg, values))
	// Output:
	// ["app-1" "PRD-0123456789"]
	// ebay: invalid client [redacted] with secret "[redacted]"
}

func ExampleIsSecretKey() {
	for _, key := range []string{"access_token", "refreshToken", "x-api-key", "author", "store_id"} {
		fmt.Println(key, secret.IsSecretKey(key))
	}
	// Output:
	// access_token true
	// refreshToken true
	// x-api-key true
	// author false
	// store_id false
}
