package secret

import (
	"slices"
	"testing"
)

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want bool
	}{
		// The names the rule is designed around.
		{"access_token", true},
		{"refreshToken", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"x-api-key", true},
		{"sp_api_refresh_token", true},
		{"client_secret", true},
		{"password", true},
		{"products", false},
		{"store_id", false},
		{"steps", false},
		{"author", false},
		{"authority", false},
		{"description", false},

		// Every term on its own, in several spellings.
		{"passwd", true},
		{"secret", true},
		{"token", true},
		{"api_key", true},
		{"apiKey", true},
		{"APIKey", true},
		{"ApiKey", true},
		{"API_KEY", true},
		{"apikey", true},
		{"APIKEY", true},
		{"api key", true},
		{"access_key", true},
		{"accessKeyId", true},
		{"private_key", true},
		{"privateKey", true},
		{"privatekey", true},
		{"credentials", true},
		{"credential", true},
		{"Authorization", true},
		{"auth", true},
		{"cookie", true},
		{"Set-Cookie", true},
		{"session", true},
		{"signature", true},

		// Words anywhere in the key, camelCase, digits, punctuation.
		{"user_password", true},
		{"PasswordHint", true},
		{"password2", true},
		{"oauth2Token", true},
		{"eBayAuthToken", true},
		{"X-Amz-Security-Token", true},
		{"HTTPAuthorization", true},
		{"db.password", true},
		{"mws/auth-token", true},
		{"session_id", true},
		{"sessionId", true},
		{"client-secret", true},
		{"clientSecret", true},
		{"signing_secret", true},
		{"authorization_code", true},

		// A term at the end of a word, and plurals.
		{"accesstoken", true},
		{"refreshtoken", true},
		{"clientsecret", true},
		{"xapikey", true},
		{"xapi_key", true},
		{"oauth", true},
		{"preauth", true},
		{"tokens", true},
		{"api_keys", true},
		{"apiKeys", true},
		{"secrets", true},
		{"cookies", true},
		{"passwords", true},

		// False positives the rule accepts: they only hide data.
		{"token_count", true},
		{"max_tokens", true},
		{"signature_required", true},
		{"auth_type", true},

		// Not secret: the terms are whole words, not substrings.
		{"", false},
		{"_", false},
		{"authored_by", false},
		{"authenticated", false},
		{"is_authorized", false},
		{"tokenizer", false},
		{"secretary", false},
		{"passwordless", false},
		{"key", false},
		{"keys", false},
		{"keyword", false},
		{"public_key", false},
		{"access", false},
		{"access_level", false},
		{"api_version", false},
		{"username", false},
		{"email", false},
		{"sku", false},
		{"price", false},
		{"marketplace", false},
		{"sessionless", false},
		{"items", false},
		{"storeId", false},
		{"Steps", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			if got := IsSecretKey(tt.key); got != tt.want {
				t.Errorf("IsSecretKey(%q) = %v, want %v (words %q)", tt.key, got, tt.want, splitWords(tt.key))
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		want []string
	}{
		{"", nil},
		{"password", []string{"password"}},
		{"refreshToken", []string{"refresh", "token"}},
		{"APIKey", []string{"api", "key"}},
		{"XMLHttpRequest", []string{"xml", "http", "request"}},
		{"AWS_SECRET_ACCESS_KEY", []string{"aws", "secret", "access", "key"}},
		{"x-api-key", []string{"x", "api", "key"}},
		{"token2", []string{"token", "2"}},
		{"oauth2Token", []string{"oauth", "2", "token"}},
		{"  db.Password  ", []string{"db", "password"}},
		{"ÄpfelSchlüssel", []string{"äpfel", "schlüssel"}},
		{"a\xffb", []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			if got := splitWords(tt.key); !slices.Equal(got, tt.want) {
				t.Errorf("splitWords(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestRuleExtra(t *testing.T) {
	t.Parallel()
	r := Rule{Extra: []string{"pin", "Card Number"}}
	tests := []struct {
		key  string
		want bool
	}{
		{"pin", true},
		{"PIN", true},
		{"card number", true},
		{"CARD NUMBER", true},
		{"card_number", false}, // extra keys are compared exactly
		{"pin_code", false},
		{"spin", false},
		{"password", true}, // the naming rule still applies
		{"store_id", false},
	}
	for _, tt := range tests {
		if got := r.IsSecret(tt.key); got != tt.want {
			t.Errorf("Rule%v.IsSecret(%q) = %v, want %v", r.Extra, tt.key, got, tt.want)
		}
	}
}
