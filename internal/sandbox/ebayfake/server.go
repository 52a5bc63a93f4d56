package ebayfake

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/fakeserver"
)

// OAuth scopes of the Sell Inventory API, and the scope of an application
// token (client-credentials grant), which the Developer Analytics API asks
// for.
const (
	ScopeSellInventory         = "https://api.ebay.com/oauth/api_scope/sell.inventory"
	ScopeSellInventoryReadOnly = "https://api.ebay.com/oauth/api_scope/sell.inventory.readonly"
	ScopeApplication           = "https://api.ebay.com/oauth/api_scope"
)

// accessTokenLifetime is how long eBay's user and application access
// tokens live.
const accessTokenLifetime = 2 * time.Hour

// Options configure a Server.
type Options struct {
	// Now is the clock access tokens expire on and quota days turn on; nil
	// means time.Now. Share it with the client under test to move time
	// instead of sleeping.
	Now func() time.Time
	// DailyCallLimit is how many Sell Inventory API calls an app (a client
	// id, whatever the seller) may make in a quota day; 0 means no limit.
	// eBay's default for the Inventory API is 2,000,000.
	DailyCallLimit int
	// QuotaResetLocation is the time zone whose midnight starts a quota
	// day; nil means America/Los_Angeles. eBay's documentation does not say
	// when daily quotas reset; the sample answer of its getRateLimits shows
	// a reset at 07:00 UTC, midnight in Pacific daylight time.
	QuotaResetLocation *time.Location
}

// Seller is a seller who granted an app (a keyset) a user token.
type Seller struct {
	ClientID     string // the app's App ID
	ClientSecret string // the app's Cert ID
	RefreshToken string // the grant's refresh token, v^1.1#…
	// Scopes are the scopes the seller granted; nil means
	// ScopeSellInventory.
	Scopes []string
	// InventoryItems are the seller's inventory when added.
	InventoryItems []InventoryItem
	// MerchantLocationKey is the seller's inventory location, the one an
	// offer must name to be published; empty means the seller has none.
	MerchantLocationKey string
	// Policies are the ids of the seller's business policies, the ones an
	// offer must name to be published; an empty id means none of its kind.
	Policies BusinessPolicies
}

// BusinessPolicies are a seller's business policies (Account API), by id.
type BusinessPolicies struct {
	Fulfillment string
	Payment     string
	Return      string
}

// SandboxSeller is the seller of the local sandbox: an eBay US seller with
// one inventory item, an inventory location and business policies, whose
// credentials and listing settings a person can type into the store's
// connection form.
func SandboxSeller() Seller {
	return Seller{
		ClientID:            "DainoSto-sandbox-PRD-0a1b2c3d4-5e6f7a8b",
		ClientSecret:        "PRD-sandbox-client-secret",
		RefreshToken:        "v^1.1#i^1#sandbox",
		Scopes:              []string{ScopeSellInventory},
		MerchantLocationKey: "sandbox-warehouse",
		Policies: BusinessPolicies{
			Fulfillment: "6196932000",
			Payment:     "6196933000",
			Return:      "6196934000",
		},
		InventoryItems: []InventoryItem{{
			SKU:          "SANDBOX-MUG-001",
			Locale:       "en_US",
			Condition:    "NEW",
			Availability: &Availability{ShipToLocationAvailability: ShipToLocationAvailability{Quantity: 12}},
			Product: &Product{
				Title:       "Stoneware coffee mug, 350 ml, sand glaze",
				Description: "A sturdy stoneware mug for the sandbox store.",
				Aspects:     map[string][]string{"Brand": {"Daino"}, "Colour": {"Sand"}},
				Brand:       "Daino",
				MPN:         "MUG-350-SAND",
			},
		}},
	}
}

// Counters count what the server was asked, since it started.
type Counters struct {
	TokenRequests int `json:"token_requests"` // every request to the token endpoint
	TokenGrants   int `json:"token_grants"`   // the ones that issued an access token (user or application)
	APICalls      int `json:"api_calls"`      // every API request, whatever its answer
	// The counts below are of calls that reached their operation: past the
	// token, the faults and the daily quota.
	BulkItemRequests int `json:"bulk_item_requests"` // bulkCreateOrReplaceInventoryItem calls
	ItemsCreated     int `json:"items_created"`      // inventory items stored for a new SKU
	ItemsReplaced    int `json:"items_replaced"`     // inventory items stored over an existing one
	OffersCreated    int `json:"offers_created"`
	OffersUpdated    int `json:"offers_updated"`
	Publishes        int `json:"publishes"`        // publishOffer calls that succeeded
	ListingsCreated  int `json:"listings_created"` // the ones that made a new listing, not a revision
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	now                func() time.Time
	dailyCallLimit     int
	quotaResetLocation *time.Location
	mux                *http.ServeMux
	publicURL          fakeserver.PublicURL

	mu       sync.Mutex
	clients  map[string]string      // client id → client secret
	sellers  map[string]*seller     // by refresh token
	tokens   map[string]accessGrant // by access token
	quota    map[string]*quotaUsage // by client id
	faults   Faults
	counters Counters
	// quotaExhaustedUntil is the end of the quota day in which
	// Faults.QuotaExhausted was set.
	quotaExhaustedUntil time.Time
	// lastOfferID and lastListingID number offers and listings across
	// sellers, as eBay's ids are unique.
	lastOfferID, lastListingID int64
}

// seller is a registered seller and the state the APIs change.
type seller struct {
	Seller
	inventory map[string]InventoryItem // by SKU
	offers    []*Offer                 // oldest first
}

// accessGrant is what an access token stands for: a seller's grant (a user
// token) or an app's own (an application token, without refresh token).
type accessGrant struct {
	clientID     string
	refreshToken string
	scopes       []string
	expiresAt    time.Time
}

// isApplication reports whether the token is an application token.
func (g accessGrant) isApplication() bool { return g.refreshToken == "" }

// New returns a server that accepts no seller yet.
func New(opts Options) *Server {
	s := &Server{
		now:                opts.Now,
		dailyCallLimit:     max(opts.DailyCallLimit, 0),
		quotaResetLocation: opts.QuotaResetLocation,
		mux:                http.NewServeMux(),
		clients:            make(map[string]string),
		sellers:            make(map[string]*seller),
		tokens:             make(map[string]accessGrant),
		quota:              make(map[string]*quotaUsage),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.quotaResetLocation == nil {
		s.quotaResetLocation = pacificTime()
	}
	read := []string{ScopeSellInventory, ScopeSellInventoryReadOnly}
	write := []string{ScopeSellInventory}
	s.mux.HandleFunc("POST /identity/v1/oauth2/token", s.handleToken)
	s.mux.HandleFunc("GET /sell/inventory/v1/inventory_item", s.api(read, s.handleGetInventoryItems))
	s.mux.HandleFunc("POST /sell/inventory/v1/bulk_create_or_replace_inventory_item", s.api(write, s.handleBulkCreateOrReplaceInventoryItem))
	s.mux.HandleFunc("GET /sell/inventory/v1/offer", s.api(read, s.handleGetOffers))
	s.mux.HandleFunc("POST /sell/inventory/v1/offer", s.api(write, s.handleCreateOffer))
	s.mux.HandleFunc("PUT /sell/inventory/v1/offer/{offerId}", s.api(write, s.handleUpdateOffer))
	// eBay's OpenAPI document spells publishOffer with a trailing slash, its
	// guides without one; both are served.
	s.mux.HandleFunc("POST /sell/inventory/v1/offer/{offerId}/publish", s.api(write, s.handlePublishOffer))
	s.mux.HandleFunc("POST /sell/inventory/v1/offer/{offerId}/publish/{$}", s.api(write, s.handlePublishOffer))
	s.mux.HandleFunc("GET /developer/analytics/v1_beta/rate_limit/{$}", s.handleGetRateLimits)
	s.mux.HandleFunc("GET /developer/analytics/v1_beta/rate_limit", s.handleGetRateLimits)
	s.mux.HandleFunc("GET /_faults", s.handleGetFaults)
	s.mux.HandleFunc("POST /_faults", s.handleSetFaults)
	s.mux.HandleFunc("GET /_counters", s.handleCounters)
	s.mux.HandleFunc("GET /{$}", s.handleIndex)
	return s
}

// ServeHTTP serves OAuth, the APIs and the fault controls. The injected
// latency applies to OAuth and the APIs only, so a person can always change
// the faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !fakeserver.IsControlPath(r.URL.Path) && !fakeserver.Delay(w, r, s.Faults().Latency) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// SetPublicURL sets the base URL clients reach the server at, prefix
// included, for the URLs its answers give (href, next, prev). Unset, it is
// the request's scheme and host, which is right only when the server is
// mounted at the root.
func (s *Server) SetPublicURL(u string) { s.publicURL.Set(u) }

// AddSeller registers a seller's grant to an app, with the seller's
// inventory and listing settings, and no offers. A seller added again with the same refresh token replaces the
// earlier one; an app's secret is the one of the last seller added with its
// client id. It panics on a seller without credentials or with an item
// without a SKU, as that is a mistake in the setup, not in the client.
func (s *Server) AddSeller(in Seller) {
	if in.ClientID == "" || in.ClientSecret == "" || in.RefreshToken == "" {
		panic("ebayfake: AddSeller needs a client id, client secret and refresh token")
	}
	if len(in.Scopes) == 0 {
		in.Scopes = []string{ScopeSellInventory}
	}
	in.Scopes = slices.Clone(in.Scopes)
	added := &seller{Seller: in, inventory: make(map[string]InventoryItem, len(in.InventoryItems))}
	for _, item := range in.InventoryItems {
		if item.SKU == "" {
			panic("ebayfake: AddSeller got an inventory item without a SKU")
		}
		added.inventory[item.SKU] = item
	}
	added.InventoryItems = nil // the inventory map is the state from now on
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[in.ClientID] = in.ClientSecret
	s.sellers[in.RefreshToken] = added
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
		"api_url":      base,
		"token_url":    base + "/identity/v1/oauth2/token",
		"faults_url":   base + "/_faults",
		"counters_url": base + "/_counters",
	})
}

// newAccessToken returns a token shaped like eBay's user tokens (v^1.1#…),
// unguessable so a test cannot pass by accident.
func newAccessToken() string { return fakeserver.NewToken("v^1.1#i^1#r^0#") }
