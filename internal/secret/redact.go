package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Placeholder replaces hidden values, both in payloads and in free text.
const Placeholder = "[redacted]"

// minValueLen is the fewest characters, not counting surrounding white
// space, that a value found by [Rule.Values] has.
const minValueLen = 4

// ErrInvalidJSON is wrapped by the error [Rule.Redact] returns for a payload
// that is not valid JSON.
var ErrInvalidJSON = errors.New("payload is not valid JSON")

// Rule describes which payload fields are secret: those whose keys name a
// credential by the naming rule of [IsSecretKey], plus the extra keys a job
// type declares. The zero Rule applies the naming rule alone.
type Rule struct {
	// Extra are further secret keys, each compared with the whole key,
	// ignoring case.
	Extra []string
}

// IsSecret reports whether a field with this key is secret under the rule.
func (r Rule) IsSecret(key string) bool {
	for _, k := range r.Extra {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return IsSecretKey(key)
}

// Redact returns a copy of the payload in which the value of every secret
// field, at any depth and whatever its JSON type, is replaced by the
// string [Placeholder]. Everything else is kept byte for byte. A payload
// that is not valid JSON is an error wrapping [ErrInvalidJSON].
func (r Rule) Redact(payload json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(payload) {
		// Unmarshal says what is wrong; Valid only says that something is.
		err := json.Unmarshal(payload, new(json.RawMessage))
		if err == nil {
			err = errors.New("unexpected data")
		}
		return nil, fmt.Errorf("secret: %w: %w", ErrInvalidJSON, err)
	}
	spans, err := r.walk(payload, nil)
	if err != nil {
		return nil, fmt.Errorf("secret: %w: %w", ErrInvalidJSON, err)
	}
	placeholder := `"` + Placeholder + `"`
	out := make([]byte, 0, len(payload))
	last := 0
	for _, s := range spans {
		out = append(out, payload[last:s.start]...)
		out = append(out, placeholder...)
		last = s.end
	}
	out = append(out, payload[last:]...)
	return out, nil
}

// Values returns the values inside the payload's secret fields that are
// worth scrubbing from free text with [Scrub]: every string, and the text
// of every number, at least four characters long (not counting surrounding
// white space), including those nested in secret objects and arrays. Each
// value is listed once, in order of first appearance. If the payload is not
// valid JSON, Values returns what it found before the first syntax error.
func (r Rule) Values(payload json.RawMessage) []string {
	var values []string
	seen := make(map[string]bool)
	collect := func(s string) {
		if utf8.RuneCountInString(strings.TrimSpace(s)) >= minValueLen && !seen[s] {
			seen[s] = true
			values = append(values, s)
		}
	}
	_, _ = r.walk(payload, collect) // best effort: keep what was found before an error
	return values
}

// span is the byte range of one secret value in a payload.
type span struct{ start, end int }

// frame is an object or array the walk is inside.
type frame struct {
	object    bool
	expectKey bool // in an object: the next token is a key
}

// walk reads one JSON value from the payload, token by token, and returns
// the byte ranges of the values of its secret fields, in order. If collect
// is not nil it is called with every string and number inside those
// values; otherwise each secret value is skipped in one step.
func (r Rule) walk(payload []byte, collect func(string)) ([]span, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var (
		spans   []span
		stack   []frame
		pending bool                    // the last token was a secret key; its value is next
		keyEnd  int                     // where that key ended
		inside  = -1                    // while in a secret object or array: the depth it started at
		start   int                     // while in a secret object or array: where it started
		known   = make(map[string]bool) // keys already judged; payloads repeat them
	)
	for {
		if pending && collect == nil {
			// Skip the whole secret value; only its extent matters.
			if err := dec.Decode(new(skipValue)); err != nil {
				return spans, err
			}
			spans = append(spans, span{valueStart(payload, keyEnd), int(dec.InputOffset())})
			pending = false
			if endValue(stack) {
				break
			}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return spans, err
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) == inside {
				spans = append(spans, span{start, int(dec.InputOffset())})
				inside = -1
			}
			if endValue(stack) {
				break
			}
			continue
		}
		if top != nil && top.object && top.expectKey {
			key, _ := tok.(string)
			top.expectKey = false
			if inside >= 0 {
				continue // inside a secret value, keys do not matter
			}
			secret, ok := known[key]
			if !ok {
				secret = r.IsSecret(key)
				known[key] = secret
			}
			if secret {
				pending = true
				keyEnd = int(dec.InputOffset())
			}
			continue
		}
		// The token starts a value.
		secret := pending || inside >= 0
		if d, ok := tok.(json.Delim); ok {
			if pending {
				inside = len(stack)
				start = valueStart(payload, keyEnd)
			}
			pending = false
			stack = append(stack, frame{object: d == '{', expectKey: d == '{'})
			continue
		}
		if secret && collect != nil {
			switch v := tok.(type) {
			case string:
				collect(v)
			case json.Number:
				collect(string(v))
			}
		}
		if pending {
			spans = append(spans, span{valueStart(payload, keyEnd), int(dec.InputOffset())})
			pending = false
		}
		if endValue(stack) {
			break
		}
	}
	// One value, then nothing but white space.
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("data after the top-level value")
		}
		return spans, err
	}
	return spans, nil
}

// endValue notes that a value has ended in the innermost open object or
// array, and reports whether it was the top-level value.
func endValue(stack []frame) bool {
	if len(stack) == 0 {
		return true
	}
	if top := &stack[len(stack)-1]; top.object {
		top.expectKey = true
	}
	return false
}

// valueStart returns where the value after an object key begins, given
// where the key ends: past white space, the colon, and white space.
func valueStart(payload []byte, keyEnd int) int {
	i := keyEnd
	for i < len(payload) && (isSpace(payload[i]) || payload[i] == ':') {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue decodes any JSON value into nothing.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }
