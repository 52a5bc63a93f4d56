package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dainostore/jobs/internal/jobtype"
)

// FuzzDecodeCreate checks decodeCreate on arbitrary bodies. It never panics,
// and it either names a problem (and the field it is about, if any: one of
// the request's or a key the body has) or returns a request that the rest
// of the create path can rely on. Only what holds for any stricter decoder
// is asserted: a rejected input is never a failure here.
func FuzzDecodeCreate(f *testing.F) {
	seeds := []struct {
		body         string
		defaultStore string
	}{
		// Valid requests.
		{`{"type":"thumbnail.generate","store_id":"store_1","payload":{"imageId":"img_1","width":320}}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":"urgent","payload":{}}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":"HIGH"}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":" low "}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":1}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":10}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":"10"}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":3.0}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":1e1}`, ""},
		{`{"type":"thumbnail.generate","store_id":"store_1","priority":null,"payload":null}`, ""},
		{`{"type":"report.export","payload":{"a":{"b":{"c":[1,2,{"d":"e"}]}},"f":[[],{}]}}`, "store_1"},
		{"  \n{ \"type\" : \"x\" ,\t\"store_id\" : \"a.b:c-d_e\" , \"payload\" : { \"k\" : [ 1 , 2 ] } }\n", ""},
		{`{"type":"x","store_id":"s"}`, "other"},
		{`{"type":"x"}`, "store_1"},
		// Missing or bad fields.
		{`{"type":"x"}`, ""},
		{`{"store_id":"store_1"}`, ""},
		{`{"type":"","store_id":"store_1"}`, ""},
		{`{"type":"x","store_id":"-leading-dash"}`, ""},
		{`{"type":"x","store_id":"has space"}`, ""},
		{`{"type":"x","store_id":"s\n"}`, ""},
		{`{"type":"x","store_id":"s"}`, "bad default!"},
		{`{"type":"x","store_id":"` + strings.Repeat("s", 129) + `"}`, ""},
		{`{"type":"` + strings.Repeat("t", 129) + `","store_id":"s"}`, ""},
		{`{"type":"x","store_id":"s","unknown":1}`, ""},
		{`{"type":1,"store_id":"s"}`, ""},
		{`{"type":"x","store_id":"s","priority":"medium"}`, ""},
		{`{"type":"x","store_id":"s","priority":0}`, ""},
		{`{"type":"x","store_id":"s","priority":4}`, ""},
		{`{"type":"x","store_id":"s","priority":-1}`, ""},
		{`{"type":"x","store_id":"s","priority":2.5}`, ""},
		{`{"type":"x","store_id":"s","priority":true}`, ""},
		{`{"type":"x","store_id":"s","priority":[1]}`, ""},
		{`{"type":"x","store_id":"s","priority":{"level":1}}`, ""},
		{`{"type":"x","store_id":"s","payload":[1,2]}`, ""},
		{`{"type":"x","store_id":"s","payload":"text"}`, ""},
		{`{"type":"x","store_id":"s","payload":42}`, ""},
		{`{"type":"x","store_id":"s","payload":true}`, ""},
		// Huge numbers.
		{`{"type":"x","store_id":"s","priority":1e308}`, ""},
		{`{"type":"x","store_id":"s","priority":1e400}`, ""},
		{`{"type":"x","store_id":"s","priority":18446744073709551617}`, ""},
		{`{"type":"x","store_id":"s","priority":-9223372036854775808}`, ""},
		{`{"type":"x","store_id":"s","priority":10.000000000000001}`, ""},
		{`{"type":"x","store_id":"s","payload":{"n":123456789012345678901234567890e99999}}`, ""},
		// Not a single object.
		{``, ""},
		{`null`, ""},
		{`[]`, ""},
		{`[{"type":"x","store_id":"s"}]`, ""},
		{`"string"`, ""},
		{`42`, ""},
		{`{`, ""},
		{`{"type":"x","store_id":"s"`, ""},
		{`{"type":"x","store_id":"s"}{"type":"y"}`, ""},
		{`{"type":"x","store_id":"s"} trailing`, ""},
		{`{"type":"x","store_id":"s"}}`, ""},
		{`{"type":"x","store_id":"s"}]`, ""},
		{`{"type":"x","store_id":"s",}`, ""},
		{`{'type':'x'}`, ""},
		// Unicode, invalid UTF-8 and NUL.
		{`{"type":"vidéo.转码","store_id":"s","payload":{"title":"日本語 ✓ 😀"}}`, ""},
		{`{"type":"x","store_id":"störe"}`, ""},
		{`{"type":"x","store_id":"s","payload":{"e":"\ud83d\ude00","lone":"\ud800"}}`, ""},
		{"{\"type\":\"x\xff\",\"store_id\":\"s\"}", ""},
		{"{\"type\":\"x\",\"store_id\":\"s\",\"payload\":{\"k\":\"\xc3\x28\"}}", ""},
		{"{\"type\":\"x\x00\",\"store_id\":\"s\"}", ""},
		{`{"type":"x\u0000","store_id":"s"}`, ""},
		{"{\"type\":\"x\",\"store_id\":\"s\"}\x00", ""},
		{"\xef\xbb\xbf{\"type\":\"x\",\"store_id\":\"s\"}", ""},
		// Duplicate keys, spelled alike or not.
		{`{"type":"x","type":"y","store_id":"s"}`, ""},
		{`{"type":"x","store_id":"s","store_id":"t"}`, ""},
		{`{"type":"x","\u0074ype":"y","store_id":"s"}`, ""},
		{`{"type":"x","TYPE":"y","store_id":"s"}`, ""},
		{`{"type":"x","store_id":"s","payload":{"a":1,"a":2}}`, ""},
		// Deep nesting.
		{`{"type":"x","store_id":"s","payload":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, ""},
		{`{"type":"x","store_id":"s","payload":{"a":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `}}`, ""},
		{strings.Repeat(`[`, 100), ""},
		// Payload size limit.
		{`{"type":"x","store_id":"s","payload":{"k":"` + strings.Repeat("p", maxPayloadBytes) + `"}}`, ""},
		{`{"type":"x","store_id":"s","payload":{"k":"` + strings.Repeat("p", maxPayloadBytes-10) + `"}}`, ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.defaultStore)
	}

	f.Fuzz(func(t *testing.T, body []byte, defaultStoreID string) {
		in := bytes.Clone(body)
		req, err := decodeCreate(body, defaultStoreID)
		if !bytes.Equal(body, in) {
			t.Fatalf("decodeCreate modified its input: %q became %q", in, body)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("decodeCreate(%q, %q) returned an error with an empty message", body, defaultStoreID)
			}
			checkFieldError(t, body, err)
			return
		}
		checkCreateRequest(t, body, defaultStoreID, req)

		// The answer depends on the input only.
		again, err := decodeCreate(body, defaultStoreID)
		if err != nil {
			t.Fatalf("decodeCreate(%q, %q) succeeded, then failed: %v", body, defaultStoreID, err)
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("decodeCreate(%q, %q) is not deterministic: %+v, then %+v", body, defaultStoreID, req, again)
		}
	})
}

// checkFieldError asserts that a refusal about one field names a field of
// the request or a key of the body, in the words of the refusal.
func checkFieldError(t *testing.T, body []byte, err error) {
	t.Helper()
	var invalid *jobtype.FieldError
	if !errors.As(err, &invalid) {
		return
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(body, &keys)
	if _, inBody := keys[invalid.Field]; !inBody && !slices.Contains([]string{"type", "store_id", "priority", "payload"}, invalid.Field) {
		t.Errorf("decodeCreate(%q) names field %q, neither the request's nor the body's", body, invalid.Field)
	}
	if invalid.Message == "" || !strings.Contains(err.Error(), invalid.Message) {
		t.Errorf("decodeCreate(%q) says %q about field %s, not in its words %q", body, invalid.Message, invalid.Field, err)
	}
}

// checkCreateRequest asserts what an accepted create request guarantees.
func checkCreateRequest(t *testing.T, body []byte, defaultStoreID string, req createRequest) {
	t.Helper()
	describe := func() string {
		b, _ := json.Marshal(map[string]any{"body": string(body), "default_store_id": defaultStoreID})
		return string(b)
	}
	if !json.Valid(body) {
		t.Errorf("accepted a body that is not valid JSON: %s", describe())
	}
	if req.Type == "" {
		t.Errorf("accepted an empty type: %s", describe())
	}
	if len(req.Type) > maxTypeLength {
		t.Errorf("accepted a type of %d bytes, more than %d: %s", len(req.Type), maxTypeLength, describe())
	}
	if req.StoreID == "" {
		t.Errorf("accepted an empty store_id: %s", describe())
	}
	if !storeIDPattern.MatchString(req.StoreID) {
		t.Errorf("accepted store_id %q, which does not match %s: %s", req.StoreID, storeIDPattern, describe())
	}
	if req.Priority != nil && !req.Priority.Valid() {
		t.Errorf("accepted priority %d, which is not a priority: %s", int(*req.Priority), describe())
	}
	if len(req.Payload) == 0 || req.Payload[0] != '{' {
		t.Errorf("payload %q is not a JSON object: %s", req.Payload, describe())
	}
	if !json.Valid(req.Payload) {
		t.Errorf("payload %q is not valid JSON: %s", req.Payload, describe())
	}
	var object map[string]any
	dec := json.NewDecoder(bytes.NewReader(req.Payload))
	dec.UseNumber() // numbers beyond float64 are still valid JSON
	if err := dec.Decode(&object); err != nil || object == nil {
		t.Errorf("payload %q does not decode as a JSON object (%v): %s", req.Payload, err, describe())
	}
	if len(req.Payload) > maxPayloadBytes {
		t.Errorf("payload is %d bytes, more than %d: %s", len(req.Payload), maxPayloadBytes, describe())
	}
}
