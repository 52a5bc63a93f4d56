package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// node is a parsed JSON value that keeps object keys in order, duplicates
// included. It is the tests' reference model of a payload, built
// independently of the code under test.
type node struct {
	kind string // "object", "array", "string", "number", "literal"
	text string // string value, number text, or literal ("true", "false", "null")
	keys []string
	kids []*node
}

// parseTree parses one JSON document into a tree.
func parseTree(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the top-level value")
	}
	return n, nil
}

func parseNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &node{kind: "array"}
		if v == '{' {
			n.kind = "object"
		}
		for dec.More() {
			if n.kind == "object" {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
			}
			kid, err := parseNode(dec)
			if err != nil {
				return nil, err
			}
			n.kids = append(n.kids, kid)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &node{kind: "string", text: v}, nil
	case json.Number:
		return &node{kind: "number", text: string(v)}, nil
	case bool:
		if v {
			return &node{kind: "literal", text: "true"}, nil
		}
		return &node{kind: "literal", text: "false"}, nil
	default:
		return &node{kind: "literal", text: "null"}, nil
	}
}

// redactTree is the reference redaction: every value of a secret field
// becomes the placeholder string.
func redactTree(r Rule, n *node) *node {
	out := &node{kind: n.kind, text: n.text, keys: n.keys}
	for i, kid := range n.kids {
		if n.kind == "object" && r.IsSecret(n.keys[i]) {
			out.kids = append(out.kids, &node{kind: "string", text: Placeholder})
			continue
		}
		out.kids = append(out.kids, redactTree(r, kid))
	}
	return out
}

// publicTokens adds to set the keys, strings and numbers of n that are not
// inside secret fields.
func publicTokens(r Rule, n *node, set map[string]bool) {
	if n.kind == "string" || n.kind == "number" {
		set[n.text] = true
	}
	for i, kid := range n.kids {
		if n.kind == "object" {
			set[n.keys[i]] = true
			if r.IsSecret(n.keys[i]) {
				continue
			}
		}
		publicTokens(r, kid, set)
	}
}

// allTokens calls f with every key, string and number in n.
func allTokens(n *node, f func(string)) {
	if n.kind == "string" || n.kind == "number" {
		f(n.text)
	}
	for _, k := range n.keys {
		f(k)
	}
	for _, kid := range n.kids {
		allTokens(kid, f)
	}
}

// secretValues is the reference for Values: the strings and numbers inside
// secret fields, long enough, once each, in document order.
func secretValues(r Rule, n *node, secret bool, seen map[string]bool, out *[]string) {
	if secret && (n.kind == "string" || n.kind == "number") {
		if utf8.RuneCountInString(strings.TrimSpace(n.text)) >= 4 && !seen[n.text] {
			seen[n.text] = true
			*out = append(*out, n.text)
		}
	}
	for i, kid := range n.kids {
		kidSecret := secret || (n.kind == "object" && r.IsSecret(n.keys[i]))
		secretValues(r, kid, kidSecret, seen, out)
	}
}

// checkRedaction checks Redact and Values on a payload against the
// reference model.
func checkRedaction(t *testing.T, r Rule, in []byte) {
	t.Helper()
	out, err := r.Redact(in)
	if !json.Valid(in) {
		if err == nil || !errors.Is(err, ErrInvalidJSON) {
			t.Fatalf("Redact(%q) = %q, %v; want an ErrInvalidJSON error", in, out, err)
		}
		r.Values(in) // must not panic
		return
	}
	if err != nil {
		t.Fatalf("Redact(%q): %v", in, err)
	}
	if !json.Valid(out) {
		t.Fatalf("Redact(%q) = %q, not valid JSON", in, out)
	}

	inTree, err := parseTree(in)
	if err != nil {
		t.Fatalf("reference parse of %q: %v", in, err)
	}
	outTree, err := parseTree(out)
	if err != nil {
		t.Fatalf("reference parse of %q: %v", out, err)
	}
	if want := redactTree(r, inTree); !reflect.DeepEqual(outTree, want) {
		t.Fatalf("Redact(%q) = %q, which differs from the reference redaction", in, out)
	}

	values := r.Values(in)
	var want []string
	secretValues(r, inTree, false, map[string]bool{}, &want)
	if !reflect.DeepEqual(values, want) {
		t.Fatalf("Values(%q) = %q, want %q", in, values, want)
	}

	// No secret value is in the output, unless the input shows it in the
	// open too. Tokens are compared decoded, not as raw bytes, because the
	// same string can be escaped in different ways and a short value can
	// straddle JSON punctuation.
	public := map[string]bool{Placeholder: true}
	publicTokens(r, inTree, public)
	allTokens(outTree, func(tok string) {
		if public[tok] {
			return
		}
		for _, v := range values {
			if strings.Contains(tok, v) {
				t.Fatalf("Redact(%q) = %q leaks secret value %q in %q", in, out, v, tok)
			}
		}
		t.Fatalf("Redact(%q) = %q has %q, which the input does not show", in, out, tok)
	})

	again, err := r.Redact(out)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("Redact(Redact(%q)) = %q, %v; want %q", in, again, err, out)
	}
}

func FuzzRedact(f *testing.F) {
	seeds := []string{
		`{}`,
		`[]`,
		`null`,
		`"password"`,
		`12345`,
		`{"store_id":"s-1","access_token":"Atza|IwEBIA","products":[{"sku":"A1","price":9.90}]}`,
		`{"credentials":{"username":"alice","password":"hunter22","scopes":["read:orders"]},"pin":"4321"}`,
		`{"a":[{"apiKey":12345678},{"b":{"refreshToken":null,"secret":true}}],"author":"ann"}`,
		`{"token":"abcd","note":"abcd"}`,
		`{"token":"[redacted]","x":"[redacted]"}`,
		`{"token":"d]\",","a":1}`,
		`{"token":"a","token":{"x":"bbbb"},"x":1,"x":"token"}`,
		"{\n  \"Authorization\" : \"Bearer abc.def\" ,\n  \"z\" : [ 1 , 2e10 , -0.5 ]\n}\n",
		`{"pass\u0077ord":"caf\u00e9\ud83d\ude00","\u0000":"\u2028"}`,
		"{\"token\":\"\xff\xfe\",\"x\":\"\xff\"}",
		`{"x-api-key":[[[["deep-secret"]]]],"steps":[[[{"session":{"id":"s-123456"}}]]]}`,
		`{"token":"abcd"`,
		`{"a":1,}`,
		`{} {}`,
		`[1 2]`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	rule := Rule{Extra: []string{"pin", "Card Number"}}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkRedaction(t, rule, in)
	})
}

func TestRedactMatchesReference(t *testing.T) {
	t.Parallel()
	// The fuzz seeds run as part of every go test; these add the large
	// payload.
	for _, in := range [][]byte{
		[]byte(`{"credentials":{"password":"hunter22"},"a":[{"token":1234}],"b":"hunter22"}`),
		largePayload(1 << 20),
	} {
		checkRedaction(t, Rule{}, in)
	}
}
