package marketplace_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/marketplace"
)

type tokenCacheBundle struct {
	clock *clock.Fake
	// lifetime is the lifetime the token endpoint gives its tokens.
	lifetime time.Duration
	// grants counts the grants, which issue token-1, token-2, …
	grants atomic.Int32
	// release, when not nil, holds every grant until it is closed.
	release chan struct{}
	// started is told of every grant as it starts.
	started chan struct{}
}

func setupTokenCache(t *testing.T) (*marketplace.TokenCache, *tokenCacheBundle) {
	t.Helper()
	bundle := &tokenCacheBundle{
		clock:    clock.NewFake(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)),
		lifetime: time.Hour,
		started:  make(chan struct{}, 100),
	}
	return marketplace.NewTokenCache(marketplace.Amazon, bundle.clock.Now), bundle
}

func (b *tokenCacheBundle) grant(ctx context.Context) (string, time.Duration, error) {
	b.started <- struct{}{}
	if b.release != nil {
		select {
		case <-b.release:
		case <-ctx.Done():
			return "", 0, ctx.Err()
		}
	}
	return fmt.Sprintf("token-%d", b.grants.Add(1)), b.lifetime, nil
}

func TestTokenCacheConcurrentCallersShareOneGrant(t *testing.T) {
	t.Parallel()
	cache, bundle := setupTokenCache(t)
	bundle.release = make(chan struct{})

	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			token, err := cache.Token(context.Background(), "", bundle.grant)
			if err != nil {
				t.Errorf("Token: %v", err)
			}
			tokens[i] = token
		})
	}
	<-bundle.started
	close(bundle.release)
	wg.Wait()

	for _, token := range tokens {
		if token != "token-1" {
			t.Fatalf("tokens = %q, want token-1 for every caller", tokens)
		}
	}
	if got := bundle.grants.Load(); got != 1 {
		t.Errorf("grants = %d, want 1", got)
	}
}

func TestTokenCacheRenewsBeforeExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		lifetime  time.Duration
		keptUntil time.Duration // the token is still used this long after its grant
		renewedAt time.Duration // and renewed from then on
	}{
		{name: "a minute before expiry", lifetime: time.Hour, keptUntil: 59*time.Minute - time.Second, renewedAt: 59 * time.Minute},
		{name: "halfway through a short lifetime", lifetime: time.Minute, keptUntil: 29 * time.Second, renewedAt: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cache, bundle := setupTokenCache(t)
			bundle.lifetime = tt.lifetime
			ctx := context.Background()

			if token, err := cache.Token(ctx, "", bundle.grant); err != nil || token != "token-1" {
				t.Fatalf("Token = %q, %v; want token-1", token, err)
			}
			bundle.clock.Advance(tt.keptUntil)
			if token, err := cache.Token(ctx, "", bundle.grant); err != nil || token != "token-1" {
				t.Fatalf("Token %s after the grant = %q, %v; want token-1 still", tt.keptUntil, token, err)
			}
			bundle.clock.Advance(tt.renewedAt - tt.keptUntil)
			if token, err := cache.Token(ctx, "", bundle.grant); err != nil || token != "token-2" {
				t.Fatalf("Token %s after the grant = %q, %v; want the renewed token-2", tt.renewedAt, token, err)
			}
		})
	}
}

func TestTokenCacheRenewsARejectedTokenOnce(t *testing.T) {
	t.Parallel()
	cache, bundle := setupTokenCache(t)
	ctx := context.Background()

	first, err := cache.Token(ctx, "", bundle.grant)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	// Two callers were refused the same token: the first renews it, the
	// second takes the renewed one.
	for range 2 {
		if token, err := cache.Token(ctx, first, bundle.grant); err != nil || token != "token-2" {
			t.Fatalf("Token after rejection = %q, %v; want token-2", token, err)
		}
	}
	if got := bundle.grants.Load(); got != 2 {
		t.Errorf("grants = %d, want 2", got)
	}
}

func TestTokenCacheCall(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rejects    int // how many sends answer TokenRejectedError
		wantTokens []string
		wantCred   bool
	}{
		{name: "token accepted", rejects: 0, wantTokens: []string{"token-1"}},
		{name: "token rejected once is renewed", rejects: 1, wantTokens: []string{"token-1", "token-2"}},
		{name: "renewed token rejected too", rejects: 2, wantTokens: []string{"token-1", "token-2"}, wantCred: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cache, bundle := setupTokenCache(t)
			var sent []string
			err := cache.Call(context.Background(), bundle.grant, func(token string) error {
				sent = append(sent, token)
				if len(sent) <= tt.rejects {
					return &marketplace.TokenRejectedError{Reason: "Access to requested resource is denied."}
				}
				return nil
			})
			if strings.Join(sent, ",") != strings.Join(tt.wantTokens, ",") {
				t.Errorf("sent with %q, want %q", sent, tt.wantTokens)
			}
			credErr, isCred := marketplace.IsCredential(err)
			switch {
			case tt.wantCred && (!isCred || credErr.Marketplace != marketplace.Amazon || credErr.Reason != "Access to requested resource is denied."):
				t.Errorf("Call = %v, want amazon's credential error with the API's reason", err)
			case !tt.wantCred && err != nil:
				t.Errorf("Call = %v, want nil", err)
			}
		})
	}
}

func TestTokenCacheGrantErrorIsNotCached(t *testing.T) {
	t.Parallel()
	cache, bundle := setupTokenCache(t)
	ctx := context.Background()
	failing := errors.New("token endpoint down")

	if _, err := cache.Token(ctx, "", func(context.Context) (string, time.Duration, error) { return "", 0, failing }); !errors.Is(err, failing) {
		t.Fatalf("Token = %v, want the grant's error", err)
	}
	if token, err := cache.Token(ctx, "", bundle.grant); err != nil || token != "token-1" {
		t.Fatalf("Token after a failed grant = %q, %v; want a new grant's token-1", token, err)
	}
}

func TestTokenCacheWaiterGivesUpWithItsContext(t *testing.T) {
	t.Parallel()
	cache, bundle := setupTokenCache(t)
	bundle.release = make(chan struct{})

	granted := make(chan error, 1)
	go func() {
		_, err := cache.Token(context.Background(), "", bundle.grant)
		granted <- err
	}()
	<-bundle.started // the grant holds the cache

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := cache.Token(ctx, "", bundle.grant)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "amazon access token: ") {
		t.Errorf("Token with a cancelled context = %v, want amazon access token: context canceled", err)
	}

	close(bundle.release)
	if err := <-granted; err != nil {
		t.Errorf("the grant in progress: %v", err)
	}
	if got := bundle.grants.Load(); got != 1 {
		t.Errorf("grants = %d, want 1: the caller that gave up must not grant", got)
	}
}
