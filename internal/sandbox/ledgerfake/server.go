package ledgerfake

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

const (
	defaultDailyCharge = 1
	defaultPageSize    = 100
	// maxRequestBytes bounds a protocol or control request's body: the
	// protocol's are a few hundred bytes.
	maxRequestBytes = 64 << 10
)

// Options configure a Server.
type Options struct {
	// Token is the bearer token the protocol calls must carry; empty
	// accepts any.
	Token string
	// DailyCharge is what a day's deduction charges each store (default 1).
	DailyCharge int64
	// PageSize is the stores of a deduction page (default 100).
	PageSize int
	// Now stamps the debits; nil means time.Now.
	Now func() time.Time
}

// DebitRecord is a debit the ledger made.
type DebitRecord struct {
	ID                string
	Key               string // its Idempotency-Key
	Credits           int64
	Reason, Reference string
	BalanceAfter      int64
	At                time.Time
}

// Counters count what the server was asked, since it started.
type Counters struct {
	DebitRequests int `json:"debit_requests"` // every POST /debits, whatever its answer
	Debits        int `json:"debits"`         // the debits that charged a store
	// Replays are requests answered from an earlier answer of their
	// Idempotency-Key, debits and deduction pages alike.
	Replays           int `json:"replays"`
	Insufficient      int `json:"insufficient"`       // debits answered 402 insufficient_credits
	DeductionRequests int `json:"deduction_requests"` // every POST /, whatever its answer
	DeductionPages    int `json:"deduction_pages"`    // the pages that charged
	BalanceRequests   int `json:"balance_requests"`   // every GET /balances/{store_id}
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	token       string
	dailyCharge int64
	pageSize    int
	now         func() time.Time
	mux         *http.ServeMux
	publicURL   fakeserver.PublicURL

	mu       sync.Mutex
	balances map[string]int64         // by store; a store not here has 0
	debits   map[string][]DebitRecord // by store, in the order made
	keys     map[string]spentKey      // by Idempotency-Key
	debitSeq int
	faults   Faults
	counters Counters
}

// spentKey is an Idempotency-Key that charged: the request it charged, and
// the answer it is replayed with.
type spentKey struct {
	fingerprint string
	answer      any // debitAnswer or deductionAnswer
}

// The protocol's bodies, as package ledger documents them.
type (
	debitRequest struct {
		StoreID   string `json:"store_id"`
		Credits   int64  `json:"credits"`
		Reason    string `json:"reason"`
		Reference string `json:"reference"`
	}
	debitAnswer struct {
		DebitID  string `json:"debit_id"`
		StoreID  string `json:"store_id"`
		Credits  int64  `json:"credits"`
		Balance  int64  `json:"balance"`
		Replayed bool   `json:"replayed"`
	}
	insufficientAnswer struct {
		Error   string `json:"error"`
		Message string `json:"message"`
		Balance int64  `json:"balance"`
		Needed  int64  `json:"needed"`
	}
	balanceAnswer struct {
		StoreID string `json:"store_id"`
		Balance int64  `json:"balance"`
	}
	deductionRequest struct {
		Date   string `json:"date"`
		Cursor string `json:"cursor"`
	}
	deductionAnswer struct {
		StoresCharged   int    `json:"stores_charged"`
		CreditsDeducted int64  `json:"credits_deducted"`
		StoresTotal     int    `json:"stores_total"`
		NextCursor      string `json:"next_cursor"`
	}
)

// refusal is an error answer, {"error": code, "message": message}.
type refusal struct {
	status        int
	code, message string
}

var (
	unauthorized   = refusal{http.StatusUnauthorized, "unauthorized", "missing or unknown ledger token"}
	internalError  = refusal{http.StatusInternalServerError, "internal_error", "the ledger failed; try again"}
	unavailable    = refusal{http.StatusServiceUnavailable, "unavailable", "the ledger is busy; retry later"}
	keyReused      = refusal{http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used with another request"}
	missingKey     = refusal{http.StatusBadRequest, "invalid_request", "an Idempotency-Key header is required"}
	storeNotNamed  = refusal{http.StatusBadRequest, "invalid_request", "store_id is required"}
	creditsNotOver = refusal{http.StatusBadRequest, "invalid_request", "credits must be a whole number above 0"}
)

func (e refusal) write(w http.ResponseWriter) {
	status, body := e.answer()
	fakeserver.WriteJSON(w, status, body)
}

func (e refusal) answer() (int, any) {
	return e.status, map[string]string{"error": e.code, "message": e.message}
}

func invalidRequest(message string) refusal {
	return refusal{http.StatusBadRequest, "invalid_request", message}
}

// New returns a ledger that knows no store yet.
func New(opts Options) *Server {
	s := &Server{
		token:       opts.Token,
		dailyCharge: opts.DailyCharge,
		pageSize:    opts.PageSize,
		now:         opts.Now,
		mux:         http.NewServeMux(),
		balances:    make(map[string]int64),
		debits:      make(map[string][]DebitRecord),
		keys:        make(map[string]spentKey),
	}
	if s.dailyCharge <= 0 {
		s.dailyCharge = defaultDailyCharge
	}
	if s.pageSize <= 0 {
		s.pageSize = defaultPageSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux.HandleFunc("POST /{$}", s.protocol(func(c *Counters) { c.DeductionRequests++ }, s.handleDeduction))
	s.mux.HandleFunc("POST /debits", s.protocol(func(c *Counters) { c.DebitRequests++ }, s.handleDebit))
	s.mux.HandleFunc("GET /balances/{store}", s.protocol(func(c *Counters) { c.BalanceRequests++ }, s.handleBalance))
	s.mux.HandleFunc("GET /_balances", s.handleGetBalances)
	s.mux.HandleFunc("POST /_balances", s.handleSetBalance)
	s.mux.HandleFunc("GET /_counters", s.handleCounters)
	s.mux.HandleFunc("GET /_faults", s.handleGetFaults)
	s.mux.HandleFunc("POST /_faults", s.handleSetFaults)
	s.mux.HandleFunc("GET /{$}", s.handleIndex)
	return s
}

// ServeHTTP serves the protocol and the controls. The injected latency
// applies to the protocol only, so a person can always change the faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "" {
		// Mounted with http.StripPrefix("/ledger", …), POST <base>/ledger
		// arrives with an empty path: it is the ledger's URL, the deduction.
		u := *r.URL
		u.Path, u.RawPath = "/", ""
		r2 := *r
		r2.URL = &u
		r = &r2
	}
	// POST / is the deduction, not the index, so it is delayed.
	control := fakeserver.IsControlPath(r.URL.Path) && (r.URL.Path != "/" || r.Method != http.MethodPost)
	if !control && !fakeserver.Delay(w, r, s.Faults().Latency) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// SetPublicURL sets the base URL clients reach the server at, prefix
// included, for the URLs its index gives. Unset, it is the request's
// scheme and host, which is right only when the server is mounted at the
// root.
func (s *Server) SetPublicURL(u string) { s.publicURL.Set(u) }

// SetBalance sets a store's balance, and makes the store one the daily
// deduction charges. It panics on an empty store id or a negative balance,
// as those are mistakes in the setup.
func (s *Server) SetBalance(storeID string, credits int64) {
	if storeID == "" || credits < 0 {
		panic(fmt.Sprintf("ledgerfake: SetBalance(%q, %d) needs a store and a balance not below 0", storeID, credits))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balances[storeID] = credits
}

// TopUp adds credits to a store's balance. It panics on an empty store id
// or credits below 0.
func (s *Server) TopUp(storeID string, credits int64) {
	if storeID == "" || credits < 0 {
		panic(fmt.Sprintf("ledgerfake: TopUp(%q, %d) needs a store and credits not below 0", storeID, credits))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balances[storeID] += credits
}

// Balance returns a store's balance; 0 for a store the ledger does not
// know.
func (s *Server) Balance(storeID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.balances[storeID]
}

// Balances returns every store's balance.
func (s *Server) Balances() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.balances)
}

// Debits returns the debits made from a store, oldest first.
func (s *Server) Debits(storeID string) []DebitRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.debits[storeID])
}

// Counters returns the counts so far.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// protocol wraps the handler of a protocol call with what every call goes
// through: its count, the token, then the injected faults, so a call with
// a wrong token is still refused as such.
func (s *Server) protocol(count func(*Counters), handle http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		count(&s.counters)
		var refused *refusal
		var retryAfter time.Duration
		switch {
		case !s.authorized(r.Header.Get("Authorization")):
			refused = &unauthorized
		case s.faults.ServerErrorsNext > 0:
			s.faults.ServerErrorsNext--
			refused = &internalError
		case s.faults.UnavailableNext > 0:
			s.faults.UnavailableNext--
			refused = &unavailable
			retryAfter = s.faults.RetryAfter
		}
		s.mu.Unlock()

		if refused != nil {
			if retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
			}
			refused.write(w)
			return
		}
		handle(w, r)
	}
}

// authorized reports whether an Authorization header carries the ledger's
// token. Call with s.mu held.
func (s *Server) authorized(header string) bool {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || token == "" {
		return false
	}
	return s.token == "" || token == s.token
}

// decode reads a protocol body into v; false (answered 400) when it is not
// JSON of v's shape.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes)).Decode(v); err != nil {
		invalidRequest("the body is not the expected JSON: " + err.Error()).write(w)
		return false
	}
	return true
}

// fingerprint identifies a request an Idempotency-Key was spent on.
func fingerprint(call string, body any) string {
	data, _ := json.Marshal(body) // the protocol's bodies always encode
	return call + " " + string(data)
}

func (s *Server) handleDebit(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	var req debitRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case key == "":
		missingKey.write(w)
		return
	case req.StoreID == "":
		storeNotNamed.write(w)
		return
	case req.Credits <= 0:
		creditsNotOver.write(w)
		return
	}
	status, answer := s.debit(key, req)
	fakeserver.WriteJSON(w, status, answer)
}

// debit charges req once per key, and says how to answer.
func (s *Server) debit(key string, req debitRequest) (int, any) {
	request := fingerprint("debit", req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if spent, ok := s.keys[key]; ok {
		answer, isDebit := spent.answer.(debitAnswer)
		if spent.fingerprint != request || !isDebit {
			return keyReused.answer()
		}
		s.counters.Replays++
		answer.Replayed = true
		return http.StatusOK, answer
	}
	balance := s.balances[req.StoreID]
	if balance < req.Credits {
		// Nothing charged, and the key stays unspent for after a top-up.
		s.counters.Insufficient++
		return http.StatusPaymentRequired, insufficientAnswer{
			Error:   "insufficient_credits",
			Message: fmt.Sprintf("store %s has %d credits, %d needed", req.StoreID, balance, req.Credits),
			Balance: balance,
			Needed:  req.Credits,
		}
	}
	balance -= req.Credits
	s.balances[req.StoreID] = balance
	s.debitSeq++
	record := DebitRecord{
		ID:           fmt.Sprintf("debit_%06d", s.debitSeq),
		Key:          key,
		Credits:      req.Credits,
		Reason:       req.Reason,
		Reference:    req.Reference,
		BalanceAfter: balance,
		At:           s.now(),
	}
	s.debits[req.StoreID] = append(s.debits[req.StoreID], record)
	s.counters.Debits++
	answer := debitAnswer{DebitID: record.ID, StoreID: req.StoreID, Credits: req.Credits, Balance: balance}
	s.keys[key] = spentKey{fingerprint: request, answer: answer}
	return http.StatusOK, answer
}

func (s *Server) handleBalance(w http.ResponseWriter, r *http.Request) {
	store := r.PathValue("store")
	fakeserver.WriteJSON(w, http.StatusOK, balanceAnswer{StoreID: store, Balance: s.Balance(store)})
}

func (s *Server) handleDeduction(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	var req deductionRequest
	if !decode(w, r, &req) {
		return
	}
	if key == "" {
		missingKey.write(w)
		return
	}
	if _, err := time.Parse(time.DateOnly, req.Date); err != nil {
		invalidRequest(fmt.Sprintf("date %q is not a day such as 2026-11-29", req.Date)).write(w)
		return
	}
	status, answer := s.deductPage(key, req)
	fakeserver.WriteJSON(w, status, answer)
}

// deductPage charges the page of the day's deduction that starts after
// req.Cursor, once per key, and says how to answer.
func (s *Server) deductPage(key string, req deductionRequest) (int, any) {
	request := fingerprint("deduction", req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if spent, ok := s.keys[key]; ok {
		answer, isPage := spent.answer.(deductionAnswer)
		if spent.fingerprint != request || !isPage {
			return keyReused.answer()
		}
		s.counters.Replays++
		return http.StatusOK, answer
	}
	stores := slices.Sorted(maps.Keys(s.balances))
	start := sort.SearchStrings(stores, req.Cursor)
	if start < len(stores) && stores[start] == req.Cursor {
		start++
	}
	end := min(start+s.pageSize, len(stores))
	answer := deductionAnswer{StoresTotal: len(stores)}
	for _, store := range stores[start:end] {
		charge := min(s.dailyCharge, s.balances[store])
		if charge > 0 {
			s.balances[store] -= charge
			answer.StoresCharged++
			answer.CreditsDeducted += charge
		}
	}
	if end < len(stores) {
		answer.NextCursor = stores[end-1]
	}
	s.counters.DeductionPages++
	s.keys[key] = spentKey{fingerprint: request, answer: answer}
	return http.StatusOK, answer
}

// handleGetBalances answers every balance, by store.
func (s *Server) handleGetBalances(w http.ResponseWriter, _ *http.Request) {
	fakeserver.WriteJSON(w, http.StatusOK, map[string]map[string]int64{"balances": s.Balances()})
}

// handleSetBalance sets one store's balance, so a person can top a store
// up (or drain it) while trying the sandbox.
func (s *Server) handleSetBalance(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StoreID string `json:"store_id"`
		Balance *int64 `json:"balance"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		invalidRequest("balances: " + err.Error()).write(w)
		return
	}
	if in.StoreID == "" || in.Balance == nil || *in.Balance < 0 {
		invalidRequest(`balances: give {"store_id": "...", "balance": credits not below 0}`).write(w)
		return
	}
	s.SetBalance(in.StoreID, *in.Balance)
	fakeserver.WriteJSON(w, http.StatusOK, balanceAnswer{StoreID: in.StoreID, Balance: *in.Balance})
}

func (s *Server) handleCounters(w http.ResponseWriter, _ *http.Request) {
	fakeserver.WriteJSON(w, http.StatusOK, s.Counters())
}

// handleIndex tells a person where to point the ledger client.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	base := s.publicURL.Of(r)
	fakeserver.WriteJSON(w, http.StatusOK, map[string]string{
		"ledger_url":   base,
		"debits_url":   base + "/debits",
		"balance_url":  base + "/balances/{store_id}",
		"balances_url": base + "/_balances",
		"faults_url":   base + "/_faults",
		"counters_url": base + "/_counters",
	})
}
