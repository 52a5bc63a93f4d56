package catalogexport

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/dainostore/jobs/internal/ai"
	"github.com/dainostore/jobs/internal/catalog"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/connection"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/ledger"
	"github.com/dainostore/jobs/internal/marketplace"
)

// MaxProductIDs bounds the products an export names one by one; a bigger
// export selects a collection, a category or every product.
const MaxProductIDs = 1000

// Selection picks the products to export: exactly one of its fields.
type Selection struct {
	ProductIDs []string `json:"product_ids,omitempty"` // catalog ids
	All        bool     `json:"all,omitempty"`
	Collection string   `json:"collection,omitempty"` // a collection's catalog id (Shopify)
	Category   string   `json:"category,omitempty"`   // a category's code (Akeneo)
}

// Options are what every export takes.
type Options struct {
	Selection
	// AIOptimize has the AI model rewrite each product's title, description
	// and bullet points, paid in AI credits; default true.
	AIOptimize *bool `json:"ai_optimize,omitempty"`
}

// Validate checks that exactly one selection is made, and the ids.
func (o Options) Validate() error {
	chosen := 0
	for _, set := range []bool{len(o.ProductIDs) > 0, o.All, o.Collection != "", o.Category != ""} {
		if set {
			chosen++
		}
	}
	if chosen != 1 {
		return errors.New("choose the products with exactly one of product_ids, all, collection or category")
	}
	if len(o.ProductIDs) > MaxProductIDs {
		return jobtype.InvalidField("product_ids", "product_ids names %d products; at most %d can be named, select a collection, a category or all for more", len(o.ProductIDs), MaxProductIDs)
	}
	for _, id := range o.ProductIDs {
		if id == "" || len(id) > 200 {
			return jobtype.InvalidField("product_ids", "product_ids: %q is not a catalog product id, such as shopify-8123456789", id)
		}
	}
	return nil
}

func (o Options) aiOptimize() bool { return o.AIOptimize == nil || *o.AIOptimize }

// The payloads, one type per job type.
type (
	AmazonProducts struct{ Options }
	EbayProducts   struct{ Options }
)

// Kind names each job type.
func (AmazonProducts) Kind() string { return "amazon:export:products" }
func (EbayProducts) Kind() string   { return "ebay:export:products" }

// Deps are what every export needs.
type Deps struct {
	Connections *connection.Store
	Clients     connection.Clients
	Catalog     *catalog.Store
	// AI writes the optimized text; Ledger is the credits ledger it is paid
	// on. Without either, an export with ai_optimize fails at once.
	AI     *ai.Optimizer
	Ledger *ledger.Client
	// CreditsPerProduct is what one product's AI optimization costs.
	CreditsPerProduct int64
	// AIConcurrency and SendConcurrency bound one export's AI calls and
	// marketplace calls in flight (zero: 8 and 5).
	AIConcurrency, SendConcurrency int
	// ImagesPublicURL, when set, is where marketplaces fetch stored images.
	ImagesPublicURL string
	// MaxInlineWait is the longest rate-limit wait a job sleeps through
	// itself; a longer one becomes a retry at that time. Zero means 30 s.
	MaxInlineWait time.Duration
	// Sleep waits inside a job; nil is a timer that honours the context.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) that spreads backoffs; nil is
	// math/rand.
	Jitter func() float64
	// Clock stamps listings; nil is the wall clock.
	Clock clock.Clock
}

// Register adds the export job types to r.
func Register(r *jobtype.Registry, d Deps) {
	jobtype.Register[AmazonProducts](r, jobtype.Func[AmazonProducts](func(ctx context.Context, rt jobtype.Runtime, a AmazonProducts) (any, error) {
		return d.amazon(ctx, rt, a.Options)
	}), jobtype.UsesConnection(marketplace.Amazon))
	jobtype.Register[EbayProducts](r, jobtype.Func[EbayProducts](func(ctx context.Context, rt jobtype.Runtime, a EbayProducts) (any, error) {
		return d.ebay(ctx, rt, a.Options)
	}), jobtype.UsesConnection(marketplace.Ebay))
}

// selects reports whether the selection (other than by ids) takes p.
func (s Selection) selects(p *catalog.Product) bool {
	switch {
	case s.Collection != "":
		return slices.Contains(p.Collections, s.Collection)
	case s.Category != "":
		return slices.Contains(p.Categories, s.Category)
	}
	return s.All
}
