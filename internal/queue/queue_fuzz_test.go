package queue

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseJobMessage checks ParseJobMessage on arbitrary message bodies. It
// never panics; an accepted message is a single JSON value whose id is
// plausible and survives being encoded into a message again; a refused one
// says why.
func FuzzParseJobMessage(f *testing.F) {
	for _, seed := range []string{
		// Valid messages, as Enqueue writes them and with spacing.
		`{"job_id":"3f1c2a8e-6b1d-4d5e-9a43-2f7e0b1c9d11"}`,
		`{"job_id":"job_01HYQ3K9T2V7X8Z"}`,
		" \n\t{ \"job_id\" : \"j\" } \r\n",
		`{"job_id":"\u0061bc"}`,
		`{"job_id":"a\/b"}`,
		`{"job_id":"` + strings.Repeat("x", maxJobIDLength) + `"}`,
		// Unknown fields, other spellings and duplicate keys.
		`{"job_id":"j1","priority":"high"}`,
		`{"id":"j1"}`,
		`{"wake":true}`,
		`{"JOB_ID":"j1"}`,
		`{"job_id":"j1","job_id":"j2"}`,
		// Trailing data.
		`{"job_id":"j1"}{"job_id":"j2"}`,
		`{"job_id":"j1"} x`,
		`{"job_id":"j1"}"`,
		`{"job_id":"j1"},`,
		`{"job_id":"j1"}` + "\x00",
		// Empty, long and implausible ids.
		`{"job_id":""}`,
		`{}`,
		`{"job_id":null}`,
		`{"job_id":"` + strings.Repeat("x", maxJobIDLength+1) + `"}`,
		`{"job_id":"has space"}`,
		`{"job_id":"tab\there"}`,
		`{"job_id":"new\nline"}`,
		`{"job_id":"nul\u0000"}`,
		`{"job_id":"del\u007f"}`,
		// Unicode and invalid UTF-8.
		`{"job_id":"jöb"}`,
		`{"job_id":"作业"}`,
		`{"job_id":"\ud83d\ude00"}`,
		`{"job_id":"\ud800"}`,
		"{\"job_id\":\"j\xff\"}",
		"\xef\xbb\xbf{\"job_id\":\"j1\"}",
		// Not JSON, or not an object with a string id.
		``,
		`   `,
		`job_id=j1`,
		`3f1c2a8e-6b1d-4d5e-9a43-2f7e0b1c9d11`,
		`null`,
		`true`,
		`42`,
		`"j1"`,
		`[]`,
		`[{"job_id":"j1"}]`,
		`{"job_id":42}`,
		`{"job_id":["j1"]}`,
		`{"job_id":{"id":"j1"}}`,
		`{"job_id":"j1"`,
		`{"job_id":"j1",}`,
		`{job_id:"j1"}`,
		// Nested objects.
		`{"job":{"job_id":"j1"}}`,
		`{"job_id":"j1","meta":{"a":{"b":[1,2,{"c":null}]}}}`,
		strings.Repeat(`{"job_id":`, 100) + `"j1"` + strings.Repeat(`}`, 100),
		strings.Repeat(`[`, 10001) + strings.Repeat(`]`, 10001),
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, raw string) {
		id, err := ParseJobMessage(raw)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseJobMessage(%q) returned an error with an empty message", raw)
			}
			if id != "" {
				t.Fatalf("ParseJobMessage(%q) returned id %q with error %v", raw, id, err)
			}
			return
		}
		if id == "" {
			t.Fatalf("ParseJobMessage(%q) accepted an empty id", raw)
		}
		if len(id) > maxJobIDLength {
			t.Fatalf("ParseJobMessage(%q) accepted an id of %d bytes, more than %d", raw, len(id), maxJobIDLength)
		}
		for i := 0; i < len(id); i++ {
			if c := id[i]; c < 0x21 || c > 0x7e {
				t.Fatalf("ParseJobMessage(%q) accepted id %q, whose byte %d (%#x) is not printable ASCII without space", raw, id, i, c)
			}
		}
		// Anything but exactly one JSON value must be refused.
		if !json.Valid([]byte(raw)) {
			t.Fatalf("ParseJobMessage(%q) accepted a message that is not a single JSON value (id %q)", raw, id)
		}

		// The id survives a round trip through a message, however written.
		for _, v := range []any{map[string]string{"job_id": id}, body{JobID: id}} {
			encoded, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("encoding id %q: %v", id, err)
			}
			again, err := ParseJobMessage(string(encoded))
			if err != nil {
				t.Fatalf("ParseJobMessage(%q), the re-encoding of id %q from %q: %v", encoded, id, raw, err)
			}
			if again != id {
				t.Fatalf("ParseJobMessage(%q) = %q, want %q (the id read from %q)", encoded, again, id, raw)
			}
		}
	})
}
