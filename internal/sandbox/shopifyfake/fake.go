package shopifyfake

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/sandbox/imagegen"
)

// Options configure a Fake.
type Options struct {
	// Now is the clock the cost buckets refill on; nil means time.Now. A
	// test that injects it controls throttling exactly.
	Now func() time.Time
	// Bucket is every shop's cost bucket; the zero value means Shopify's
	// Standard plan as the fake models it: 2,000 points, 100 points a second.
	Bucket Bucket
}

// Bucket is a leaky bucket of query cost points.
type Bucket struct {
	Max         float64 // points the bucket holds when full (throttleStatus.maximumAvailable)
	RestoreRate float64 // points it regains per second (throttleStatus.restoreRate)
}

var standardBucket = Bucket{Max: 2000, RestoreRate: 100}

// maxQueryCost is the most a single query may cost, whatever the bucket
// holds; Shopify refuses a costlier query before running it.
const maxQueryCost = 1000

// maxRequestBytes bounds a GraphQL request body.
const maxRequestBytes = 1 << 20

// Faults are failures the fake injects, switched by a test (SetFaults) or
// by a person through POST /_faults.
type Faults struct {
	// RevokedToken answers every GraphQL request 401, as Shopify does once a
	// merchant uninstalls the app or rotates its token.
	RevokedToken bool `json:"revoked_token"`
	// Frozen answers 402: the shop is frozen for an unpaid bill.
	Frozen bool `json:"frozen"`
	// Locked answers 423: Shopify locked the shop.
	Locked bool `json:"locked"`
	// ThrottleNext answers the next N valid queries THROTTLED. Each empties
	// the shop's bucket first, so the throttleStatus it reports is true and
	// a client that waits what it says is served afterwards.
	ThrottleNext int `json:"throttle_next"`
	// ServerErrorsNext answers the next N GraphQL requests 503, 502, 503, ...
	// before looking at them, as Shopify's edge does in an incident.
	ServerErrorsNext int `json:"server_errors_next"`
	// LatencyMS delays every GraphQL and image response by this many
	// milliseconds of real time (a request whose client gives up earlier
	// ends then).
	LatencyMS int `json:"latency_ms"`
}

// Counters count what the fake served since it started.
type Counters struct {
	GraphQLRequests int     `json:"graphql_requests"` // requests to a graphql.json endpoint, whatever their answer
	Throttled       int     `json:"throttled"`        // answered THROTTLED
	ServerErrors    int     `json:"server_errors"`    // answered 5xx by ServerErrorsNext
	Rejected        int     `json:"rejected"`         // answered 401, 402 or 423
	QueryCost       float64 `json:"query_cost"`       // actual cost charged, all shops together
	// ImageDownloads counts the GET requests of each image URL (as
	// Fake.ImageURL writes it), broken ones and unknown ones included.
	ImageDownloads map[string]int `json:"image_downloads"`
}

// Fake is a fake of Shopify's Admin GraphQL API and image CDN. It is safe for
// concurrent use.
type Fake struct {
	now    func() time.Time
	bucket Bucket
	mux    *http.ServeMux

	mu        sync.Mutex
	publicURL string
	shops     map[string]*shopState
	faults    Faults
	counters  Counters
	lastID    int64             // the ids UpdateProduct gives new variants and images follow it
	pngs      map[string][]byte // generated images by shop, file and version
}

type shopState struct {
	token   string
	catalog Catalog
	// The cost bucket: available points as of refilledAt.
	available  float64
	refilledAt time.Time
}

// New returns a Fake with no shops.
func New(o Options) *Fake {
	f := &Fake{
		now:      o.Now,
		bucket:   o.Bucket,
		shops:    map[string]*shopState{},
		counters: Counters{ImageDownloads: map[string]int{}},
		lastID:   70_000_000_000_000,
		pngs:     map[string][]byte{},
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.bucket.Max <= 0 {
		f.bucket.Max = standardBucket.Max
	}
	if f.bucket.RestoreRate <= 0 {
		f.bucket.RestoreRate = standardBucket.RestoreRate
	}
	f.mux = http.NewServeMux()
	f.mux.HandleFunc("POST /{shop}/admin/api/{version}/graphql.json", f.delayed(f.serveGraphQL))
	f.mux.HandleFunc("GET /cdn/{shop}/{file}", f.delayed(f.serveImage))
	f.mux.HandleFunc("GET /_faults", f.serveFaults)
	f.mux.HandleFunc("POST /_faults", f.updateFaults)
	f.mux.HandleFunc("GET /_counters", f.serveCounters)
	return f
}

// ServeHTTP serves the fake's routes (see the package documentation).
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// SetPublicURL sets the URL the fake is reachable at, its mount point
// included ("http://127.0.0.1:43117" or "http://localhost:8080/shopify");
// image URLs start with it.
func (f *Fake) SetPublicURL(u string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.publicURL = strings.TrimSuffix(u, "/")
}

// ImageURL returns the URL the fake gives img in a shop's responses.
func (f *Fake) ImageURL(domain string, img Image) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return imageURL(f.publicURL, domain, img)
}

// AddShop adds (or replaces) a shop that accepts token, serving a copy of c
// with a full cost bucket.
func (f *Fake) AddShop(domain, token string, c Catalog) {
	c = c.clone()
	slices.SortFunc(c.Products, func(a, b Product) int { return compareIDs(a.ID, b.ID) })
	slices.SortFunc(c.Collections, func(a, b Collection) int { return compareIDs(a.ID, b.ID) })
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shops[domain] = &shopState{token: token, catalog: c, available: f.bucket.Max, refilledAt: now}
}

func compareIDs(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Shop returns a copy of a shop's catalog as it is now (nil for an unknown
// shop): what an import of it must produce.
func (f *Fake) Shop(domain string) *Catalog {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shops[domain]
	if s == nil {
		return nil
	}
	c := s.catalog.clone()
	return &c
}

// UpdateProduct edits product index of a shop as a merchant saving it in
// the admin would: edit changes it (and must not call the fake), then the
// product's updatedAt moves to now, new variants and images get ids, and
// every image that changed gets a new ?v= version.
func (f *Fake) UpdateProduct(domain string, index int, edit func(*Product)) error {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shops[domain]
	if s == nil {
		return fmt.Errorf("shopifyfake: no shop %s", domain)
	}
	if index < 0 || index >= len(s.catalog.Products) {
		return fmt.Errorf("shopifyfake: shop %s has no product %d", domain, index)
	}
	p := &s.catalog.Products[index]
	before := p.clone()
	edit(p)
	p.ID = before.ID
	for i := range p.Variants {
		if p.Variants[i].ID == 0 {
			p.Variants[i].ID = f.newID()
		}
	}
	for i := range p.Images {
		img := &p.Images[i]
		if img.ID == 0 {
			img.ID = f.newID()
		}
		old, existed := before.Image(img.ID)
		bumpVersion(img, old, existed)
	}
	p.UpdatedAt = savedAt(now, before.UpdatedAt)
	return nil
}

// UpdateCollection edits collection index of a shop, as UpdateProduct does
// a product.
func (f *Fake) UpdateCollection(domain string, index int, edit func(*Collection)) error {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shops[domain]
	if s == nil {
		return fmt.Errorf("shopifyfake: no shop %s", domain)
	}
	if index < 0 || index >= len(s.catalog.Collections) {
		return fmt.Errorf("shopifyfake: shop %s has no collection %d", domain, index)
	}
	c := &s.catalog.Collections[index]
	before := c.clone()
	edit(c)
	c.ID = before.ID
	if c.Image != nil {
		if c.Image.ID == 0 {
			c.Image.ID = f.newID()
		}
		var old Image
		existed := before.Image != nil && before.Image.ID == c.Image.ID
		if existed {
			old = *before.Image
		}
		bumpVersion(c.Image, old, existed)
	}
	c.UpdatedAt = savedAt(now, before.UpdatedAt)
	return nil
}

// bumpVersion gives a changed or new image the next version, unless the
// edit already set one.
func bumpVersion(img *Image, old Image, existed bool) {
	switch {
	case !existed:
		img.Version = max(img.Version, 1)
	case *img != old && img.Version == old.Version:
		img.Version++
	}
}

func (f *Fake) newID() int64 {
	f.lastID++
	return f.lastID
}

// savedAt is the updatedAt of an edit made at now: Shopify's timestamps
// have whole seconds, and an edit always moves updatedAt forward.
func savedAt(now, previous time.Time) time.Time {
	at := now.UTC().Truncate(time.Second)
	if !at.After(previous) {
		at = previous.Add(time.Second)
	}
	return at
}

// SetFaults replaces the faults.
func (f *Fake) SetFaults(faults Faults) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = faults
}

// Faults returns the faults in force; the counts go down as they fire.
func (f *Fake) Faults() Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.faults
}

// Counters returns a copy of the counters.
func (f *Fake) Counters() Counters {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.counters
	c.ImageDownloads = maps.Clone(c.ImageDownloads)
	return c
}

// delayed applies the latency fault before h.
func (f *Fake) delayed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		latency := time.Duration(f.faults.LatencyMS) * time.Millisecond
		f.mu.Unlock()
		if latency > 0 {
			timer := time.NewTimer(latency)
			defer timer.Stop()
			select {
			case <-timer.C:
			case <-r.Context().Done():
				return
			}
		}
		h(w, r)
	}
}

// reply is an answer decided under the lock and written after it.
type reply struct {
	status      int
	contentType string
	apiVersion  string
	body        []byte
}

func (f *Fake) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	var rep reply
	if err != nil {
		rep = jsonReply(http.StatusRequestEntityTooLarge, map[string]string{"errors": "Request body is too large"})
	} else {
		rep = f.answer(r.PathValue("shop"), r.PathValue("version"), r.Header.Get("X-Shopify-Access-Token"), body)
	}
	if rep.apiVersion != "" {
		w.Header().Set("X-Shopify-API-Version", rep.apiVersion)
	}
	w.Header().Set("Content-Type", rep.contentType)
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

func jsonReply(status int, v any) reply {
	body, err := json.Marshal(v)
	if err != nil {
		panic("shopifyfake: encoding a reply: " + err.Error()) // every reply is built from plain values
	}
	return reply{status: status, contentType: "application/json; charset=utf-8", body: body}
}

// invalidTokenMessage is Shopify's own wording; note that errors is a string
// here, not GraphQL's list.
const invalidTokenMessage = "[API] Invalid API key or access token (unrecognized login or wrong password)"

func (f *Fake) answer(domain, version, token string, body []byte) reply {
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counters.GraphQLRequests++
	if f.faults.ServerErrorsNext > 0 {
		f.faults.ServerErrorsNext--
		f.counters.ServerErrors++
		if f.counters.ServerErrors%2 == 1 {
			return reply{status: http.StatusServiceUnavailable, contentType: "text/html; charset=utf-8",
				body: []byte("<!DOCTYPE html><html><body><h1>Service Unavailable</h1><p>Shopify is temporarily unavailable.</p></body></html>\n")}
		}
		return reply{status: http.StatusBadGateway, contentType: "text/html; charset=utf-8",
			body: []byte("<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>\n")}
	}
	shop := f.shops[domain]
	if shop == nil {
		return jsonReply(http.StatusNotFound, map[string]string{"errors": "Not Found"})
	}
	switch {
	case f.faults.RevokedToken || token != shop.token:
		f.counters.Rejected++
		return jsonReply(http.StatusUnauthorized, map[string]string{"errors": invalidTokenMessage})
	case f.faults.Frozen:
		f.counters.Rejected++
		return jsonReply(http.StatusPaymentRequired, map[string]string{"errors": "Unavailable Shop"})
	case f.faults.Locked:
		f.counters.Rejected++
		return jsonReply(http.StatusLocked, map[string]string{"errors": "Locked"})
	}

	var request struct {
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()
	if err := decoder.Decode(&request); err != nil || strings.TrimSpace(request.Query) == "" {
		return jsonReply(http.StatusBadRequest, map[string]any{"errors": map[string]string{"query": "Required parameter missing or invalid"}})
	}

	shop.refill(now, f.bucket)
	rep := f.execute(shop, domain, request.Query, request.OperationName, request.Variables)
	rep.apiVersion = version
	return rep
}

// execute runs a query against a shop's catalog and bucket.
func (f *Fake) execute(shop *shopState, domain, query, operationName string, variables map[string]any) reply {
	op, syntaxErr := parseOperation(query, operationName)
	if syntaxErr != nil {
		return shop.graphQLReply(f.bucket, 0, 0, nil, []graphQLError{*syntaxErr}, nil)
	}
	if op.kind != "query" {
		return shop.graphQLReply(f.bucket, 0, 0, nil, []graphQLError{{Message: "The sandbox serves queries only, not " + op.kind + "s"}}, nil)
	}
	check := &checker{variables: variables, defaults: op.defaults}
	requested := check.selectionSet("QueryRoot", op.selections, nil)
	if len(check.errors) > 0 {
		return shop.graphQLReply(f.bucket, 0, 0, nil, check.errors, nil)
	}
	if requested > maxQueryCost {
		return shop.graphQLReply(f.bucket, requested, -1, nil, []graphQLError{{
			Message: fmt.Sprintf("Query cost is %.0f, which exceeds the single query max cost limit (%d). "+
				"Ask for fewer nodes per connection, or use bulk operations.", requested, maxQueryCost),
			Extensions: map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": maxQueryCost},
		}}, nil)
	}
	if f.faults.ThrottleNext > 0 {
		f.faults.ThrottleNext--
		shop.available = 0
	}
	// Points are whole numbers; the tolerance absorbs the float error of a
	// refill computed from a wait a client derived from them.
	if requested > shop.available+1e-6 {
		f.counters.Throttled++
		return shop.graphQLReply(f.bucket, requested, -1, nil, []graphQLError{{
			Message:    "Throttled",
			Extensions: map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
		}}, nil)
	}
	e := &executor{domain: domain, publicURL: f.publicURL, catalog: &shop.catalog}
	data := e.run(op)
	// Shopify takes the requested cost before running a query and refunds
	// what it did not use.
	actual := min(e.cost, requested)
	shop.available -= actual
	f.counters.QueryCost += actual
	return shop.graphQLReply(f.bucket, requested, actual, data, e.errors, e.search)
}

func (s *shopState) refill(now time.Time, b Bucket) {
	if elapsed := now.Sub(s.refilledAt); elapsed > 0 {
		s.available = min(b.Max, s.available+elapsed.Seconds()*b.RestoreRate)
		s.refilledAt = now
	}
}

type costExtension struct {
	RequestedQueryCost int            `json:"requestedQueryCost"`
	ActualQueryCost    *int           `json:"actualQueryCost"`
	ThrottleStatus     throttleStatus `json:"throttleStatus"`
}

type throttleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable int     `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// graphQLReply is a 200 answer with the shop's cost extension; actual < 0
// means the query did not run (actualQueryCost null).
func (s *shopState) graphQLReply(b Bucket, requested, actual float64, data object, errs []graphQLError, search []searchReport) reply {
	cost := costExtension{
		RequestedQueryCost: int(math.Ceil(requested)),
		ThrottleStatus: throttleStatus{
			MaximumAvailable: b.Max,
			// Shopify reports whole points; rounding down keeps a client's
			// wait computed from it long enough.
			CurrentlyAvailable: int(math.Floor(max(s.available, 0))),
			RestoreRate:        b.RestoreRate,
		},
	}
	if actual >= 0 {
		n := int(math.Ceil(actual))
		cost.ActualQueryCost = &n
	}
	envelope := map[string]any{"extensions": map[string]any{"cost": cost}}
	if search != nil {
		envelope["extensions"].(map[string]any)["search"] = search
	}
	if data != nil {
		envelope["data"] = data
	}
	if len(errs) > 0 {
		envelope["errors"] = errs
	}
	return jsonReply(http.StatusOK, envelope)
}

func (f *Fake) serveImage(w http.ResponseWriter, r *http.Request) {
	domain, file := r.PathValue("shop"), r.PathValue("file")
	name, isPNG := strings.CutSuffix(file, ".png")
	f.mu.Lock()
	u := f.publicURL + "/cdn/" + domain + "/" + file
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	f.counters.ImageDownloads[u]++
	var img Image
	found := false
	if s := f.shops[domain]; s != nil && isPNG {
		img, found = s.catalog.findImage(name)
	}
	f.mu.Unlock()
	if !found || img.Broken {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	data := f.png(domain, img)
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	// The URLs carry the version, so a cache may keep each one forever.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(data)
}

func (c *Catalog) findImage(file string) (Image, bool) {
	for _, p := range c.Products {
		for _, img := range p.Images {
			if img.File == file {
				return img, true
			}
		}
	}
	for _, col := range c.Collections {
		if col.Image != nil && col.Image.File == file {
			return *col.Image, true
		}
	}
	return Image{}, false
}

// png returns an image's content, drawn once per version: the same version
// is always the same bytes, a new version other bytes.
func (f *Fake) png(domain string, img Image) []byte {
	key := fmt.Sprintf("%s/%s@%d", domain, img.File, img.Version)
	f.mu.Lock()
	data, ok := f.pngs[key]
	f.mu.Unlock()
	if ok {
		return data
	}
	data = imagegen.PNG(key, max(img.Width, 1), max(img.Height, 1))
	f.mu.Lock()
	f.pngs[key] = data
	f.mu.Unlock()
	return data
}

func (f *Fake) serveFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, f.Faults())
}

func (f *Fake) serveCounters(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, f.Counters())
}

// updateFaults changes the faults the body names and keeps the others:
// POST {"throttle_next": 3} throttles the next three queries and leaves a
// revoked token revoked.
func (f *Fake) updateFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil {
		http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	faults := f.faults
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	err = decoder.Decode(&faults)
	if err == nil {
		err = faults.validate()
	}
	if err == nil {
		f.faults = faults
	}
	f.mu.Unlock()
	if err != nil {
		http.Error(w, "faults: "+err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, faults)
}

func (fs Faults) validate() error {
	if fs.ThrottleNext < 0 || fs.ServerErrorsNext < 0 || fs.LatencyMS < 0 {
		return errors.New("throttle_next, server_errors_next and latency_ms cannot be negative")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	rep := jsonReply(http.StatusOK, v)
	w.Header().Set("Content-Type", rep.contentType)
	_, _ = w.Write(rep.body)
}
