package catalogimport

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/jobtype"
	"github.com/dainostore/jobs/internal/marketplace"
)

// quietRuntime is a runtime that records nothing: call and classify only log.
type quietRuntime struct{ jobtype.Runtime }

func (quietRuntime) Log(slog.Level, string, ...slog.Attr) {}
func (quietRuntime) StoreID() string                      { return "store" }

// A marketplace's rate limit is waited out inside the job while its hint is
// short, however often it comes; a long hint becomes a retry at that time;
// without a hint the job backs off, doubling.
func TestRateLimitsAreWaitedOutOrBecomeARetryAtTheHint(t *testing.T) {
	var slept []time.Duration
	d := Deps{MaxInlineWait: 10 * time.Second, Sleep: func(_ context.Context, w time.Duration) error { slept = append(slept, w); return nil }}
	src := source{marketplace: marketplace.Shopify}
	limited := func(wait time.Duration) error {
		return &marketplace.RateLimitError{Marketplace: marketplace.Shopify, Wait: wait, Reason: "Throttled"}
	}

	answers := []error{limited(2 * time.Second), limited(0), limited(0), limited(3 * time.Second), nil}
	var st state
	err := d.call(context.Background(), quietRuntime{}, &st, src, func() error {
		err := answers[0]
		answers = answers[1:]
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{2 * time.Second, time.Second, 2 * time.Second, 3 * time.Second}
	if len(slept) != len(want) {
		t.Fatalf("slept %v, want %v", slept, want)
	}
	for i := range want {
		if slept[i] != want[i] {
			t.Fatalf("slept %v, want %v", slept, want)
		}
	}
	if st.RateLimitWaitMS != 8000 {
		t.Errorf("recorded %d ms of waiting, want 8000", st.RateLimitWaitMS)
	}

	err = d.call(context.Background(), quietRuntime{}, &st, src, func() error { return limited(40 * time.Second) })
	var retry *jobtype.RateLimitedError
	if !errors.As(err, &retry) || retry.RetryAfter != 40*time.Second {
		t.Fatalf("a 40 s hint: %v, want a retry in 40 s", err)
	}
}

// What the worker must do with a marketplace's other answers.
func TestMarketplaceFailuresAreClassified(t *testing.T) {
	d := Deps{}
	src := source{marketplace: marketplace.Akeneo}
	refused := d.classify(context.Background(), quietRuntime{}, src, &marketplace.PermanentError{Marketplace: "akeneo", Status: 422, Reason: "bad search"})
	var permanent *jobtype.PermanentError
	if !errors.As(refused, &permanent) {
		t.Errorf("a refused request: %v, want a permanent failure", refused)
	}
	transient := errors.New("HTTP 503")
	if got := d.classify(context.Background(), quietRuntime{}, src, transient); got != transient {
		t.Errorf("a 503: %v, want it as it is (retried on the schedule)", got)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("invocation deadline near"))
	if got := d.classify(ctx, quietRuntime{}, src, errors.New(`Get "http://pim": invocation deadline near`)); !errors.Is(got, context.Canceled) {
		t.Errorf("a request cut by the deadline: %v, want the context's end, so the job is handed on", got)
	}
}
