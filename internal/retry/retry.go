// Package retry decides what happens to a job after a failed attempt: when
// it runs again, or that it has failed for good.
package retry

import (
	"errors"
	"fmt"
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
