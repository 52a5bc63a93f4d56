// Package retry decides what happens to a job after a failed attempt: when
// it runs again, or that it has failed for good.
package retry

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
)

// DefaultDelays is the schedule of the guide: 5 s, 30 s, 5 min.
var DefaultDelays = []time.Duration{5 * time.Second, 30 * time.Second, 5 * time.Minute}

// Policy is the retry schedule: Delays[i] is the wait after attempt i+1
// fails, so a job runs at most len(Delays)+1 times.
type Policy struct {
	Delays []time.Duration
}

// MaxAttempts is the number of runs a job gets.
func (p Policy) MaxAttempts() int { return len(p.Delays) + 1 }

// Decision is what to do after a failed attempt.
type Decision struct {
	Retry bool
	Delay time.Duration
}

// Decide returns what to do after attempt (1-based) failed with err.
// Permanent errors fail at once. A rate limit uses up one attempt, like any
// failure, but waits as long as the server asked instead of the schedule's
// delay; a message received again while the job waits uses up nothing.
func (p Policy) Decide(attempt int, err error) Decision {
	var permanent *jobtype.PermanentError
	if errors.As(err, &permanent) {
		return Decision{}
	}
	var limited *jobtype.RateLimitedError
	if errors.As(err, &limited) {
		// Waits beyond SQS's 12-hour visibility limit still work: a message
		// seen before next_attempt_at is hidden again for the rest.
		wait := limited.RetryAfter
		if wait <= 0 {
			wait = p.delay(attempt)
		}
		return Decision{Retry: attempt < p.MaxAttempts(), Delay: wait}
	}
	if attempt >= p.MaxAttempts() {
		return Decision{}
	}
	return Decision{Retry: true, Delay: p.delay(attempt)}
}

func (p Policy) delay(attempt int) time.Duration {
	if len(p.Delays) == 0 {
		return 0
	}
	i := min(max(attempt-1, 0), len(p.Delays)-1)
	return p.Delays[i]
}

// ParseDelays reads a schedule such as "5s,30s,5m".
func ParseDelays(s string) ([]time.Duration, error) {
	var delays []time.Duration
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("retry delay %q is not a duration such as 5s or 5m", part)
		}
		delays = append(delays, d)
	}
	return delays, nil
}

// Backoff is the waits a job spends inside an attempt on a rate limit that
// says nothing of how long: from the first, doubling, each wait half of the
// backoff plus up to as much again at random, so calls in flight do not come
// back together.
type Backoff struct {
	next   time.Duration
	jitter func() float64
}

// NewBackoff starts a backoff at first. jitter returns a number in [0, 1);
// nil is math/rand.
func NewBackoff(first time.Duration, jitter func() float64) *Backoff {
	if jitter == nil {
		jitter = rand.Float64
	}
	return &Backoff{next: first, jitter: jitter}
}

// Next is the next wait.
func (b *Backoff) Next() time.Duration {
	wait := b.next/2 + time.Duration(b.jitter()*float64(b.next/2))
	b.next *= 2
	return wait
}
