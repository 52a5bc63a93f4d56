package akeneofake

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of Options.
const (
	DefaultTokenTTL = time.Hour
	// DefaultMaxConcurrent is Akeneo's limit of concurrent calls per
	// connection.
	DefaultMaxConcurrent = 4
	// refreshTokenTTL is Akeneo's default lifetime of a refresh token.
	refreshTokenTTL = 14 * 24 * time.Hour
)

// Options tune a Fake.
type Options struct {
	// Now tells the fake's time: token expiries, update dates of edited
	// products, the rate limit's refill. Nil means time.Now.
	Now func() time.Time
	// TokenTTL is the access tokens' lifetime (default 1 h, as Akeneo).
	TokenTTL time.Duration
	// RequestsPerSecond, if above zero, is the rate each client may call at;
	// beyond it the fake answers 429 with Retry-After.
	RequestsPerSecond float64
	// MaxConcurrent is how many calls a client may have in flight (default
	// 4, as Akeneo); one more is answered 429. Negative means no limit.
	MaxConcurrent int
}

// Faults are failures the fake injects, set by SetFaults or by POST /_faults
// with their JSON.
type Faults struct {
	// RevokedCredentials makes the token endpoint refuse every grant (422)
	// and every issued token fail with 401, as when the API user is
	// removed.
	RevokedCredentials bool `json:"revoked_credentials"`
	// ExpireTokens expires every access token issued so far: they are
	// answered 401 "The access token provided has expired.", and a client
	// must renew. It acts once, when set, and reads back false.
	ExpireTokens bool `json:"expire_tokens"`
	// RateLimitNext answers the next N resource calls 429.
	RateLimitNext int `json:"rate_limit_next"`
	// RetryAfterSeconds is the Retry-After of the injected 429s (default 1).
	RetryAfterSeconds int `json:"retry_after_seconds"`
	// ServerErrorsNext answers the next N resource calls 500 and 503 in
	// turn.
	ServerErrorsNext int `json:"server_errors_next"`
	// LatencyMS delays every call, in flight, by this many milliseconds.
	LatencyMS int `json:"latency_ms"`
}

// Counters say what the fake was asked and answered.
type Counters struct {
	// TokenRequests is every call of the token endpoint; PasswordGrants and
	// RefreshGrants the tokens it issued.
	TokenRequests  int
	PasswordGrants int
	RefreshGrants  int
	// ProductPages and CategoryPages are the list pages served.
	ProductPages  int
	CategoryPages int
	// MediaDownloads counts the downloads asked for, by media file code,
	// served or not.
	MediaDownloads map[string]int
	// Unauthorized, RateLimited and ServerErrors count the 401, 429 and
	// 5xx answers.
	Unauthorized int
	RateLimited  int
	ServerErrors int
	// InFlight is the calls in flight now; MaxConcurrent the most one
	// client had in flight at once.
	InFlight      int
	MaxConcurrent int
}

// Fake is a fake Akeneo PIM. It is safe for concurrent use.
type Fake struct {
	opts   Options
	routes *http.ServeMux

	mu        sync.Mutex
	publicURL string
	clients   map[string]apiClient
	access    map[string]*issuedToken
	refresh   map[string]*issuedToken
	catalog   Catalog
	// byUUID indexes catalog.Products in uuid order, the listing order.
	byUUID []int
	// positions are the categories' positions among their siblings.
	positions map[string]int
	faults    Faults
	// serverErrors counts the injected 5xx, to alternate 500 and 503.
	serverErrors int
	counters     Counters
	inFlight     map[string]int
	buckets      map[string]*bucket
}

// apiClient is a connection the fake accepts, with its API user.
type apiClient struct {
	secret, username, password string
}

type issuedToken struct {
	clientID  string
	expiresAt time.Time
	expired   bool // by the ExpireTokens fault
}

// New returns a fake PIM with no clients and an empty catalog.
func New(o Options) *Fake {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.MaxConcurrent == 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	f := &Fake{
		opts:     o,
		clients:  map[string]apiClient{},
		access:   map[string]*issuedToken{},
		refresh:  map[string]*issuedToken{},
		inFlight: map[string]int{},
		buckets:  map[string]*bucket{},
		counters: Counters{MediaDownloads: map[string]int{}},
	}
	f.SetCatalog(Catalog{})
	mux := http.NewServeMux()
	mux.HandleFunc("/api/oauth/v1/token", f.serveToken)
	mux.HandleFunc("GET /api/rest/v1/products-uuid", f.resource(f.listProducts))
	mux.HandleFunc("GET /api/rest/v1/products-uuid/{uuid}", f.resource(f.getProduct))
	mux.HandleFunc("GET /api/rest/v1/categories", f.resource(f.listCategories))
	mux.HandleFunc("GET /api/rest/v1/categories/{code}", f.resource(f.getCategory))
	mux.HandleFunc("GET /api/rest/v1/media-files/{path...}", f.resource(f.downloadMedia))
	mux.HandleFunc("GET /_faults", f.getFaults)
	mux.HandleFunc("POST /_faults", f.postFaults)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No route found for \"%s %s\"", r.Method, r.URL.Path))
	})
	f.routes = mux
	return f
}

// ServeHTTP serves Akeneo's API at the root of the URL space: mount it
// elsewhere with http.StripPrefix, and tell it where with SetPublicURL.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.routes.ServeHTTP(w, r)
}

// SetPublicURL says where the fake is reachable, such as
// http://127.0.0.1:8080/sandbox/akeneo; the links it answers with (next
// pages, media downloads) are built on it. Unset, they are built on the
// request's host, which is right when the fake is mounted at the root.
func (f *Fake) SetPublicURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publicURL = strings.TrimSuffix(u, "/")
}

// AddClient makes the fake accept a connection: its client id and secret,
// and its API user's username and password.
func (f *Fake) AddClient(clientID, secret, username, password string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clients[clientID] = apiClient{secret: secret, username: username, password: password}
}

// SetCatalog replaces what the fake holds with a copy of c. Categories are
// kept in tree order.
func (f *Fake) SetCatalog(c Catalog) {
	c = c.clone()
	c.Categories = treeOrder(c.Categories)
	byUUID := make([]int, len(c.Products))
	for i := range byUUID {
		byUUID[i] = i
	}
	slices.SortFunc(byUUID, func(a, b int) int { return strings.Compare(c.Products[a].UUID, c.Products[b].UUID) })
	positions := map[string]int{}
	siblings := map[string]int{}
	for _, cat := range c.Categories {
		siblings[cat.Parent]++
		positions[cat.Code] = siblings[cat.Parent]
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.catalog, f.byUUID, f.positions = c, byUUID, positions
}

// Catalog returns a copy of what the fake holds, edits included.
func (f *Fake) Catalog() Catalog {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.catalog.clone()
}

// ErrNoProduct is UpdateProduct's error for a uuid the fake does not hold.
var ErrNoProduct = errors.New("akeneofake: no such product")

// UpdateProduct edits a product as a PIM user would: edit changes it (nil
// changes nothing) and its update date becomes now, so it shows in a
// listing of the products updated since. The uuid cannot change.
func (f *Fake) UpdateProduct(uuid string, edit func(*Product)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.catalog.Products {
		p := &f.catalog.Products[i]
		if p.UUID != uuid {
			continue
		}
		if edit != nil {
			edited := p.clone()
			edit(&edited)
			edited.UUID = uuid
			*p = edited
		}
		p.Updated = f.opts.Now().UTC().Truncate(time.Second)
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNoProduct, uuid)
}

// SetFaults replaces the injected faults.
func (f *Fake) SetFaults(faults Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setFaultsLocked(faults)
}

func (f *Fake) setFaultsLocked(faults Faults) {
	if faults.ExpireTokens {
		for _, t := range f.access {
			t.expired = true
		}
		faults.ExpireTokens = false
	}
	f.faults = faults
}

// Faults returns the faults still to be injected.
func (f *Fake) Faults() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults
}

// Counters returns what the fake has counted so far.
func (f *Fake) Counters() Counters {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.counters
	for _, n := range f.inFlight {
		c.InFlight += n
	}
	c.MediaDownloads = make(map[string]int, len(f.counters.MediaDownloads))
	for code, n := range f.counters.MediaDownloads {
		c.MediaDownloads[code] = n
	}
	return c
}

func (f *Fake) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, f.Faults())
}

func (f *Fake) postFaults(w http.ResponseWriter, r *http.Request) {
	var faults Faults
	decoder := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&faults); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid json message received: "+err.Error())
		return
	}
	f.mu.Lock()
	f.setFaultsLocked(faults)
	current := f.faults
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, current)
}

// resource wraps a handler of the REST API with what every call goes
// through: the bearer token, the limits on concurrency and rate, the
// injected faults.
func (f *Fake) resource(handle func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		clientID, status, message := f.authenticate(r)
		if status != 0 {
			writeError(w, status, message)
			return
		}
		if !f.enter(w, clientID) {
			return
		}
		defer f.leave(clientID)
		if !f.delay(r) {
			return
		}
		if !f.admit(w, clientID) {
			return
		}
		handle(w, r)
	}
}

// authenticate finds the client of the request's bearer token; a refusal
// comes with Akeneo's status and message.
func (f *Fake) authenticate(r *http.Request) (clientID string, status int, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	header := r.Header.Get("Authorization")
	bearer, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || bearer == "" {
		f.counters.Unauthorized++
		return "", http.StatusUnauthorized, "Authentication is required"
	}
	t, ok := f.access[bearer]
	switch {
	case !ok || f.faults.RevokedCredentials:
		f.counters.Unauthorized++
		return "", http.StatusUnauthorized, "The access token provided is invalid."
	case t.expired || !f.opts.Now().Before(t.expiresAt):
		f.counters.Unauthorized++
		return "", http.StatusUnauthorized, "The access token provided has expired."
	}
	return t.clientID, 0, ""
}

// enter counts a call in flight, or answers 429 if the client has too many.
func (f *Fake) enter(w http.ResponseWriter, clientID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opts.MaxConcurrent > 0 && f.inFlight[clientID] >= f.opts.MaxConcurrent {
		f.counters.RateLimited++
		writeRateLimited(w, 1)
		return false
	}
	f.inFlight[clientID]++
	f.counters.MaxConcurrent = max(f.counters.MaxConcurrent, f.inFlight[clientID])
	return true
}

func (f *Fake) leave(clientID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inFlight[clientID]--
}

// delay waits the injected latency; false means the caller went away.
func (f *Fake) delay(r *http.Request) bool {
	f.mu.Lock()
	latency := time.Duration(f.faults.LatencyMS) * time.Millisecond
	f.mu.Unlock()
	if latency <= 0 {
		return true
	}
	timer := time.NewTimer(latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// admit answers the injected 429s and 5xx and the rate limit; true lets the
// call through.
func (f *Fake) admit(w http.ResponseWriter, clientID string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.faults.RateLimitNext > 0 {
		f.faults.RateLimitNext--
		f.counters.RateLimited++
		writeRateLimited(w, max(1, f.faults.RetryAfterSeconds))
		return false
	}
	if wait, ok := f.takeRequest(clientID); !ok {
		f.counters.RateLimited++
		writeRateLimited(w, wait)
		return false
	}
	if f.faults.ServerErrorsNext > 0 {
		f.faults.ServerErrorsNext--
		f.counters.ServerErrors++
		f.serverErrors++
		if f.serverErrors%2 == 1 {
			writeError(w, http.StatusInternalServerError, "Internal Server Error")
		} else {
			writeError(w, http.StatusServiceUnavailable, "Service Unavailable")
		}
		return false
	}
	return true
}

// bucket is a client's token bucket for the RequestsPerSecond limit.
type bucket struct {
	tokens float64
	last   time.Time
}

// takeRequest spends one of the client's requests of this second; if none
// is left it says how many whole seconds to wait.
func (f *Fake) takeRequest(clientID string) (retryAfterSeconds int, ok bool) {
	rate := f.opts.RequestsPerSecond
	if rate <= 0 {
		return 0, true
	}
	burst := math.Max(1, rate)
	now := f.opts.Now()
	b, found := f.buckets[clientID]
	if !found {
		b = &bucket{tokens: burst, last: now}
		f.buckets[clientID] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return max(1, int(math.Ceil((1-b.tokens)/rate))), false
}

// baseURL is where links point: the public URL, or the request's host.
func (f *Fake) baseURL(r *http.Request) string {
	f.mu.Lock()
	public := f.publicURL
	f.mu.Unlock()
	if public != "" {
		return public
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// writeError answers with Akeneo's error body.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"code": status, "message": message})
}

func writeRateLimited(w http.ResponseWriter, retryAfterSeconds int) {
	w.Header().Set("Retry-After", fmt.Sprint(retryAfterSeconds))
	writeError(w, http.StatusTooManyRequests, "You have exceeded the limit of API requests per second.")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
