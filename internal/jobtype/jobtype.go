// Package jobtype is how job types plug into the worker: a typed handler
// per job type, registered by the type's name, with the runtime it gets
// while it runs (progress, checkpoints, logs) and the errors that tell the
// worker what to do when it stops. Its subpackages are the job types.
package jobtype

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"

	"github.com/dainostore/jobs/internal/secret"
)

// Args is a job type's payload. Kind names the job type, such as
// "amazon:export:products".
type Args interface {
	Kind() string
}

// Validator is implemented by Args that check themselves beyond decoding.
// An error about one field should be a FieldError (InvalidField): the API
// names the field to the client.
type Validator interface {
	Validate() error
}

// Runtime is what a running job can do besides its own work.
type Runtime interface {
	// Progress reports how far the job is (0-100) and what it is doing.
	// Writes are coalesced, so calling it for every item is cheap.
	Progress(percent int, message string)
	// Checkpoint durably saves the state the job would resume from, with the
	// current progress. It returns an error when the job must stop (its
	// lease was lost or it was cancelled).
	Checkpoint(state any) error
	// Resume loads the last checkpoint into state; false when there is none.
	Resume(state any) (bool, error)
	// Log writes a line to the job's log.
	Log(level slog.Level, message string, attrs ...slog.Attr)
	// Attempt is the attempt number, starting at 1.
	Attempt() int
	// JobID is the running job's id.
	JobID() string
	// StoreID is the store the job belongs to.
	StoreID() string
}

// Handler runs jobs of one type. The returned result is saved with the job.
// The context ends when the job is cancelled or the invocation's deadline is
// near; a handler that stops for that returns ctx.Err() (or any error
// wrapping it) after its last checkpoint.
type Handler[T Args] interface {
	Run(ctx context.Context, rt Runtime, args T) (result any, err error)
}

// Func adapts a function to a Handler.
type Func[T Args] func(ctx context.Context, rt Runtime, args T) (any, error)

// Run calls f.
func (f Func[T]) Run(ctx context.Context, rt Runtime, args T) (any, error) { return f(ctx, rt, args) }

// Entry is a registered job type, with its payload type erased.
type Entry struct {
	Kind string
	// System jobs are created by the platform's schedules, not by stores.
	System bool
	// Secrets says which payload fields hold credentials: never returned by
	// the API, scrubbed from errors and logs.
	Secrets secret.Rule
	// Marketplace is the marketplace whose connection the job uses: a job
	// is refused at create while the store has not connected it.
	Marketplace string
	validate    func(payload json.RawMessage) error
	run         func(ctx context.Context, rt Runtime, payload json.RawMessage) (json.RawMessage, error)
}

// Validate decodes the payload (rejecting unknown fields) and checks it.
// An error about one field of the payload has a *FieldError in its chain.
func (e *Entry) Validate(payload json.RawMessage) error { return e.validate(payload) }

// Run decodes the payload and runs the handler. A failure can come with a
// result (FailedWithResult).
func (e *Entry) Run(ctx context.Context, rt Runtime, payload json.RawMessage) (json.RawMessage, error) {
	return e.run(ctx, rt, payload)
}

// Registry maps job type names to their handlers.
type Registry struct {
	entries map[string]*Entry
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{entries: map[string]*Entry{}} }

// Option changes how a job type is registered.
type Option func(*Entry)

// SecretFields marks payload fields that hold credentials, beyond those the
// naming rule of package secret already finds.
func SecretFields(names ...string) Option {
	return func(e *Entry) { e.Secrets.Extra = append(e.Secrets.Extra, names...) }
}

// UsesConnection says the job type works with the store's connection to a
// marketplace (package connection), which must exist to create a job.
func UsesConnection(marketplace string) Option { return func(e *Entry) { e.Marketplace = marketplace } }

// AsSystem marks the job type as a platform job that stores may not create.
func AsSystem() Option { return func(e *Entry) { e.System = true } }

// Register adds a handler for the job type named by T's Kind.
func Register[T Args](r *Registry, h Handler[T], opts ...Option) {
	var zero T
	kind := zero.Kind()
	decode := func(payload json.RawMessage) (T, error) {
		var args T
		if len(payload) == 0 || bytes.Equal(payload, []byte("null")) {
			payload = json.RawMessage("{}")
		}
		dec := json.NewDecoder(bytes.NewReader(payload))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&args); err != nil {
			return args, fmt.Errorf("payload of %s: %w", kind, DecodeError(reflect.TypeFor[T](), err))
		}
		if v, ok := any(args).(Validator); ok {
			if err := v.Validate(); err != nil {
				return args, fmt.Errorf("payload of %s: %w", kind, err)
			}
		}
		return args, nil
	}
	entry := &Entry{
		Kind: kind,
		validate: func(payload json.RawMessage) error {
			_, err := decode(payload)
			return err
		},
		run: func(ctx context.Context, rt Runtime, payload json.RawMessage) (json.RawMessage, error) {
			args, err := decode(payload)
			if err != nil {
				return nil, Permanent(err)
			}
			result, err := h.Run(ctx, rt, args)
			if err != nil {
				var failed *PermanentError
				if errors.As(err, &failed) && failed.Result != nil {
					// A failed job keeps what it reports; a result that cannot
					// be encoded is a bug, but must not hide the failure.
					data, _ := json.Marshal(failed.Result)
					return data, err
				}
				return nil, err
			}
			if result == nil {
				return nil, nil
			}
			data, err := json.Marshal(result)
			if err != nil {
				return nil, Permanent(fmt.Errorf("encode result of %s: %w", kind, err))
			}
			return data, nil
		},
	}
	for _, opt := range opts {
		opt(entry)
	}
	if _, dup := r.entries[kind]; dup {
		panic("handler: job type registered twice: " + kind)
	}
	r.entries[kind] = entry
}

// SecretRule is the secret rule of a job type; an unknown type gets the
// naming rule alone.
func (r *Registry) SecretRule(kind string) secret.Rule {
	if e, ok := r.entries[kind]; ok {
		return e.Secrets
	}
	return secret.Rule{}
}

// Lookup finds the entry of a job type.
func (r *Registry) Lookup(kind string) (*Entry, bool) {
	e, ok := r.entries[kind]
	return e, ok
}

// Kinds lists the registered job types, sorted.
func (r *Registry) Kinds() []string {
	kinds := make([]string, 0, len(r.entries))
	for k := range r.entries {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}
