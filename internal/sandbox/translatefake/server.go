package translatefake

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

const (
	// targetPrefix is the X-Amz-Target of Translate's operations.
	targetPrefix = "AWSShineFrontendService_20170701."
	// translateText is TranslateText's X-Amz-Target.
	translateText = targetPrefix + "TranslateText"
	// maxTextBytes is the most text TranslateText takes (UTF-8).
	maxTextBytes = 10_000
	// maxRequestBytes bounds a body read; a text over maxTextBytes is
	// answered as Translate answers it, the rest is not read.
	maxRequestBytes = 1 << 20
	contentType     = "application/x-amz-json-1.1"
)

// Languages are the codes Translate translates between
// (https://docs.aws.amazon.com/translate/latest/dg/what-is-languages.html).
var Languages = []string{
	"af", "am", "ar", "az", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "es", "es-MX",
	"et", "fa", "fa-AF", "fi", "fr", "fr-CA", "ga", "gu", "ha", "he", "hi", "hr", "ht", "hu", "hy", "id",
	"is", "it", "ja", "ka", "kk", "kn", "ko", "lt", "lv", "mk", "ml", "mn", "mr", "ms", "mt", "nl",
	"no", "pa", "pl", "ps", "pt", "pt-PT", "ro", "ru", "si", "sk", "sl", "so", "sq", "sr", "sv", "sw",
	"ta", "te", "th", "tl", "tr", "uk", "ur", "uz", "vi", "zh", "zh-TW",
}

// Options configure a Server.
type Options struct {
	// Latency is how long Translate takes to answer a call, on the wall
	// clock; nil means at once. UniformLatency(100*time.Millisecond,
	// 300*time.Millisecond) is what a short text takes from inside the
	// region.
	Latency func() time.Duration
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
	Calls     int `json:"calls"`     // every TranslateText request, whatever its answer
	Answered  int `json:"answered"`  // the ones translated
	Throttled int `json:"throttled"` // answered TooManyRequestsException
	// ServerErrors are the injected 500s; Refused the calls answered
	// TextSizeLimitExceeded, UnsupportedLanguagePair or Validation.
	ServerErrors int `json:"server_errors"`
	Refused      int `json:"refused"`
	// Broken is the answers whose markup a fault broke.
	Broken int `json:"broken"`
	// Characters is what Translate would bill: the characters of the texts
	// translated.
	Characters int `json:"characters"`
	// AnsweredByPair counts the answers by language pair, "en>de".
	AnsweredByPair map[string]int `json:"answered_by_pair"`
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	latency   func() time.Duration
	mux       *http.ServeMux
	publicURL fakeserver.PublicURL

	mu             sync.Mutex
	faults         Faults
	serverErrorsIn int // injected server errors since the faults were set: they alternate
	counters       Counters
}

// New returns a server.
func New(opts Options) *Server {
	s := &Server{latency: opts.Latency, mux: http.NewServeMux(), counters: Counters{AnsweredByPair: map[string]int{}}}
	s.mux.HandleFunc("POST /{$}", s.handleOperation)
	s.mux.HandleFunc("GET /_faults", s.handleGetFaults)
	s.mux.HandleFunc("POST /_faults", s.handleSetFaults)
	s.mux.HandleFunc("GET /_counters", s.handleCounters)
	s.mux.HandleFunc("GET /{$}", s.handleIndex)
	return s
}

// ServeHTTP serves TranslateText and the controls.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetPublicURL sets the base URL clients reach the server at, prefix
// included, for the index. Unset, it is the request's scheme and host.
func (s *Server) SetPublicURL(u string) { s.publicURL.Set(u) }

// Counters returns the counts so far.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.counters
	c.AnsweredByPair = make(map[string]int, len(s.counters.AnsweredByPair))
	for pair, n := range s.counters.AnsweredByPair {
		c.AnsweredByPair[pair] = n
	}
	return c
}

func (s *Server) handleCounters(w http.ResponseWriter, _ *http.Request) {
	fakeserver.WriteJSON(w, http.StatusOK, s.Counters())
}

// handleIndex tells a person where to point the Translate client.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	base := s.publicURL.Of(r)
	fakeserver.WriteJSON(w, http.StatusOK, map[string]any{
		"translate_endpoint": base,
		"operations":         []string{translateText},
		"languages":          Languages,
		"faults_url":         base + "/_faults",
		"counters_url":       base + "/_counters",
	})
}

// exception is an error answer as Translate sends it: the status, the type
// in X-Amzn-ErrorType and __type, and {"Message": …}; an
// UnsupportedLanguagePairException also names the two codes.
type exception struct {
	status         int
	typ, message   string
	source, target string
}

var (
	tooManyRequests = exception{status: http.StatusBadRequest, typ: "TooManyRequestsException",
		message: "You have made too many requests within a short period of time. Wait for a short time and then try your request again."}
	internalServer = exception{status: http.StatusInternalServerError, typ: "InternalServerException",
		message: "An internal server error occurred. Retry your request."}
	serviceUnavailable = exception{status: http.StatusInternalServerError, typ: "ServiceUnavailableException",
		message: "The Amazon Translate service is temporarily unavailable. Wait a bit and then retry your request."}
)

func validation(message string) exception {
	return exception{status: http.StatusBadRequest, typ: "ValidationException", message: message}
}

func (e exception) write(w http.ResponseWriter) {
	body := map[string]string{"__type": e.typ, "Message": e.message}
	if e.source != "" {
		body["SourceLanguageCode"], body["TargetLanguageCode"] = e.source, e.target
	}
	w.Header().Set("X-Amzn-ErrorType", e.typ)
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// translateRequest is TranslateText's body; Settings and TerminologyNames
// are read and ignored (no terminology is ever found).
type translateRequest struct {
	SourceLanguageCode *string         `json:"SourceLanguageCode"`
	TargetLanguageCode *string         `json:"TargetLanguageCode"`
	Text               *string         `json:"Text"`
	Settings           json.RawMessage `json:"Settings"`
	TerminologyNames   []string        `json:"TerminologyNames"`
}

type translateResponse struct {
	TranslatedText     string `json:"TranslatedText"`
	SourceLanguageCode string `json:"SourceLanguageCode"`
	TargetLanguageCode string `json:"TargetLanguageCode"`
}

// handleOperation dispatches on X-Amz-Target, as awsJson1_1 services do.
func (s *Server) handleOperation(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	if target := r.Header.Get("X-Amz-Target"); target != translateText {
		exception{status: http.StatusBadRequest, typ: "UnknownOperationException",
			message: fmt.Sprintf("operation %q is not served by this fake", target)}.write(w)
		return
	}
	s.handleTranslateText(w, r)
}

// handleTranslateText plays TranslateText. A call is checked in
// Translate's order, as far as it shows: the request's shape, the text's
// size and the languages (400); then the injected faults, the latency and
// the translation.
func (s *Server) handleTranslateText(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.counters.Calls++
	s.mu.Unlock()

	req, refused := readRequest(w, r)
	if refused == nil {
		s.mu.Lock()
		refused = s.refuseLanguages(req)
		s.mu.Unlock()
	}
	if refused != nil {
		s.mu.Lock()
		s.counters.Refused++
		s.mu.Unlock()
		refused.write(w)
		return
	}

	s.mu.Lock()
	refused, latency := s.admit()
	s.mu.Unlock()
	if refused != nil {
		refused.write(w)
		return
	}
	if latency < 0 && s.latency != nil {
		latency = s.latency()
	}
	if !fakeserver.Delay(w, r, max(latency, 0)) {
		return
	}

	source, target, text := *req.SourceLanguageCode, *req.TargetLanguageCode, *req.Text
	if source == "auto" {
		source = "en" // what Comprehend finds in a store's labels
	}
	answer := Translate(text, source, target)
	s.mu.Lock()
	if s.faults.BreakPlaceholdersNext > 0 {
		// Decided as the answer goes out, so that calls in flight together
		// break no more answers than asked.
		var broken bool
		if answer, broken = breakMarkup(answer, target); broken {
			s.faults.BreakPlaceholdersNext--
			s.counters.Broken++
		}
	}
	s.counters.Answered++
	s.counters.Characters += utf8.RuneCountInString(text)
	s.counters.AnsweredByPair[source+">"+target]++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, translateResponse{TranslatedText: answer, SourceLanguageCode: source, TargetLanguageCode: target})
}

// readRequest decodes and checks a TranslateText body, refusing it as
// Translate does.
func readRequest(w http.ResponseWriter, r *http.Request) (translateRequest, *exception) {
	var req translateRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	refuse := func(e exception) (translateRequest, *exception) { return translateRequest{}, &e }
	if err != nil {
		return refuse(validation("1 validation error detected: the request body is not valid JSON"))
	}
	for _, field := range []struct {
		name  string
		value *string
	}{{"sourceLanguageCode", req.SourceLanguageCode}, {"targetLanguageCode", req.TargetLanguageCode}, {"text", req.Text}} {
		if field.value == nil {
			return refuse(validation(fmt.Sprintf("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field.name)))
		}
	}
	for _, code := range []string{*req.SourceLanguageCode, *req.TargetLanguageCode} {
		if n := len(code); n < 2 || n > 5 {
			return refuse(validation(fmt.Sprintf("1 validation error detected: Value '%s' at 'languageCode' failed to satisfy constraint: Member must have length between 2 and 5", code)))
		}
	}
	if *req.Text == "" {
		return refuse(validation("1 validation error detected: Value '' at 'text' failed to satisfy constraint: Member must have length greater than or equal to 1"))
	}
	if n := len(*req.Text); n > maxTextBytes {
		return refuse(exception{status: http.StatusBadRequest, typ: "TextSizeLimitExceededException",
			message: fmt.Sprintf("Input text size exceeds limit. Max length of request text allowed is %d bytes while in this request the text size is %d bytes", maxTextBytes, n)})
	}
	return req, nil
}

// refuseLanguages answers, under s.mu, a pair Translate does not
// translate: a code it does not know, or one the faults withdrew.
func (s *Server) refuseLanguages(req translateRequest) *exception {
	source, target := *req.SourceLanguageCode, *req.TargetLanguageCode
	known := func(code string) bool {
		return slices.Contains(Languages, code) && !slices.Contains(s.faults.UnsupportedLanguages, code)
	}
	if (source != "auto" && !known(source)) || !known(target) {
		return &exception{status: http.StatusBadRequest, typ: "UnsupportedLanguagePairException",
			message: fmt.Sprintf("Unsupported language pair: %s to %s", source, target), source: source, target: target}
	}
	return nil
}

// admit decides, under s.mu, whether a call is answered; if it is, admit
// tells the latency the faults set (-1: the server's own).
func (s *Server) admit() (*exception, time.Duration) {
	switch {
	case s.faults.ServerErrorsNext > 0:
		s.faults.ServerErrorsNext--
		s.counters.ServerErrors++
		e := internalServer
		if s.serverErrorsIn%2 == 1 {
			e = serviceUnavailable
		}
		s.serverErrorsIn++
		return &e, 0
	case s.faults.ThrottleNext > 0:
		s.faults.ThrottleNext--
		s.counters.Throttled++
		return &tooManyRequests, 0
	}
	latency := time.Duration(-1)
	if s.faults.Latency > 0 {
		latency = s.faults.Latency
	}
	return nil, latency
}
