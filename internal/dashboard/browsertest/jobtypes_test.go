package browsertest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/simulate"
)

// catalogArgs is the payload of the store job types the tests register:
// items handled one by one, with a progress message per item, as the
// guide's marketplace jobs report.
type catalogArgs struct {
	Items  int `json:"items"`
	ItemMS int `json:"item_ms"`
	// RateLimitFirst makes the first attempt stop halfway at a rate limit
	// that asks for this wait, after its checkpoint.
	RateLimitFirstMS int `json:"rate_limit_first_ms,omitempty"`
}

type amazonExport struct{ catalogArgs }

func (amazonExport) Kind() string { return "amazon:export:products" }

type shopifyImport struct{ catalogArgs }

func (shopifyImport) Kind() string { return "shopify:import:products" }

type cleanupStub struct{}

func (cleanupStub) Kind() string { return "system:cleanup" }

var products = []string{"Blue Widget", "Red Gadget", "Oak Shelf", "Linen Shirt", "Desk Lamp", "Wool Scarf"}

// storeJobTypes registers dev:simulate, two store job types and a stand-in
// system:cleanup (the real one needs the app's store).
func storeJobTypes() *jobtype.Registry {
	r := jobtype.NewRegistry()
	jobtype.Register[simulate.Args](r, simulate.Handler{})
	jobtype.Register[amazonExport](r, jobtype.Func[amazonExport](func(ctx context.Context, rt jobtype.Runtime, a amazonExport) (any, error) {
		return runCatalog(ctx, rt, a.catalogArgs, func(i int) string {
			return fmt.Sprintf("AI optimizing: %s (%d/%d)", products[i%len(products)], i, a.Items)
		})
	}))
	jobtype.Register[shopifyImport](r, jobtype.Func[shopifyImport](func(ctx context.Context, rt jobtype.Runtime, a shopifyImport) (any, error) {
		return runCatalog(ctx, rt, a.catalogArgs, func(i int) string { return fmt.Sprintf("Importing products: %d/%d", i, a.Items) })
	}))
	jobtype.Register[cleanupStub](r, jobtype.Func[cleanupStub](func(context.Context, jobtype.Runtime, cleanupStub) (any, error) {
		return map[string]int{"jobs_deleted": 0}, nil
	}), jobtype.AsSystem())
	return r
}

func runCatalog(ctx context.Context, rt jobtype.Runtime, a catalogArgs, message func(i int) string) (any, error) {
	var next int
	if _, err := rt.Resume(&next); err != nil {
		return nil, jobtype.Permanent(err)
	}
	for i := next; i < a.Items; i++ {
		if a.RateLimitFirstMS > 0 && rt.Attempt() == 1 && i == a.Items/2 {
			return nil, jobtype.RateLimited(time.Duration(a.RateLimitFirstMS)*time.Millisecond, errors.New("marketplace rate limit exceeded (429 Too Many Requests)"))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(a.ItemMS) * time.Millisecond):
		}
		rt.Progress((i+1)*100/a.Items, message(i+1))
		if err := rt.Checkpoint(i + 1); err != nil {
			return nil, err
		}
	}
	return map[string]int{"items": a.Items}, nil
}
