package translation

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/retry"
	translator "github.com/dainostore/jobs/internal/translation"
)

// firstBackoff is the first wait after Translate throttles a call; each
// one after doubles it.
const firstBackoff = time.Second

// call runs one Translate request for l, waiting out Translate's
// throttling with exponential backoff and jitter (Translate never says how
// long), so the calls in flight do not come back together. A wait longer
// than MaxInlineWait becomes the job's retry at that time, so no worker
// sits idle for minutes. Other errors are returned as they are.
func (r *run) call(ctx context.Context, l *label, request func() error) error {
	maxWait := cmp.Or(r.MaxInlineWait, 30*time.Second)
	backoff := retry.NewBackoff(firstBackoff, r.Jitter)
	for {
		err := request()
		if !errors.As(err, new(*translator.Throttled)) {
			return err
		}
		wait := backoff.Next()
		if wait > maxWait {
			return jobtype.RateLimited(wait, err)
		}
		r.rt.Log(slog.LevelDebug, "throttled by Amazon Translate; waiting", slog.String("label", l.source.Key), slog.Duration("wait", wait))
		l.waited += wait
		if err := r.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (r *run) sleep(ctx context.Context, wait time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, wait)
	}
	return clock.Sleep(ctx, wait)
}
