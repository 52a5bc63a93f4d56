package jobtype

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type exportArgs struct {
	Products []string `json:"products"`
}

func (exportArgs) Kind() string { return "amazon:export:products" }

func (a exportArgs) Validate() error {
	if len(a.Products) == 0 {
		return errors.New("products must not be empty")
	}
	return nil
}

func TestRegisteredHandlerGetsTypedArgs(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	Register[exportArgs](r, Func[exportArgs](func(ctx context.Context, rt Runtime, args exportArgs) (any, error) {
		return map[string]int{"exported": len(args.Products)}, nil
	}), AsSystem())
	entry, ok := r.Lookup("amazon:export:products")
	if !ok || !entry.System {
		t.Fatalf("lookup = %+v, %v", entry, ok)
	}
	out, err := entry.Run(context.Background(), nil, json.RawMessage(`{"products": ["a", "b"]}`))
	if err != nil || string(out) != `{"exported":2}` {
		t.Errorf("run = %s, %v", out, err)
	}
	if got := r.Kinds(); len(got) != 1 || got[0] != "amazon:export:products" {
		t.Errorf("kinds = %v", got)
	}
}

func TestPayloadValidation(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	Register[exportArgs](r, Func[exportArgs](func(context.Context, Runtime, exportArgs) (any, error) { return nil, nil }))
	entry, _ := r.Lookup("amazon:export:products")
	for payload, want := range map[string]string{
		`{"products": []}`:            "products must not be empty",
		`{"products": ["a"], "x": 1}`: "unknown field",
		`{"products": "a"}`:           "cannot unmarshal",
	} {
		err := entry.Validate(json.RawMessage(payload))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%s) = %v, want an error with %q", payload, err, want)
		}
	}
	// A payload that fails validation at run time is a permanent failure.
	_, err := entry.Run(context.Background(), nil, json.RawMessage(`{}`))
	var permanent *PermanentError
	if !errors.As(err, &permanent) {
		t.Errorf("run with a bad payload = %v, want a permanent error", err)
	}
}

// selection and options are embedded the way the job types share their
// options, which encoding/json names in its errors but JSON does not have.
type selection struct {
	ProductIDs []string `json:"product_ids"`
}

type options struct {
	selection
	AIOptimize *bool `json:"ai_optimize"`
	Window     struct {
		Days int `json:"days"`
	} `json:"window"`
}

type embeddingArgs struct{ options }

func (embeddingArgs) Kind() string { return "test:embedding" }

func (a embeddingArgs) Validate() error {
	if len(a.ProductIDs) > 2 {
		return InvalidField("product_ids", "product_ids names %d products; at most 2 can be named", len(a.ProductIDs))
	}
	return nil
}

// A payload refused for one of its fields names it by its JSON path,
// whether its own Validate or decoding refused it, with the message's
// words unchanged.
func TestAnInvalidPayloadNamesItsField(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	Register[embeddingArgs](r, Func[embeddingArgs](func(context.Context, Runtime, embeddingArgs) (any, error) { return nil, nil }))
	entry, _ := r.Lookup("test:embedding")
	tests := []struct {
		payload, field, mentions string
	}{
		{`{"product_ids": ["a", "b", "c"]}`, "product_ids", "product_ids names 3 products; at most 2 can be named"},
		{`{"product_ids": "a"}`, "product_ids", "cannot unmarshal string"},
		{`{"product_ids": [1]}`, "product_ids", "cannot unmarshal number"},
		{`{"ai_optimize": "yes"}`, "ai_optimize", "cannot unmarshal string"},
		{`{"window": {"days": "7"}}`, "window.days", "cannot unmarshal string"},
		{`{"product_idz": ["a"]}`, "product_idz", `json: unknown field "product_idz"`},
		{`{"window": {"weeks": 1}}`, "weeks", `json: unknown field "weeks"`},
	}
	for _, tt := range tests {
		err := entry.Validate(json.RawMessage(tt.payload))
		var invalid *FieldError
		if !errors.As(err, &invalid) || invalid.Field != tt.field || !strings.Contains(invalid.Message, tt.mentions) {
			t.Errorf("Validate(%s) = %#v, want field %s mentioning %q", tt.payload, err, tt.field, tt.mentions)
			continue
		}
		if want := "payload of test:embedding: " + invalid.Message; err.Error() != want {
			t.Errorf("Validate(%s) says %q, want %q", tt.payload, err, want)
		}
	}
	// A payload wrong as a whole names no field.
	var invalid *FieldError
	if err := entry.Validate(json.RawMessage(`[1]`)); err == nil || errors.As(err, &invalid) {
		t.Errorf("Validate([1]) = %#v, want an error about no field", err)
	}
}

func TestRegisteringATypeTwicePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	r := NewRegistry()
	h := Func[exportArgs](func(context.Context, Runtime, exportArgs) (any, error) { return nil, nil })
	Register[exportArgs](r, h)
	Register[exportArgs](r, h)
}

// A job that fails with a result keeps it: what it did before it stopped.
func TestAFailureCarriesItsResult(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	Register[exportArgs](r, Func[exportArgs](func(ctx context.Context, rt Runtime, args exportArgs) (any, error) {
		return nil, FailedWithResult(KindValidation, errors.New("Product validation failed: 1 of 2"), map[string]int{"exported": 1, "invalid": 1})
	}))
	entry, _ := r.Lookup("amazon:export:products")
	out, err := entry.Run(context.Background(), nil, json.RawMessage(`{"products": ["a", "b"]}`))
	var permanent *PermanentError
	if !errors.As(err, &permanent) || permanent.Kind != KindValidation {
		t.Fatalf("error %v, want a permanent validation failure", err)
	}
	if string(out) != `{"exported":1,"invalid":1}` {
		t.Errorf("result %s, want the failure's", out)
	}
}
