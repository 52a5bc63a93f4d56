package jobtable

import (
	"context"
	"math/rand/v2"
	"time"
)

// The SDK's retryer retries every request that failed in a way that heals
// (throttling, a 5xx, a dropped connection). What it cannot retry has one
// home here: a transaction cancelled by a conflict on a counter shard, items
// a batch write left unprocessed, a job that changed between a read and the
// write that depends on it. Each is tried a bounded number of times, with a
// jittered, doubling wait, and gives up when the context ends.
const (
	backoffFirst = 10 * time.Millisecond
	backoffMax   = time.Second
)

// again calls try until it says it is done, at most tries times, and
// returns its last error. Between tries it waits a jittered backoff.
func again(ctx context.Context, tries int, try func() (done bool, err error)) error {
	wait := backoffFirst
	for n := 1; ; n++ {
		done, err := try()
		if done || n >= tries {
			return err
		}
		jittered := wait/2 + rand.N(wait/2+1)
		select {
		case <-time.After(jittered):
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
			return err
		}
		wait = min(2*wait, backoffMax)
	}
}
