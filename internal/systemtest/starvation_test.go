package systemtest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/testenv"
)

// The starvation guard lets a low job go before urgent ones once it has
// been ready to run for longer than the wait, and measures that from when
// the job became ready (created, retried, due again), not from when its
// message was first sent, which a retried, paused or duplicate message
// keeps. Before, a low job retried a moment ago jumped ahead of urgent
// ones because its first message was old (the test failed: "ran
// urgent-1,low,urgent-2, want urgent-1,urgent-2,low"). Time is the
// injected clock's: an urgent job moves it on as if it had run a minute.
func TestStarvationIsMeasuredFromWhenAJobBecameReady(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		retried   bool // the low job failed and was retried just before the urgent ones came
		wantOrder string
	}{
		{name: "a low job retried a moment ago waits its turn", retried: true, wantOrder: "urgent-1,urgent-2,low"},
		{name: "a low job waiting longer than the wait goes first", retried: false, wantOrder: "urgent-1,low,urgent-2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t)
			env.Config.StarvationWait = 2 * time.Minute
			clk := clock.NewFake(time.Now())
			var mu sync.Mutex
			var order []string
			handlers := jobtype.NewRegistry()
			jobtype.Register[gateArgs](handlers, jobtype.Func[gateArgs](func(_ context.Context, _ jobtype.Runtime, args gateArgs) (any, error) {
				mu.Lock()
				order = append(order, args.Name)
				mu.Unlock()
				if args.Name == "urgent-1" {
					clk.Advance(time.Minute) // long enough for the guard to look, shorter than its wait
				}
				return nil, nil
			}))
			a := env.App(t, app.Overrides{JobTypes: handlers, Clock: clk})
			ctx := withTimeout(t, time.Minute)
			create := func(name string, p job.Priority) *job.Job {
				t.Helper()
				j, _, err := a.Dispatcher.Create(ctx, dispatch.Request{StoreID: name, Type: "test:gate", Priority: p, Payload: []byte(`{"name":"` + name + `"}`)})
				if err != nil {
					t.Fatal(err)
				}
				return j
			}
			low := create("low", job.PriorityLow)
			clk.Advance(11 * time.Minute)
			if tt.retried {
				if _, err := a.Jobs.Cancel(ctx, low.ID, "test"); err != nil {
					t.Fatal(err)
				}
				retried, err := a.Jobs.Retry(ctx, low.ID, false, "test")
				if err != nil {
					t.Fatal(err)
				}
				if err := a.Dispatcher.Dispatch(ctx, retried); err != nil {
					t.Fatal(err)
				}
			}
			create("urgent-1", job.PriorityUrgent)
			create("urgent-2", job.PriorityUrgent)
			runWorker(t, a)
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Join(order, ","); got != tt.wantOrder {
				t.Errorf("ran %s, want %s", got, tt.wantOrder)
			}
		})
	}
}
