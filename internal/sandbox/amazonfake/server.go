package amazonfake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
	"github.com/google/uuid"
)

// accessTokenLifetime is how long LWA's access tokens live.
const accessTokenLifetime = time.Hour

// Options configure a Server.
type Options struct {
	// Now is the clock access tokens expire and rate limits refill on; nil
	// means time.Now. Share it with the client under test to move time
	// instead of sleeping.
	Now func() time.Time
}

// Seller is a seller who authorized an LWA client (an app) to call SP-API
// on their behalf.
type Seller struct {
	ClientID     string // the app's LWA client id, amzn1.application-oa2-client.…
	ClientSecret string
	RefreshToken string // the authorization's refresh token, Atzr|…
	SellerID     string
	// MarketplaceIDs are the marketplaces the seller participates in; each
	// must be one the fake knows (see KnownMarketplaceIDs).
	MarketplaceIDs []string
}

// SandboxSeller is the seller of the local sandbox: an amazon.com seller
// whose credentials a person can type into the store's connection form.
func SandboxSeller() Seller {
	return Seller{
		ClientID:       "amzn1.application-oa2-client.sandbox",
		ClientSecret:   "sandbox-client-secret",
		RefreshToken:   "Atzr|sandbox",
		SellerID:       "A2SANDBOXSELLER",
		MarketplaceIDs: []string{"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"},
	}
}

// Counters count what the server was asked, since it started.
type Counters struct {
	TokenRequests int `json:"token_requests"` // every request to the token endpoint
	TokenGrants   int `json:"token_grants"`   // the ones that issued an access token
	APICalls      int `json:"api_calls"`      // every SP-API request, whatever its answer
	// ListingPuts is every putListingsItem that passed the token, faults and
	// quota, whatever its answer; the others count the answers.
	ListingPuts      int `json:"listing_puts"`
	ListingsCreated  int `json:"listings_created"`  // ACCEPTED for a SKU new to the marketplace
	ListingsReplaced int `json:"listings_replaced"` // ACCEPTED for a SKU already listed there
	ListingsInvalid  int `json:"listings_invalid"`  // answered INVALID
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	now       func() time.Time
	mux       *http.ServeMux
	publicURL fakeserver.PublicURL

	mu       sync.Mutex
	clients  map[string]string             // LWA client id → client secret
	sellers  map[string]Seller             // by refresh token
	tokens   map[string]accessGrant        // by access token
	buckets  map[bucketKey]*tokenBucket    // SP-API quotas
	listings map[listingKey]*storedListing // by seller, marketplace and SKU
	faults   Faults
	counters Counters
}

// accessGrant is what an access token stands for.
type accessGrant struct {
	refreshToken string
	expiresAt    time.Time
}

// New returns a server that accepts no seller yet.
func New(opts Options) *Server {
	s := &Server{
		now:      opts.Now,
		mux:      http.NewServeMux(),
		clients:  make(map[string]string),
		sellers:  make(map[string]Seller),
		tokens:   make(map[string]accessGrant),
		buckets:  make(map[bucketKey]*tokenBucket),
		listings: make(map[listingKey]*storedListing),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.mux.HandleFunc("POST /auth/o2/token", s.handleToken)
	s.mux.HandleFunc("GET /sellers/v1/marketplaceParticipations", s.spapi(getMarketplaceParticipations, s.handleMarketplaceParticipations))
	s.mux.HandleFunc("PUT "+listingsItemPath, s.spapi(putListingsItem, s.handlePutListingsItem))
	s.mux.HandleFunc("GET "+listingsItemPath, s.spapi(getListingsItem, s.handleGetListingsItem))
	s.mux.HandleFunc("GET /_faults", s.handleGetFaults)
	s.mux.HandleFunc("POST /_faults", s.handleSetFaults)
	s.mux.HandleFunc("GET /_counters", s.handleCounters)
	s.mux.HandleFunc("GET /{$}", s.handleIndex)
	return s
}

// ServeHTTP serves LWA, SP-API and the fault controls. The injected latency
// applies to LWA and SP-API only, so a person can always change the faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !fakeserver.IsControlPath(r.URL.Path) && !fakeserver.Delay(w, r, s.Faults().Latency) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// SetPublicURL sets the base URL clients reach the server at, prefix
// included, for the URLs its answers give. Unset, it is the request's
// scheme and host, which is right only when the server is mounted at the
// root.
func (s *Server) SetPublicURL(u string) { s.publicURL.Set(u) }

// AddSeller registers a seller's authorization of an app. A seller added
// again with the same refresh token replaces the earlier one; an app's
// secret is the one of the last seller added with its client id. It panics
// on a seller the fake could not serve (a missing field, an unknown
// marketplace), as that is a mistake in the setup, not in the client.
func (s *Server) AddSeller(seller Seller) {
	if seller.ClientID == "" || seller.ClientSecret == "" || seller.RefreshToken == "" || seller.SellerID == "" {
		panic("amazonfake: AddSeller needs a client id, client secret, refresh token and seller id")
	}
	for _, id := range seller.MarketplaceIDs {
		if _, ok := knownMarketplaces[id]; !ok {
			panic(fmt.Sprintf("amazonfake: unknown marketplace id %q (known: %s)", id, strings.Join(KnownMarketplaceIDs(), ", ")))
		}
	}
	seller.MarketplaceIDs = slices.Clone(seller.MarketplaceIDs)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[seller.ClientID] = seller.ClientSecret
	s.sellers[seller.RefreshToken] = seller
}

// Counters returns the counts so far.
func (s *Server) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

func (s *Server) handleCounters(w http.ResponseWriter, _ *http.Request) {
	fakeserver.WriteJSON(w, http.StatusOK, s.Counters())
}

// handleIndex tells a person where to point the store's client.
func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	base := s.publicURL.Of(r)
	fakeserver.WriteJSON(w, http.StatusOK, map[string]string{
		"lwa_url":      base + "/auth/o2/token",
		"spapi_url":    base,
		"faults_url":   base + "/_faults",
		"counters_url": base + "/_counters",
	})
}

// newAccessToken returns a token shaped like LWA's (Atza|…), unguessable so
// a test cannot pass by accident.
func newAccessToken() string { return fakeserver.NewToken("Atza|") }

func newRequestID() string { return uuid.NewString() }
