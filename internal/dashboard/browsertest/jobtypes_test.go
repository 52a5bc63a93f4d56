package browsertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
// system:cleanup (the real one needs the app's store). The steps of
// dev:simulate and the items of the import pass through the test's gates.
func storeJobTypes(simulations, imports *stepGate) *jobtype.Registry {
	r := jobtype.NewRegistry()
	jobtype.Register[simulate.Args](r, simulate.Handler{Sleep: func(ctx context.Context, d time.Duration) error {
		if err := simulations.pass(ctx); err != nil {
			return err
		}
		return sleep(ctx, d)
	}})
	jobtype.Register[amazonExport](r, jobtype.Func[amazonExport](func(ctx context.Context, rt jobtype.Runtime, a amazonExport) (any, error) {
		return runCatalog(ctx, rt, a.catalogArgs, nil, func(i int) string {
			return fmt.Sprintf("AI optimizing: %s (%d/%d)", products[i%len(products)], i, a.Items)
		})
	}))
	jobtype.Register[shopifyImport](r, jobtype.Func[shopifyImport](func(ctx context.Context, rt jobtype.Runtime, a shopifyImport) (any, error) {
		return runCatalog(ctx, rt, a.catalogArgs, imports, func(i int) string { return fmt.Sprintf("Importing products: %d/%d", i, a.Items) })
	}))
	jobtype.Register[cleanupStub](r, jobtype.Func[cleanupStub](func(context.Context, jobtype.Runtime, cleanupStub) (any, error) {
		return map[string]int{"jobs_deleted": 0}, nil
	}), jobtype.AsSystem())
	return r
}

// runCatalog handles the items from the last checkpoint; each item first
// passes the gate (a nil gate lets every item through).
func runCatalog(ctx context.Context, rt jobtype.Runtime, a catalogArgs, gate *stepGate, message func(i int) string) (any, error) {
	var next int
	if _, err := rt.Resume(&next); err != nil {
		return nil, jobtype.Permanent(err)
	}
	for i := next; i < a.Items; i++ {
		if a.RateLimitFirstMS > 0 && rt.Attempt() == 1 && i == a.Items/2 {
			return nil, jobtype.RateLimited(time.Duration(a.RateLimitFirstMS)*time.Millisecond, errors.New("marketplace rate limit exceeded (429 Too Many Requests)"))
		}
		if err := gate.pass(ctx); err != nil {
			return nil, err
		}
		if err := sleep(ctx, time.Duration(a.ItemMS)*time.Millisecond); err != nil {
			return nil, err
		}
		rt.Progress((i+1)*100/a.Items, message(i+1))
		if err := rt.Checkpoint(i + 1); err != nil {
			return nil, err
		}
	}
	return map[string]int{"items": a.Items}, nil
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

// A stepGate paces the steps of one job type for a test. Open, as it
// starts, it lets every step through at the speed the job's payload asks
// for. Held, each step waits until the test lets it through, so a job stays
// where the test looks at it for as long as the test looks, however slow
// the machine: a state the test waits for cannot pass unseen.
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
	if g == nil {
		return ctx.Err()
	}
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
