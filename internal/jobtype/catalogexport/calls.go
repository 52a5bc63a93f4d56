package catalogexport

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/jobtype/connected"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/retry"
)

// firstBackoff is the first wait after a rate limit that hints at none;
// each one after doubles it.
const firstBackoff = time.Second

// call runs one request to the marketplace, waiting out its rate limits: a
// hinted wait as hinted, an unhinted one (Amazon never hints) with
// exponential backoff and jitter, so concurrent calls do not come back
// together. A wait longer than MaxInlineWait becomes the job's retry at the
// right time (target.longWait), so no worker sits idle for minutes. Other
// errors are returned as they are.
func (e *export) call(ctx context.Context, request func() error) error {
	maxWait := cmp.Or(e.MaxInlineWait, 30*time.Second)
	backoff := retry.NewBackoff(firstBackoff, e.Jitter)
	for {
		err := request()
		limited, ok := marketplace.IsRateLimit(err)
		if !ok {
			return err
		}
		wait := limited.Wait
		if wait <= 0 {
			wait = backoff.Next()
		}
		if wait > maxWait {
			return e.target.longWait(ctx, err, wait)
		}
		e.rt.Log(slog.LevelDebug, "rate limited; waiting", slog.Duration("wait", wait))
		e.mu.Lock()
		e.st.RateLimitWaitMS += wait.Milliseconds()
		e.mu.Unlock()
		if err := e.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// retryAt is the longWait of a marketplace whose hint is the time to wait.
func retryAt(_ context.Context, err error, wait time.Duration) error {
	return jobtype.RateLimited(wait, err)
}

// classify turns a marketplace error into what the worker must do.
func (e *export) classify(ctx context.Context, err error) error {
	return connected.Classify(ctx, e.rt, e.Connections, e.target.name, e.target.connectionVersion, err)
}

func (e *export) sleep(ctx context.Context, wait time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, wait)
	}
	return clock.Sleep(ctx, wait)
}
