package shopify

import (
	"context"
	"fmt"
	"time"

	"github.com/dainostore/jobs/internal/marketplace"
)

// queryCost is an answer's extensions.cost.
type queryCost struct {
	RequestedQueryCost float64  `json:"requestedQueryCost"`
	ActualQueryCost    *float64 `json:"actualQueryCost"`
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

// throttledWait is how long until the bucket holds what the throttled
// query requested.
func (q *queryCost) throttledWait() time.Duration {
	status := q.ThrottleStatus
	if status.RestoreRate <= 0 {
		return 0
	}
	missing := q.RequestedQueryCost - status.CurrentlyAvailable
	if missing <= 0 {
		// Throttled although the points were there: another request of the
		// same app took them meanwhile. One second's refill is a fair guess.
		return time.Second
	}
	return roundUpToMillisecond(missing / status.RestoreRate)
}

func (q *queryCost) describe() string {
	if q == nil {
		return "no cost reported"
	}
	return fmt.Sprintf("it requested %.0f points, the bucket held %.0f of %.0f, refilling %.0f a second",
		q.RequestedQueryCost, q.ThrottleStatus.CurrentlyAvailable, q.ThrottleStatus.MaximumAvailable, q.ThrottleStatus.RestoreRate)
}

// costBucket is the client's estimate of Shopify's cost bucket for this app
// and shop: the points available as of a time, and what each kind of query
// requested last (before Shopify reported one, the client's own estimate).
type costBucket struct {
	known       bool
	available   float64 // as of observedAt; below zero while queries are reserved ahead
	observedAt  time.Time
	max         float64
	restoreRate float64
	requested   map[string]float64 // by operation name
}

func (b *costBucket) observe(op string, cost queryCost, at time.Time) {
	b.known = true
	b.available, b.observedAt = cost.ThrottleStatus.CurrentlyAvailable, at
	b.max, b.restoreRate = cost.ThrottleStatus.MaximumAvailable, cost.ThrottleStatus.RestoreRate
	if cost.RequestedQueryCost > 0 {
		b.requested[op] = cost.RequestedQueryCost
	}
}

func (b *costBucket) availableAt(t time.Time) float64 {
	elapsed := max(t.Sub(b.observedAt), 0)
	return min(b.max, b.available+elapsed.Seconds()*b.restoreRate)
}

// reserve decides how long a query of kind op waits for the bucket to hold
// what the last one requested, and takes those points from the estimate, so
// that concurrent queries queue behind each other. A wait over limit
// reserves nothing and returns ok false.
func (b *costBucket) reserve(op string, now time.Time, limit time.Duration) (wait time.Duration, need, available float64, ok bool) {
	need = b.requested[op]
	// Without a report, or for a query the bucket could never hold, there is
	// nothing to wait for: Shopify's answer will say.
	if !b.known || need == 0 || b.restoreRate <= 0 || need > b.max {
		return 0, need, 0, true
	}
	available = b.availableAt(now)
	if available < need {
		wait = roundUpToMillisecond((need - available) / b.restoreRate)
	}
	if wait > 0 && wait > limit {
		return wait, need, available, false
	}
	b.available, b.observedAt = available-need, now
	return wait, need, available, true
}

// pace sleeps until the bucket should hold what a query of kind op needs,
// or returns a RateLimitError when that is longer than MaxInlineWait.
func (c *Client) pace(ctx context.Context, op string) error {
	c.mu.Lock()
	wait, need, available, ok := c.bucket.reserve(op, c.now(), c.maxInlineWait)
	c.mu.Unlock()
	if !ok {
		return &marketplace.RateLimitError{Marketplace: marketplace.Shopify, Wait: wait,
			Reason: fmt.Sprintf("the cost bucket holds about %.0f points and a %s query needs %.0f", available, op, need)}
	}
	if wait <= 0 {
		return nil
	}
	if err := c.sleep(ctx, wait); err != nil {
		return fmt.Errorf("shopify %s query: waiting for the cost bucket: %w", op, err)
	}
	c.mu.Lock()
	c.stats.Paced += wait
	c.mu.Unlock()
	return nil
}
