package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dainostore/jobs/internal/jobtype"
)

// maxJSONDepth bounds how deeply objects and arrays may nest in a request.
const maxJSONDepth = 32

// checkJSON refuses what encoding/json would quietly accept: invalid UTF-8
// (it would be replaced), NUL characters, duplicate keys (the last would
// win; encoding/json matches keys without regard to case, so "Store_ID"
// repeats "store_id") and deep nesting.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return errors.New("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// Per open container: whether it is an object, whether the next token
	// is a key, and the keys seen so far.
	type container struct {
		object    bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*container
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("request body is not valid JSON: %v", err)
		}
		var top *container
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if text, ok := tok.(string); ok && strings.ContainsRune(text, 0) {
			return errors.New("request body contains a NUL character")
		}
		if top != nil && top.object && top.expectKey {
			if key, ok := tok.(string); ok {
				folded := foldKey(key)
				if top.keys[folded] {
					return fmt.Errorf("request body repeats the key %q", key)
				}
				top.keys[folded] = true
				top.expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) == maxJSONDepth {
				return fmt.Errorf("request body nests deeper than %d levels", maxJSONDepth)
			}
			stack = append(stack, &container{object: tok == json.Delim('{'), expectKey: true, keys: map[string]bool{}})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value completed: an enclosing object expects a key next.
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expectKey = true
		}
	}
}

// foldKey maps a key to one representative of its case-folding class, the
// smallest rune of each rune's fold orbit, so keys that encoding/json would
// treat as the same are the same here.
func foldKey(key string) string {
	return strings.Map(func(r rune) rune {
		smallest := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			smallest = min(smallest, f)
		}
		return smallest
	}, key)
}

// checkFieldNames requires the body's top-level keys to be spelled exactly
// as documented: encoding/json alone would take "Store_ID" for "store_id".
// An unknown key is a *jobtype.FieldError that names it.
func checkFieldNames(body []byte, allowed ...string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("request body is not a JSON object: %v", err)
	}
	for name := range fields {
		if !slices.Contains(allowed, name) {
			return jobtype.InvalidField(name, "unknown field %q; the fields are %s", name, strings.Join(allowed, ", "))
		}
	}
	return nil
}
