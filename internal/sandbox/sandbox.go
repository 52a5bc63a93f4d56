// Package sandbox is every outside system the job types call, faked at the
// protocol level on one HTTP server: Shopify's Admin GraphQL API and CDN,
// an Akeneo PIM, Amazon's Login with Amazon and Selling Partner API, eBay's
// OAuth and Sell Inventory API, Amazon Bedrock's Converse API (the AI that
// writes the exports' text) and the store platform's AI credits ledger.
// `make dev` runs it seeded with a realistic catalog, connects store-1 to
// it and gives store-1 credits, so every job type can be tried offline; the
// tests run the very same fakes. The real clients reach it only through
// base URLs (Endpoints), never through a test-only path.
//
// Each fake sits under its own prefix and has fault modes a test switches
// on with SetFaults, and a person with GET/POST <prefix>/_faults:
//
//	/shopify/  Shopify shops: /shopify/<shop domain>/admin/api/<version>/graphql.json
//	/akeneo/   one Akeneo PIM:  /akeneo/api/oauth/v1/token, /akeneo/api/rest/v1/...
//	/amazon/   LWA (/amazon/auth/o2/token) and SP-API (/amazon/...)
//	/ebay/     eBay OAuth and APIs (/ebay/identity/v1/oauth2/token, /ebay/sell/...)
//	/bedrock/  Bedrock Runtime (/bedrock/model/<model id>/converse)
//	/translate/ Amazon Translate (POST /translate/, X-Amz-Target AWSShineFrontendService_20170701.TranslateText)
//	/ledger/   the credits ledger (/ledger/debits, /ledger/balances/<store>; balances at /ledger/_balances)
package sandbox

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/sandbox/akeneofake"
	"github.com/dainostore/jobs/internal/sandbox/amazonfake"
	"github.com/dainostore/jobs/internal/sandbox/bedrockfake"
	"github.com/dainostore/jobs/internal/sandbox/ebayfake"
	"github.com/dainostore/jobs/internal/sandbox/ledgerfake"
	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/sandbox/translatefake"
)

// Options size the seeded catalogs and set the fakes' clock.
type Options struct {
	Now func() time.Time
	// ShopifyProducts and ShopifyCollections size the shop's catalog
	// (default 500 and 40); AkeneoProducts and AkeneoCategories the PIM's
	// (default 2,000 and 150).
	ShopifyProducts, ShopifyCollections int
	AkeneoProducts, AkeneoCategories    int
	// ShopifyBucket is the shop's GraphQL cost bucket (default Shopify's
	// standard plan).
	ShopifyBucket shopifyfake.Bucket
	// AkeneoRequestsPerSecond limits the PIM (0: no limit but its 4 calls
	// in flight).
	AkeneoRequestsPerSecond float64
	// AILatency is how long the AI model takes per call (nil: at once;
	// bedrockfake.UniformLatency(2*time.Second, 4*time.Second) is a small
	// model's), and AIMaxConcurrent the calls in flight the account's quota
	// allows (0: no cap).
	AILatency       func() time.Duration
	AIMaxConcurrent int
	// TranslateLatency is how long Amazon Translate takes per call (nil: at
	// once; translatefake.UniformLatency(100*time.Millisecond,
	// 300*time.Millisecond) is a short label's).
	TranslateLatency func() time.Duration
	// StoreCredits are the AI credits of Store when the sandbox starts
	// (default 500).
	StoreCredits int64
}

// Store is the store the sandbox's accounts belong to, which `make dev`
// connects to them.
const Store = "store-1"

// EbayCategoryID is the eBay category the sandbox's connection lists
// products in (the fake takes any category id).
const EbayCategoryID = "20625"

// LedgerToken is the token the service calls the sandbox's ledger with.
const LedgerToken = "sandbox-ledger-token"

// The sandbox account of each marketplace.
const (
	ShopDomain   = "store-1.myshopify.com"
	ShopToken    = "shpat_sandbox_store1"
	AkeneoClient = "sandbox_client"
	AkeneoSecret = "sandbox_secret"
	AkeneoUser   = "sandbox_api_user"
	AkeneoPass   = "sandbox_password"
)

// Sandbox is the fakes behind one handler.
type Sandbox struct {
	Shopify *shopifyfake.Fake
	Akeneo  *akeneofake.Fake
	Amazon  *amazonfake.Server
	Ebay    *ebayfake.Server
	Bedrock *bedrockfake.Server
	Ledger  *ledgerfake.Server
	mux     *http.ServeMux
	base    string
	// Translate is Amazon Translate, which the UI label translations call.
	Translate *translatefake.Server
}

// New returns the sandbox with its catalogs seeded and its accounts open.
// Call SetBaseURL once its address is known.
func New(o Options) *Sandbox {
	orDefault := func(v, d int) int {
		if v > 0 {
			return v
		}
		return d
	}
	s := &Sandbox{
		Shopify: shopifyfake.New(shopifyfake.Options{Now: o.Now, Bucket: o.ShopifyBucket}),
		Akeneo:  akeneofake.New(akeneofake.Options{Now: o.Now, RequestsPerSecond: o.AkeneoRequestsPerSecond}),
		Amazon:  amazonfake.New(amazonfake.Options{Now: o.Now}),
		Ebay:    ebayfake.New(ebayfake.Options{Now: o.Now}),
		Bedrock: bedrockfake.New(bedrockfake.Options{Latency: o.AILatency, MaxConcurrent: o.AIMaxConcurrent}),
		Ledger:  ledgerfake.New(ledgerfake.Options{Token: LedgerToken, Now: o.Now}),
		mux:     http.NewServeMux(),
		// Mounted at /translate/, as Translate's one path is the root.
		Translate: translatefake.New(translatefake.Options{Latency: o.TranslateLatency}),
	}
	credits := o.StoreCredits
	if credits == 0 {
		credits = 500
	}
	s.Ledger.SetBalance(Store, credits)
	s.Shopify.AddShop(ShopDomain, ShopToken, shopifyfake.Seed(1, orDefault(o.ShopifyProducts, 500), orDefault(o.ShopifyCollections, 40)))
	s.Akeneo.AddClient(AkeneoClient, AkeneoSecret, AkeneoUser, AkeneoPass)
	s.Akeneo.SetCatalog(akeneofake.Seed(1, orDefault(o.AkeneoProducts, 2000), orDefault(o.AkeneoCategories, 150)))
	s.Amazon.AddSeller(amazonfake.SandboxSeller())
	s.Ebay.AddSeller(ebayfake.SandboxSeller())
	s.mux.Handle("/shopify/", http.StripPrefix("/shopify", s.Shopify))
	s.mux.Handle("/akeneo/", http.StripPrefix("/akeneo", s.Akeneo))
	s.mux.Handle("/amazon/", http.StripPrefix("/amazon", s.Amazon))
	s.mux.Handle("/ebay/", http.StripPrefix("/ebay", s.Ebay))
	s.mux.Handle("/bedrock/", http.StripPrefix("/bedrock", s.Bedrock))
	s.mux.Handle("/ledger/", http.StripPrefix("/ledger", s.Ledger))
	s.mux.Handle("/translate/", http.StripPrefix("/translate", s.Translate))
	s.mux.HandleFunc("GET /{$}", s.index)
	return s
}

// SetBaseURL tells the fakes where they are reached (the server's URL, no
// trailing slash), for the links they give (cursors, images).
func (s *Sandbox) SetBaseURL(base string) {
	s.base = strings.TrimSuffix(base, "/")
	s.Shopify.SetPublicURL(s.base + "/shopify")
	s.Akeneo.SetPublicURL(s.base + "/akeneo")
	s.Amazon.SetPublicURL(s.base + "/amazon")
	s.Ebay.SetPublicURL(s.base + "/ebay")
	s.Bedrock.SetPublicURL(s.base + "/bedrock")
	s.Ledger.SetPublicURL(s.base + "/ledger")
	s.Translate.SetPublicURL(s.base + "/translate")
}

// BaseURL is where the sandbox is reached, as SetBaseURL was told.
func (s *Sandbox) BaseURL() string { return s.base }

// ServeHTTP serves every fake under its prefix.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Endpoints are the configuration that points the service's clients at
// the sandbox.
type Endpoints struct {
	ShopifyEndpoint, AmazonLWAURL, AmazonSPAPIURL, EbayAPIURL string
	BedrockEndpoint, LedgerURL                                string
	TranslateEndpoint                                         string
	// AkeneoBaseURL goes in a connection, as a store's PIM address does.
	AkeneoBaseURL string
}

// Endpoints returns where each fake is, once SetBaseURL was called.
func (s *Sandbox) Endpoints() Endpoints {
	return Endpoints{
		ShopifyEndpoint: s.base + "/shopify",
		AmazonLWAURL:    s.base + "/amazon/auth/o2/token",
		AmazonSPAPIURL:  s.base + "/amazon",
		EbayAPIURL:      s.base + "/ebay",
		BedrockEndpoint: s.base + "/bedrock",
		LedgerURL:       s.base + "/ledger",
		AkeneoBaseURL:   s.base + "/akeneo",
		// With the trailing slash: Translate's operations are POSTs to "/".
		TranslateEndpoint: s.base + "/translate/",
	}
}

// Configure points every outside client of cfg (marketplaces, AI model,
// credits ledger) at the sandbox, and lets them reach it on loopback.
func (e Endpoints) Configure(cfg *config.Config) {
	cfg.ShopifyEndpoint = e.ShopifyEndpoint
	cfg.AmazonLWAURL = e.AmazonLWAURL
	cfg.AmazonSPAPIURL = e.AmazonSPAPIURL
	cfg.EbayAPIURL = e.EbayAPIURL
	cfg.BedrockEndpoint = e.BedrockEndpoint
	cfg.TranslateEndpoint = e.TranslateEndpoint
	cfg.CreditsLedgerURL = e.LedgerURL
	cfg.CreditsLedgerToken = LedgerToken
	cfg.AllowPrivateEndpoints = true
}

// Credentials are the sandbox accounts, by marketplace, as a store would
// connect them.
func (s *Sandbox) Credentials() map[string]connection.Credentials {
	amazon, ebay := amazonfake.SandboxSeller(), ebayfake.SandboxSeller()
	return map[string]connection.Credentials{
		marketplace.Shopify: &connection.Shopify{ShopDomain: ShopDomain, AccessToken: ShopToken},
		marketplace.Akeneo: &connection.Akeneo{BaseURL: s.Endpoints().AkeneoBaseURL, ClientID: AkeneoClient, ClientSecret: AkeneoSecret,
			Username: AkeneoUser, Password: AkeneoPass},
		marketplace.Amazon: &connection.Amazon{ClientID: amazon.ClientID, ClientSecret: amazon.ClientSecret, RefreshToken: amazon.RefreshToken,
			SellerID: amazon.SellerID, MarketplaceIDs: amazon.MarketplaceIDs[:1], Region: "na"},
		marketplace.Ebay: &connection.Ebay{ClientID: ebay.ClientID, ClientSecret: ebay.ClientSecret, RefreshToken: ebay.RefreshToken,
			MarketplaceID: "EBAY_US", ContentLanguage: "en-US", MerchantLocationKey: ebay.MerchantLocationKey,
			FulfillmentPolicyID: ebay.Policies.Fulfillment, PaymentPolicyID: ebay.Policies.Payment, ReturnPolicyID: ebay.Policies.Return,
			CategoryID: EbayCategoryID},
	}
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<meta charset="utf-8"><title>Sandbox</title>
<h1>Sandbox of the outside systems</h1>
<p>Protocol fakes of the marketplaces the job types call. Switch a fault on with
<code>curl -X POST {{.}}/shopify/_faults -d '{"throttle_next": 5}'</code>; read the current faults with GET.</p>
<ul>
<li>Shopify Admin GraphQL: <code>{{.}}/shopify/&lt;shop&gt;/admin/api/&lt;version&gt;/graphql.json</code>, faults <a href="{{.}}/shopify/_faults">/shopify/_faults</a></li>
<li>Akeneo PIM: <code>{{.}}/akeneo</code>, faults <a href="{{.}}/akeneo/_faults">/akeneo/_faults</a></li>
<li>Amazon LWA and SP-API: <code>{{.}}/amazon</code>, faults <a href="{{.}}/amazon/_faults">/amazon/_faults</a></li>
<li>eBay: <code>{{.}}/ebay</code>, faults <a href="{{.}}/ebay/_faults">/ebay/_faults</a></li>
<li>Bedrock Runtime (the AI model): <code>{{.}}/bedrock</code>, faults <a href="{{.}}/bedrock/_faults">/bedrock/_faults</a>, calls <a href="{{.}}/bedrock/_counters">/bedrock/_counters</a></li>
<li>Amazon Translate (the UI label translations): <code>{{.}}/translate/</code>, faults <a href="{{.}}/translate/_faults">/translate/_faults</a>, calls <a href="{{.}}/translate/_counters">/translate/_counters</a></li>
<li>Credits ledger: <code>{{.}}/ledger</code>, balances <a href="{{.}}/ledger/_balances">/ledger/_balances</a> (top up with <code>curl -X POST {{.}}/ledger/_balances -d '{"store_id":"store-1","balance":500}'</code>), faults <a href="{{.}}/ledger/_faults">/ledger/_faults</a></li>
</ul>`))

func (s *Sandbox) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexPage.Execute(w, s.base); err != nil {
		http.Error(w, fmt.Sprint(err), http.StatusInternalServerError)
	}
}
