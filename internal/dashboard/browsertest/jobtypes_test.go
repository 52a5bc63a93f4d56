package browsertest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/catalogexport"
	"github.com/dainostore/jobs/internal/jobtype/catalogimport"
	"github.com/dainostore/jobs/internal/jobtype/cleanup"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
	"github.com/dainostore/jobs/internal/jobtype/translation"
)

// jobTypes registers the job types the app registers from its
// configuration: the Shopify and Akeneo imports, the Amazon and eBay
// exports, the UI labels' translation, system:cleanup and dev:simulate, the real ones, with the app's
// stores, clients, AI model and credits ledger. Only dev:simulate differs:
// its steps pass through the test's gate.
func jobTypes(parts *app.App, simulations *stepGate) *jobtype.Registry {
	r := jobtype.NewRegistry()
	jobtype.Register[cleanup.Args](r, cleanup.Handler{Jobs: parts.Jobs}, jobtype.AsSystem())
	catalogimport.Register(r, catalogimport.Deps{
		Connections: parts.Connections, Clients: parts.Marketplaces, Catalog: parts.Catalog, Images: parts.Images,
	})
	cfg := parts.Config
	catalogexport.Register(r, catalogexport.Deps{
		Connections: parts.Connections, Clients: parts.Marketplaces, Catalog: parts.Catalog, AI: parts.AI, Ledger: parts.Ledger,
		CreditsPerProduct: int64(cfg.AICreditsPerProduct), AIConcurrency: cfg.ExportAIConcurrency, SendConcurrency: cfg.ExportSendConcurrency,
	})
	translation.Register(r, translation.Deps{
		Catalog: parts.Catalog, Translator: parts.Translator, Ledger: parts.Ledger,
		CreditsPerBatch: int64(cfg.TranslationCreditsPerBatch),
	})
	jobtype.Register[simulate.Args](r, simulate.Handler{Sleep: func(ctx context.Context, d time.Duration) error {
		if err := simulations.pass(ctx); err != nil {
			return err
		}
		return sleep(ctx, d)
	}})
	return r
}

// gatedPages sends the marketplace clients' requests, each request for a
// page of a catalog first passing the test's gate: Shopify's Products and
// Collections queries, Akeneo's product and category lists. Counts,
// Shopify's follow-up queries of a product's variants, tokens and images go
// straight through, so one pass is one page of the import.
type gatedPages struct {
	next http.RoundTripper
	gate *stepGate
}

func (g gatedPages) RoundTrip(req *http.Request) (*http.Response, error) {
	if isCatalogPage(req) {
		if err := g.gate.pass(req.Context()); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	return g.next.RoundTrip(req)
}

func isCatalogPage(req *http.Request) bool {
	path := req.URL.Path
	switch {
	case strings.HasPrefix(path, "/shopify/") && strings.HasSuffix(path, "/graphql.json") && req.GetBody != nil:
		// Read a copy of the body: the request itself is sent as it is.
		body, err := req.GetBody()
		if err != nil {
			return false
		}
		defer body.Close()
		var query struct {
			OperationName string `json:"operationName"`
		}
		if json.NewDecoder(body).Decode(&query) != nil {
			return false
		}
		return query.OperationName == "Products" || query.OperationName == "Collections"
	case req.Method == http.MethodGet && (strings.HasSuffix(path, "/api/rest/v1/products-uuid") || strings.HasSuffix(path, "/api/rest/v1/categories")):
		return req.URL.Query().Get("with_count") != "true"
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// A stepGate paces the steps of a job for a test: the steps of dev:simulate,
// or the pages an import reads. Open, as it starts, it lets every step
// through. Held, each step waits until the test lets it through, so a job
// stays where the test looks at it for as long as the test looks, however
// slow the machine: a state the test waits for cannot pass unseen.
type stepGate struct {
	mu sync.Mutex
	// open is closed while the gate is open.
	open chan struct{}
	// permits are the steps the test let through while the gate is held.
	permits chan struct{}
}

func newStepGate() *stepGate {
	open := make(chan struct{})
	close(open)
	return &stepGate{open: open, permits: make(chan struct{}, 1000)}
}

// hold makes every step that comes to the gate from now on wait for allow
// or release.
func (g *stepGate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
		g.open = make(chan struct{})
	default:
	}
	// Steps let through before are not owed to the jobs held now.
	for {
		select {
		case <-g.permits:
		default:
			return
		}
	}
}

// allow lets n more steps through the held gate, whichever jobs take them.
func (g *stepGate) allow(n int) {
	for range n {
		g.permits <- struct{}{}
	}
}

// release opens the gate: held steps go on, and the later ones do not stop.
func (g *stepGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

// pass returns when the step may run, or when the job's context ends.
func (g *stepGate) pass(ctx context.Context) error {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
		return nil
	case <-g.permits:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
