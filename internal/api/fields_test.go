package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dainostore/jobs/internal/testenv"
)

// send calls the API with a token and a body, and decodes its JSON answer.
func send(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d with a body that is not JSON: %v", method, url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// A 400 about one field of the request names it in the error's fields,
// with the words of the error's message, so a client can show the problem
// beside the field; a request wrong as a whole names none.
func TestValidationErrorsNameTheirField(t *testing.T) {
	t.Parallel()
	_, server := serveAPI(t)
	operator := testenv.OperatorToken(t)
	jobs := server.URL + "/api/background-jobs"
	tests := []struct {
		name, method, url, body string
		code, field, mentions   string // field "" when the answer names none
	}{
		{"a payload field's wrong value", http.MethodPost, jobs,
			`{"type": "translation:ui-labels:bulk", "store_id": "north", "payload": {"target_language": "xx"}}`,
			"invalid_payload", "payload.target_language", `target_language "xx" is not a language Amazon Translate translates into`},
		{"a payload field that the type does not have", http.MethodPost, jobs,
			`{"type": "dev:simulate", "store_id": "north", "payload": {"stepz": 1}}`,
			"invalid_payload", "payload.stepz", `unknown field "stepz"`},
		{"a payload field of the wrong type, in shared options", http.MethodPost, jobs,
			`{"type": "amazon:export:products", "store_id": "north", "payload": {"product_ids": "shopify-1"}}`,
			"invalid_payload", "payload.product_ids", "cannot unmarshal string"},
		{"a payload out of bounds", http.MethodPost, jobs,
			`{"type": "dev:simulate", "store_id": "north", "payload": {"steps": -1}}`,
			"invalid_payload", "payload.steps", "steps must be between 0 and 10000"},
		{"a payload wrong as a whole", http.MethodPost, jobs,
			`{"type": "amazon:export:products", "store_id": "north", "payload": {"all": true, "collection": "c1"}}`,
			"invalid_payload", "payload", "choose the products with exactly one of"},
		{"no type", http.MethodPost, jobs, `{"store_id": "north"}`,
			"invalid_request", "type", "type is required"},
		{"a type that is not a string", http.MethodPost, jobs, `{"type": 7, "store_id": "north"}`,
			"invalid_request", "type", "cannot unmarshal number"},
		{"an unknown priority", http.MethodPost, jobs, `{"type": "dev:simulate", "store_id": "north", "priority": "medium"}`,
			"invalid_request", "priority", "medium"},
		{"a bad store_id", http.MethodPost, jobs, `{"type": "dev:simulate", "store_id": "-north"}`,
			"invalid_request", "store_id", "store_id must be 1-128 characters"},
		{"a payload that is not an object", http.MethodPost, jobs, `{"type": "dev:simulate", "store_id": "north", "payload": [1]}`,
			"invalid_request", "payload", "payload must be a JSON object"},
		{"an unknown field", http.MethodPost, jobs, `{"type": "dev:simulate", "store_id": "north", "priorty": "high"}`,
			"invalid_request", "priorty", `unknown field "priorty"`},
		{"a body that is not JSON", http.MethodPost, jobs, `{"type": `,
			"invalid_request", "", "request body is not a JSON object"},
		{"a repeated key", http.MethodPost, jobs, `{"type": "dev:simulate", "type": "dev:simulate", "store_id": "north"}`,
			"invalid_request", "", `repeats the key "type"`},
		{"a bad list status", http.MethodGet, jobs + "?status=done", "",
			"invalid_request", "status", `status "done" is not one of`},
		{"an unknown list parameter", http.MethodGet, jobs + "?stauts=failed", "",
			"invalid_request", "stauts", `unknown query parameter "stauts"`},
		{"a pause's option of the wrong type", http.MethodPost, jobs + "/pause", `{"type": 7}`,
			"invalid_request", "type", "cannot unmarshal number"},
		{"a bad metrics window", http.MethodGet, jobs + "/metrics?days=0", "",
			"invalid_request", "days", "days must be between 1 and"},
		{"a bad catalog source", http.MethodGet, server.URL + "/api/catalog/products?store_id=north&source=etsy", "",
			"invalid_request", "source", `source "etsy" is not shopify or akeneo`},
		{"a label without text", http.MethodPut, server.URL + "/api/catalog/ui-labels?store_id=north&language=en",
			`{"labels": [{"key": "cart.title", "text": "Cart"}, {"key": "cart.empty", "text": " "}]}`,
			"invalid_request", "labels.1.text", "labels[1] (cart.empty): text is empty"},
	}
	for _, tt := range tests {
		status, out := send(t, tt.method, tt.url, operator, tt.body)
		apiErr, _ := out["error"].(map[string]any)
		message, _ := apiErr["message"].(string)
		if apiErr["code"] != tt.code || !strings.Contains(message, tt.mentions) {
			t.Errorf("%s: %d %v, want %s mentioning %q", tt.name, status, out, tt.code, tt.mentions)
			continue
		}
		fields, named := apiErr["fields"]
		if tt.field == "" {
			if named {
				t.Errorf("%s: fields %v, want none", tt.name, fields)
			}
			continue
		}
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", tt.name, status)
		}
		list, _ := fields.([]any)
		if len(list) != 1 {
			t.Errorf("%s: fields %v, want one: %s", tt.name, fields, tt.field)
			continue
		}
		field, _ := list[0].(map[string]any)
		fieldMessage, _ := field["message"].(string)
		if field["field"] != tt.field || fieldMessage == "" || !strings.Contains(message, fieldMessage) || !strings.Contains(fieldMessage, tt.mentions) {
			t.Errorf("%s: fields %v, want %s with the words of %q", tt.name, fields, tt.field, message)
		}
	}
}
