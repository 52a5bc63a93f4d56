package secret

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rule    Rule
		payload string
		want    string
	}{
		{
			name:    "nothing secret",
			payload: `{"store_id":"s-1","products":[{"sku":"A1","price":9.90}],"steps":3,"author":"ann","description":"x"}`,
			want:    `{"store_id":"s-1","products":[{"sku":"A1","price":9.90}],"steps":3,"author":"ann","description":"x"}`,
		},
		{
			name:    "top level string field",
			payload: `{"store_id":"s-1","access_token":"Atza|IwEBIA","marketplace":"amazon"}`,
			want:    `{"store_id":"s-1","access_token":"[redacted]","marketplace":"amazon"}`,
		},
		{
			name:    "number",
			payload: `{"pin_password":12345678,"n":1.50e3}`,
			want:    `{"pin_password":"[redacted]","n":1.50e3}`,
		},
		{
			name:    "boolean and null",
			payload: `{"secret":true,"token":null,"ok":false}`,
			want:    `{"secret":"[redacted]","token":"[redacted]","ok":false}`,
		},
		{
			name:    "object",
			payload: `{"credentials":{"user":"bob","password":"hunter22","nested":{"k":[1,2]}},"after":1}`,
			want:    `{"credentials":"[redacted]","after":1}`,
		},
		{
			name:    "array",
			payload: `{"cookies":["a=1","b=2",{"c":3}],"after":[]}`,
			want:    `{"cookies":"[redacted]","after":[]}`,
		},
		{
			name:    "empty object and array",
			payload: `{"auth":{},"session":[]}`,
			want:    `{"auth":"[redacted]","session":"[redacted]"}`,
		},
		{
			name:    "nested objects",
			payload: `{"shop":{"amazon":{"seller_id":"A2","sp_api_refresh_token":"Atzr|x"},"ebay":{"oauth":{"x":1}}}}`,
			want:    `{"shop":{"amazon":{"seller_id":"A2","sp_api_refresh_token":"[redacted]"},"ebay":{"oauth":"[redacted]"}}}`,
		},
		{
			name:    "objects inside arrays",
			payload: `{"accounts":[{"name":"a","apiKey":"k1"},{"name":"b","apiKey":"k2"},[{"password":"p"}]]}`,
			want:    `{"accounts":[{"name":"a","apiKey":"[redacted]"},{"name":"b","apiKey":"[redacted]"},[{"password":"[redacted]"}]]}`,
		},
		{
			name:    "top level array",
			payload: `[{"token":"t"},"token",{"x":{"Authorization":"Bearer abc"}}]`,
			want:    `[{"token":"[redacted]"},"token",{"x":{"Authorization":"[redacted]"}}]`,
		},
		{
			name:    "top level scalars have no key",
			payload: `"hunter22"`,
			want:    `"hunter22"`,
		},
		{
			name:    "secret names as values are not keys",
			payload: `{"field":"password","list":["token"]}`,
			want:    `{"field":"password","list":["token"]}`,
		},
		{
			name:    "white space, escapes and order are kept",
			payload: "\n{\n  \"z\" : \"caf\\u00e9 <b>\",\n  \"password\" :\t\"hunter22\" ,\n  \"a\" : [ 1 , 2e10 ]\n}\n",
			want:    "\n{\n  \"z\" : \"caf\\u00e9 <b>\",\n  \"password\" :\t\"[redacted]\" ,\n  \"a\" : [ 1 , 2e10 ]\n}\n",
		},
		{
			name:    "escaped key",
			payload: `{"pass\u0077ord":"hunter22","x\"y":"z"}`,
			want:    `{"pass\u0077ord":"[redacted]","x\"y":"z"}`,
		},
		{
			name:    "duplicate keys",
			payload: `{"token":"a","token":"b","x":1,"x":2}`,
			want:    `{"token":"[redacted]","token":"[redacted]","x":1,"x":2}`,
		},
		{
			name:    "already redacted",
			payload: `{"token":"[redacted]"}`,
			want:    `{"token":"[redacted]"}`,
		},
		{
			name:    "extra keys",
			rule:    Rule{Extra: []string{"PIN", "card_number"}},
			payload: `{"pin":"1234","Card_Number":4111111111111111,"card":"visa"}`,
			want:    `{"pin":"[redacted]","Card_Number":"[redacted]","card":"visa"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.rule.Redact(json.RawMessage(tt.payload))
			if err != nil {
				t.Fatalf("Redact(%s): %v", tt.payload, err)
			}
			if string(got) != tt.want {
				t.Errorf("Redact(%s)\n got %s\nwant %s", tt.payload, got, tt.want)
			}
			again, err := tt.rule.Redact(got)
			if err != nil || string(again) != string(got) {
				t.Errorf("redacting twice = %s, %v; want %s", again, err, got)
			}
		})
	}
}

func TestRedactDoesNotAliasInput(t *testing.T) {
	t.Parallel()
	in := json.RawMessage(`{"a":1}`)
	out, err := Rule{}.Redact(in)
	if err != nil {
		t.Fatal(err)
	}
	out[1] = 'X'
	if string(in) != `{"a":1}` {
		t.Fatalf("changing the output changed the input: %s", in)
	}
}

func TestRedactInvalidJSON(t *testing.T) {
	t.Parallel()
	tests := []string{
		``,
		` `,
		`{`,
		`{"password":"hunter22"`,
		`{"password" "hunter22"}`,
		`{"a":1,}`,
		`[1 2]`,
		`{} {}`,
		`{}x`,
		`{'password':'x'}`,
		`{"password":hunter22}`,
		"\"\x01\"",
		`nul`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), // deeper than encoding/json allows
	}
	for _, payload := range tests {
		out, err := Rule{}.Redact(json.RawMessage(payload))
		if err == nil {
			t.Errorf("Redact(%.40q) = %s, want an error", payload, out)
			continue
		}
		if !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("Redact(%.40q) error %v does not wrap ErrInvalidJSON", payload, err)
		}
		if out != nil {
			t.Errorf("Redact(%.40q) returned %s with its error", payload, out)
		}
	}
}

func TestValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rule    Rule
		payload string
		want    []string
	}{
		{
			name:    "nothing secret",
			payload: `{"store_id":"store-123","products":["long product name"]}`,
			want:    nil,
		},
		{
			name:    "strings at any depth",
			payload: `{"a":{"access_token":"tok-1234"},"b":[{"password":"hunter22"}]}`,
			want:    []string{"tok-1234", "hunter22"},
		},
		{
			name:    "strings inside secret objects and arrays, not their keys",
			payload: `{"credentials":{"username":"alice","password":"hunter22","scopes":["read:orders",["write:listings"]]}}`,
			want:    []string{"alice", "hunter22", "read:orders", "write:listings"},
		},
		{
			name:    "short strings are ignored",
			payload: `{"token":"abc","secret":"abcd","auth":["x","yz","   ab   ","  abcd "],"session":"héé"}`,
			want:    []string{"abcd", "  abcd "},
		},
		{
			name:    "characters, not bytes, are counted",
			payload: `{"token":"ü€𝄞x"}`,
			want:    []string{"ü€𝄞x"},
		},
		{
			name:    "numbers by their text; booleans and null are not values",
			payload: `{"pin_password":12345678,"secret":[1,2.5e10,true,null,123]}`,
			want:    []string{"12345678", "2.5e10"},
		},
		{
			name:    "each value once, in order of first appearance",
			payload: `{"token":"zzzz","apiKey":"aaaa","password":["zzzz","bbbb"]}`,
			want:    []string{"zzzz", "aaaa", "bbbb"},
		},
		{
			name:    "escapes are decoded",
			payload: `{"token":"a\"b\\c\u00e9\n"}`,
			want:    []string{"a\"b\\cé\n"},
		},
		{
			name:    "extra keys",
			rule:    Rule{Extra: []string{"pin"}},
			payload: `{"PIN":"9876","other":"public"}`,
			want:    []string{"9876"},
		},
		{
			name:    "invalid JSON: what came before the error",
			payload: `{"token":"tok-1234","x":[1,2}`,
			want:    []string{"tok-1234"},
		},
		{
			name:    "empty",
			payload: ``,
			want:    nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.rule.Values(json.RawMessage(tt.payload))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Values(%s) = %q, want %q", tt.payload, got, tt.want)
			}
		})
	}
}

// largePayload is a JSON document of about size bytes, like a bulk listing
// job: many products, each with marketplace credentials.
func largePayload(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"store_id":"store-42","marketplaces":{"amazon":{"sp_api_refresh_token":"Atzr|IwEBIBIG-0123456789","seller_id":"A2EUQ1WTGCTBG2"},"ebay":{"credentials":{"client_id":"app-1","client_secret":"PRD-0123456789abcdef"}}},"products":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"SKU-%06d","title":"Handmade ceramic mug no. %d, \"blue\"","price":%d.99,"tags":["kitchen","gift","mug"],`+
			`"variants":[{"color":"blue","stock":%d},{"color":"red","stock":%d}],"listing":{"api_key":"key-%08d","session":{"id":"s-%d","exp":1700000000}},"author":"shop"}`,
			i, i, 10+i%90, i%7, i%5, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func TestRedactLargePayload(t *testing.T) {
	t.Parallel()
	payload := largePayload(1 << 20)
	out, err := Rule{}.Redact(payload)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Fatal("redacted payload is not valid JSON")
	}
	if n := len(Rule{}.Values(payload)); n < 1000 {
		t.Fatalf("found %d secret values, want two per product", n)
	}
	if n, want := strings.Count(string(out), Placeholder), 2*strings.Count(string(payload), `"sku"`)+2; n != want {
		t.Errorf("redacted payload has %d placeholders, want %d", n, want)
	}
	// The full check against the reference model, leaks included, is in
	// TestRedactMatchesReference.
	for _, public := range []string{`"sku":"SKU-000000"`, `"author":"shop"`, `"seller_id":"A2EUQ1WTGCTBG2"`} {
		if !strings.Contains(string(out), public) {
			t.Errorf("redacted payload lost %s", public)
		}
	}
}

func BenchmarkRedact(b *testing.B) {
	payload := largePayload(1 << 20)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := (Rule{}).Redact(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValues(b *testing.B) {
	payload := largePayload(1 << 20)
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		Rule{}.Values(payload)
	}
}
