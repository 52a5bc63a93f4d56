package bedrockfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
	"github.com/google/uuid"
)

// maxRequestBytes bounds a Converse body; Bedrock's own limit is higher,
// but no product prompt comes near this.
const maxRequestBytes = 10 << 20

// Options configure a Server.
type Options struct {
	// Models are the model ids the account may call; nil means
	// DefaultModels(). Any other id is answered 404.
	Models []string
	// Latency is how long the model takes to answer a call, on the wall
	// clock; nil means at once. It is called once for each call that is
	// answered, while the call holds its place among MaxConcurrent.
	// UniformLatency(2*time.Second, 4*time.Second) is what the sandbox
	// feels like against a small model.
	Latency func() time.Duration
	// MaxConcurrent caps the calls in flight, as an account's per-model
	// quota does: one more is answered 429 ThrottlingException. 0 means no
	// cap.
	MaxConcurrent int
}

// DefaultModels returns real model ids: base models and the US
// cross-region inference profiles of two of them.
func DefaultModels() []string {
	return []string{
		"amazon.nova-micro-v1:0",
		"amazon.nova-lite-v1:0",
		"amazon.nova-pro-v1:0",
		"anthropic.claude-3-haiku-20240307-v1:0",
		"us.amazon.nova-lite-v1:0",
		"us.anthropic.claude-3-5-haiku-20241022-v1:0",
	}
}

// UniformLatency returns a Latency drawn uniformly between lo and hi.
func UniformLatency(lo, hi time.Duration) func() time.Duration {
	return func() time.Duration {
		if hi <= lo {
			return lo
		}
		return lo + rand.N(hi-lo+1)
	}
}

// Counters count what the server was asked, since it started.
type Counters struct {
	Calls        int            `json:"calls"`     // every Converse request, whatever its answer
	Answered     int            `json:"answered"`  // the ones the model answered
	Throttled    int            `json:"throttled"` // the ones answered 429 ThrottlingException
	InputTokens  int            `json:"input_tokens"`
	OutputTokens int            `json:"output_tokens"`
	CallsByModel map[string]int `json:"calls_by_model"` // every Converse request, by the model id asked for
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	models        []string
	latency       func() time.Duration
	maxConcurrent int
	mux           *http.ServeMux
	publicURL     fakeserver.PublicURL

	mu             sync.Mutex
	faults         Faults
	serverErrorsIn int // injected server errors since the faults were set: they alternate 500, 503
	inFlight       int
	counters       Counters
}

// New returns a server that serves opts.Models.
func New(opts Options) *Server {
	s := &Server{
		models:        slices.Clone(opts.Models),
		latency:       opts.Latency,
		maxConcurrent: opts.MaxConcurrent,
		mux:           http.NewServeMux(),
		counters:      Counters{CallsByModel: make(map[string]int)},
	}
	if s.models == nil {
		s.models = DefaultModels()
	}
	s.mux.HandleFunc("POST /model/{modelId}/converse", s.handleConverse)
	s.mux.HandleFunc("/model/", s.handleUnknownOperation)
	s.mux.HandleFunc("GET /_faults", s.handleGetFaults)
	s.mux.HandleFunc("POST /_faults", s.handleSetFaults)
	s.mux.HandleFunc("GET /_counters", s.handleCounters)
	s.mux.HandleFunc("GET /{$}", s.handleIndex)
	return s
}

// ServeHTTP serves Converse and the controls. Only Converse is ever
// delayed, so a person can always change the faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetPublicURL sets the base URL clients reach the server at, prefix
// included, for the index. Unset, it is the request's scheme and host.
func (s *Server) SetPublicURL(u string) { s.publicURL.Set(u) }

// Counters returns the counts so far.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters
	c.CallsByModel = make(map[string]int, len(s.counters.CallsByModel))
	for id, n := range s.counters.CallsByModel {
		c.CallsByModel[id] = n
	}
	return c
}

func (s *Server) handleCounters(w http.ResponseWriter, _ *http.Request) {
	fakeserver.WriteJSON(w, http.StatusOK, s.Counters())
}

// handleIndex tells a person where to point the Bedrock Runtime client.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	base := s.publicURL.Of(r)
	fakeserver.WriteJSON(w, http.StatusOK, map[string]any{
		"bedrock_runtime_endpoint": base,
		"converse_url":             base + "/model/{modelId}/converse",
		"models":                   s.models,
		"faults_url":               base + "/_faults",
		"counters_url":             base + "/_counters",
	})
}

// exception is an error answer as Bedrock sends it: the status, the type
// in X-Amzn-ErrorType (which the SDK reads first) and {"message":…}.
type exception struct {
	status       int
	typ, message string
}

var (
	throttling = exception{http.StatusTooManyRequests, "ThrottlingException",
		"Too many requests, please wait before trying again."}
	internalServer = exception{http.StatusInternalServerError, "InternalServerException",
		"The system encountered an unexpected error during processing. Try your request again."}
	serviceUnavailable = exception{http.StatusServiceUnavailable, "ServiceUnavailableException",
		"Bedrock is unable to process your request."}
	modelNotFound = exception{http.StatusNotFound, "ResourceNotFoundException",
		"Could not resolve the foundation model from the provided model identifier."}
	accessDenied = exception{http.StatusForbidden, "AccessDeniedException",
		"You don't have access to the model with the specified model ID."}
)

func validation(message string) exception {
	return exception{http.StatusBadRequest, "ValidationException", message}
}

func (e exception) write(w http.ResponseWriter) {
	w.Header().Set("X-Amzn-ErrorType", e.typ+":http://internal.amazon.com/coral/com.amazon.bedrock/")
	fakeserver.WriteJSON(w, e.status, map[string]string{"message": e.message})
}

// handleUnknownOperation answers the Bedrock Runtime operations the fake
// does not play (InvokeModel, ConverseStream, …) as an unknown operation.
func (s *Server) handleUnknownOperation(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	exception{http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("%s %s is not served by this fake", r.Method, r.URL.Path)}.write(w)
}

// handleConverse plays Converse. A call is checked in Bedrock's order, as
// far as it shows: the request's shape (400), the model (404, 403), the
// calls in flight (429); then the injected faults, the model's latency and
// its answer.
func (s *Server) handleConverse(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	modelID := r.PathValue("modelId") // unescaped: amazon.nova-lite-v1:0
	s.mu.Lock()
	s.counters.Calls++
	s.counters.CallsByModel[modelID]++
	s.mu.Unlock()

	req, refused := readRequest(w, r)
	if refused != nil {
		refused.write(w)
		return
	}

	s.mu.Lock()
	refused, shape, latency := s.admit(modelID)
	s.mu.Unlock()
	if refused != nil {
		refused.write(w)
		return
	}
	defer s.leave()

	if latency < 0 && s.latency != nil {
		latency = s.latency()
	}
	latency = max(latency, 0)
	if !fakeserver.Delay(w, r, latency) {
		return
	}

	answer := reply(req, shape)
	s.mu.Lock()
	s.counters.Answered++
	s.counters.InputTokens += answer.inputTokens
	s.counters.OutputTokens += answer.outputTokens
	s.mu.Unlock()
	fakeserver.WriteJSON(w, http.StatusOK, answer.response(latency))
}

// admit decides, under s.mu, whether a call is answered; if it is, the
// call takes a place in flight until leave, and admit tells how the answer
// is shaped and the latency the faults set (-1: the server's own).
func (s *Server) admit(modelID string) (*exception, answerShape, time.Duration) {
	var refused *exception
	switch {
	case !slices.Contains(s.models, modelID):
		refused = &modelNotFound
	case slices.Contains(s.faults.DeniedModels, modelID):
		refused = &accessDenied
	case s.maxConcurrent > 0 && s.inFlight >= s.maxConcurrent:
		refused = &throttling
	case s.faults.ServerErrorsNext > 0:
		s.faults.ServerErrorsNext--
		refused = &internalServer
		if s.serverErrorsIn%2 == 1 {
			refused = &serviceUnavailable
		}
		s.serverErrorsIn++
	case s.faults.ThrottleNext > 0:
		s.faults.ThrottleNext--
		refused = &throttling
	}
	if refused != nil {
		if refused == &throttling {
			s.counters.Throttled++
		}
		return refused, shapeFollowed, 0
	}
	s.inFlight++

	shape := shapeFollowed
	switch {
	case s.faults.InvalidJSONNext > 0:
		s.faults.InvalidJSONNext--
		shape = shapeProse
	case s.faults.OverlongNext > 0:
		s.faults.OverlongNext--
		shape = shapeOverlongTitle
	case s.faults.MaxTokensNext > 0:
		s.faults.MaxTokensNext--
		shape = shapeCutOff
	case s.faults.FencedNext > 0:
		s.faults.FencedNext--
		shape = shapeFenced
	}
	latency := time.Duration(-1)
	if s.faults.Latency > 0 {
		latency = s.faults.Latency
	}
	return nil, shape, latency
}

// leave frees the place a call took in admit.
func (s *Server) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
}

// converseRequest is the part of a Converse body the model reads; other
// fields (toolConfig, guardrailConfig, …) are accepted and ignored.
type converseRequest struct {
	Messages        []message       `json:"messages"`
	System          []contentBlock  `json:"system"`
	InferenceConfig inferenceConfig `json:"inferenceConfig"`
}

type message struct {
	Role    string         `json:"role"`
	Content []contentBlock `json:"content"`
}

// contentBlock is a union; the fake reads text blocks and passes over the
// others (images, documents, tool results).
type contentBlock struct {
	Text *string `json:"text,omitempty"`
}

type inferenceConfig struct {
	MaxTokens   *int     `json:"maxTokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"topP,omitempty"`
}

// readRequest decodes and checks a Converse body, refusing it with
// Bedrock's ValidationException messages.
func readRequest(w http.ResponseWriter, r *http.Request) (converseRequest, *exception) {
	var req converseRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	refuse := func(message string) (converseRequest, *exception) {
		e := validation(message)
		return converseRequest{}, &e
	}
	if err != nil {
		return refuse("Malformed input request, please reformat your input and try again.")
	}
	if len(req.Messages) == 0 || req.Messages[0].Role != "user" {
		return refuse("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	for i, m := range req.Messages {
		if want := []string{"user", "assistant"}[i%2]; m.Role != want {
			return refuse("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(m.Content) == 0 {
			return refuse(fmt.Sprintf("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i))
		}
	}
	c := req.InferenceConfig
	switch {
	case c.MaxTokens != nil && *c.MaxTokens < 1:
		return refuse(fmt.Sprintf("1 validation error detected: Value '%d' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1", *c.MaxTokens))
	case c.Temperature != nil && (*c.Temperature < 0 || *c.Temperature > 1):
		return refuse(fmt.Sprintf("1 validation error detected: Value '%g' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value between 0 and 1", *c.Temperature))
	case c.TopP != nil && (*c.TopP < 0 || *c.TopP > 1):
		return refuse(fmt.Sprintf("1 validation error detected: Value '%g' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value between 0 and 1", *c.TopP))
	}
	return req, nil
}
