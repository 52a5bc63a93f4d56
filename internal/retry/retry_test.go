package retry

import (
	"errors"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
)

func TestDecideFollowsTheGuidesSchedule(t *testing.T) {
	t.Parallel()
	policy := Policy{Delays: DefaultDelays}
	if policy.MaxAttempts() != 4 {
		t.Fatalf("max attempts = %d, want 4 (three retries)", policy.MaxAttempts())
	}
	plain := errors.New("timeout talking to the marketplace")
	tests := []struct {
		attempt int
		err     error
		want    Decision
	}{
		{1, plain, Decision{Retry: true, Delay: 5 * time.Second}},
		{2, plain, Decision{Retry: true, Delay: 30 * time.Second}},
		{3, plain, Decision{Retry: true, Delay: 5 * time.Minute}},
		{4, plain, Decision{}},
		{1, jobtype.Permanent(errors.New("invalid credentials")), Decision{}},
		{1, jobtype.RateLimited(90*time.Second, plain), Decision{Retry: true, Delay: 90 * time.Second}},
		{3, jobtype.RateLimited(2*time.Second, plain), Decision{Retry: true, Delay: 2 * time.Second}},
		{4, jobtype.RateLimited(2*time.Second, plain), Decision{Delay: 2 * time.Second}},
		{2, jobtype.RateLimited(0, plain), Decision{Retry: true, Delay: 30 * time.Second}},
	}
	for _, tt := range tests {
		if got := policy.Decide(tt.attempt, tt.err); got != tt.want {
			t.Errorf("Decide(%d, %v) = %+v, want %+v", tt.attempt, tt.err, got, tt.want)
		}
	}
}

func TestParseDelays(t *testing.T) {
	t.Parallel()
	got, err := ParseDelays("5s, 30s,5m")
	if err != nil || len(got) != 3 || got[0] != 5*time.Second || got[1] != 30*time.Second || got[2] != 5*time.Minute {
		t.Errorf("ParseDelays = %v, %v", got, err)
	}
	for _, bad := range []string{"5", "-1s", "soon"} {
		if _, err := ParseDelays(bad); err == nil {
			t.Errorf("ParseDelays(%q) accepted", bad)
		}
	}
}

func TestBackoffDoublesWithJitter(t *testing.T) {
	t.Parallel()
	jitters := []float64{0, 0.5, 0.99}
	b := NewBackoff(time.Second, func() float64 { j := jitters[0]; jitters = jitters[1:]; return j })
	want := []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 2*time.Second + 1980*time.Millisecond}
	for i, w := range want {
		if got := b.Next(); got != w {
			t.Errorf("wait %d = %s, want %s", i+1, got, w)
		}
	}
}
