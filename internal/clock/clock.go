// Package clock is the one source of time the system's parts share: the job
// table, the dispatcher, the worker, the queues' wakes, the sweep, the
// alerts and the local schedules all read the clock they are given, so a
// test moves time instead of sleeping.
//
// What runs on real time stays on it: a Lambda invocation's deadline (a
// context deadline), SQS's visibility timeouts and delays, and the waits
// between retries of a failed AWS request.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and measures intervals in it.
type Clock interface {
	Now() time.Time
	// NewTicker ticks every d of this clock's time, dropping ticks a slow
	// receiver misses, as time.Ticker does.
	NewTicker(d time.Duration) Ticker
}

// Ticker delivers ticks on C until stopped.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Real is the wall clock.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

// Fake is a clock that moves only when told to. Its tickers tick as
// Advance carries the time past their next tick. It is safe for concurrent
// use.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	tickers []*fakeTicker
}

// NewFake returns a Fake clock standing at start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the time forward by d and delivers the ticks that fall due.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	now := f.now
	due := make([]*fakeTicker, 0, len(f.tickers))
	for _, t := range f.tickers {
		if !t.next.After(now) {
			due = append(due, t)
		}
	}
	for _, t := range due {
		for !t.next.After(now) {
			t.next = t.next.Add(t.every)
		}
	}
	f.mu.Unlock()
	for _, t := range due {
		select {
		case t.c <- now:
		default: // the receiver has not taken the last tick: this one is dropped
		}
	}
}

// NewTicker returns a ticker driven by Advance.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTicker{fake: f, every: d, next: f.now.Add(d), c: make(chan time.Time, 1)}
	f.tickers = append(f.tickers, t)
	return t
}

type fakeTicker struct {
	fake  *Fake
	every time.Duration
	next  time.Time
	c     chan time.Time
}

func (t *fakeTicker) C() <-chan time.Time { return t.c }

func (t *fakeTicker) Stop() {
	f := t.fake
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, other := range f.tickers {
		if other == t {
			f.tickers = append(f.tickers[:i], f.tickers[i+1:]...)
			return
		}
	}
}

// Offset is the wall clock shifted by an amount a test moves forward: time
// flows as usual (so emulators, timeouts and tickers behave as in
// production) and Advance jumps over a wait. Its tickers keep the wall
// clock's pace; a jump does not make them tick.
type Offset struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the wall clock plus the offset.
func (o *Offset) Now() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return time.Now().Add(o.offset)
}

// Advance moves the time forward by d at once.
func (o *Offset) Advance(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.offset += d
}

// NewTicker ticks on the wall clock's pace.
func (o *Offset) NewTicker(d time.Duration) Ticker { return Real.NewTicker(d) }

// Sleep waits d on the wall clock, or less if ctx ends first (then it
// returns ctx.Err()). Jobs use it for the waits they spend inside an
// attempt, such as a marketplace's rate limit.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
