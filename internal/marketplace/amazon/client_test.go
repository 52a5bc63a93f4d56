package amazon_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/clock"
	"github.com/dainostore/jobs/internal/marketplace"
	"github.com/dainostore/jobs/internal/marketplace/amazon"
	"github.com/dainostore/jobs/internal/sandbox/amazonfake"
)

type testBundle struct {
	fake   *amazonfake.Server
	clock  *clock.Fake
	creds  amazon.Credentials
	config amazon.Config
}

// setup serves the fake under a prefix, as the sandbox does, and returns a
// client of the fake's seller that shares the fake's clock. wrap, when not
// nil, stands between the client and the fake.
func setup(t *testing.T, wrap func(http.Handler) http.Handler) (*amazon.Client, *testBundle) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	fake := amazonfake.New(amazonfake.Options{Now: clk.Now})
	seller := amazonfake.Seller{
		ClientID:       "amzn1.application-oa2-client.test",
		ClientSecret:   "test-secret",
		RefreshToken:   "Atzr|test-refresh-token",
		SellerID:       "A3TESTSELLER42",
		MarketplaceIDs: []string{"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"},
	}
	fake.AddSeller(seller)

	var handler http.Handler = fake
	if wrap != nil {
		handler = wrap(fake)
	}
	mux := http.NewServeMux()
	mux.Handle("/amazon/", http.StripPrefix("/amazon", handler))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	fake.SetPublicURL(server.URL + "/amazon")

	bundle := &testBundle{
		fake:  fake,
		clock: clk,
		creds: amazon.Credentials{
			ClientID:       seller.ClientID,
			ClientSecret:   seller.ClientSecret,
			RefreshToken:   seller.RefreshToken,
			SellerID:       seller.SellerID,
			MarketplaceIDs: []string{"ATVPDKIKX0DER"},
			Region:         amazon.RegionNorthAmerica,
		},
		config: amazon.Config{
			LWAURL:   server.URL + "/amazon/auth/o2/token",
			SPAPIURL: server.URL + "/amazon",
			HTTP:     server.Client(),
			Now:      clk.Now,
		},
	}
	return bundle.client(t), bundle
}

func (b *testBundle) client(t *testing.T) *amazon.Client {
	t.Helper()
	client, err := amazon.New(b.config, b.creds)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return client
}

func TestVerifySucceedsWithGoodCredentials(t *testing.T) {
	t.Parallel()
	client, bundle := setup(t, nil)

	if err := client.Verify(context.Background()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := bundle.fake.Counters(); got.TokenGrants != 1 || got.APICalls != 1 {
		t.Errorf("counters = %+v, want one grant and one API call", got)
	}
}

func TestVerifyChecksEveryMarketplaceIsTheSellers(t *testing.T) {
	t.Parallel()
	_, bundle := setup(t, nil)
	bundle.creds.MarketplaceIDs = []string{"ATVPDKIKX0DER", "A1AM78C64UM0Y8"} // the seller does not sell in Mexico

	err := bundle.client(t).Verify(context.Background())

	credErr, ok := marketplace.IsCredential(err)
	if !ok {
		t.Fatalf("Verify = %v, want a credential error", err)
	}
	if !strings.Contains(credErr.Reason, "A1AM78C64UM0Y8") || strings.Contains(credErr.Reason, "sell in marketplace ATVPDKIKX0DER") {
		t.Errorf("reason = %q, want it to name only the missing marketplace", credErr.Reason)
	}
}

func TestAccessTokenIsCachedUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	client, bundle := setup(t, nil)
	ctx := context.Background()

	first, err := client.AccessToken(ctx)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if err := client.Verify(ctx); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := bundle.fake.Counters().TokenGrants; got != 1 {
		t.Fatalf("grants after two uses = %d, want 1", got)
	}

	bundle.clock.Advance(58 * time.Minute) // LWA tokens live an hour
	if again, _ := client.AccessToken(ctx); again != first {
		t.Errorf("token changed with two minutes left")
	}

	bundle.clock.Advance(90 * time.Second) // 30 seconds left: too close to use
	renewed, err := client.AccessToken(ctx)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if renewed == first {
		t.Errorf("token was not renewed 30 seconds before expiry")
	}
	if err := client.Verify(ctx); err != nil {
		t.Fatalf("Verify with the renewed token: %v", err)
	}
	if got := bundle.fake.Counters().TokenGrants; got != 2 {
		t.Errorf("grants = %d, want 2", got)
	}
}

func TestConcurrentCallersShareOneGrant(t *testing.T) {
	t.Parallel()
	client, bundle := setup(t, nil)

	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Go(func() {
			token, err := client.AccessToken(context.Background())
			if err != nil {
				t.Errorf("AccessToken: %v", err)
			}
			tokens[i] = token
		})
	}
	wg.Wait()

	for _, token := range tokens[1:] {
		if token != tokens[0] {
			t.Fatalf("callers got different tokens")
		}
	}
	if got := bundle.fake.Counters().TokenGrants; got != 1 {
		t.Errorf("grants = %d, want 1", got)
	}
}

func TestVerifyRenewsATokenSPAPIRejects(t *testing.T) {
	t.Parallel()
	_, bundle := setup(t, nil)
	ctx := context.Background()
	// The client's clock stands still while Amazon's moves on: its token
	// expires at Amazon while the client still trusts it.
	start := bundle.clock.Now()
	bundle.config.Now = func() time.Time { return start }
	client := bundle.client(t)
	if _, err := client.AccessToken(ctx); err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	bundle.clock.Advance(2 * time.Hour)

	if err := client.Verify(ctx); err != nil {
		t.Fatalf("Verify with an expired token: %v", err)
	}
	if got := bundle.fake.Counters(); got.TokenGrants != 2 || got.APICalls != 2 {
		t.Errorf("counters = %+v, want 2 grants and 2 API calls (rejected, renewed, retried)", got)
	}
}

func TestRevokedRefreshTokenIsACredentialError(t *testing.T) {
	t.Parallel()
	for _, tokenCached := range []bool{false, true} {
		name := map[bool]string{false: "before any grant", true: "with a cached token"}[tokenCached]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, bundle := setup(t, nil)
			ctx := context.Background()
			if tokenCached {
				if err := client.Verify(ctx); err != nil {
					t.Fatalf("Verify: %v", err)
				}
			}
			bundle.fake.SetFaults(amazonfake.Faults{RevokedRefreshTokens: []string{bundle.creds.RefreshToken}})

			err := client.Verify(ctx)

			credErr, ok := marketplace.IsCredential(err)
			if !ok {
				t.Fatalf("Verify = %v, want a credential error", err)
			}
			const want = "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission."
			if credErr.Marketplace != marketplace.Amazon || credErr.Reason != want {
				t.Errorf("error = %+v, want Amazon's description %q", credErr, want)
			}
		})
	}
}

func TestWrongClientSecretIsACredentialError(t *testing.T) {
	t.Parallel()
	_, bundle := setup(t, nil)
	bundle.creds.ClientSecret = "not-the-secret"

	_, err := bundle.client(t).AccessToken(context.Background())

	if credErr, ok := marketplace.IsCredential(err); !ok || credErr.Reason != "Client authentication failed" {
		t.Errorf("AccessToken = %v, want a credential error with LWA's description", err)
	}
}

func TestAccessDeniedAfterRenewalIsACredentialError(t *testing.T) {
	t.Parallel()
	// SP-API refuses every call, whatever the token: an app without the role.
	denyAPI := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/sellers/") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	client, bundle := setup(t, denyAPI)

	err := client.Verify(context.Background())

	credErr, ok := marketplace.IsCredential(err)
	if !ok || credErr.Reason != "Access to requested resource is denied." {
		t.Fatalf("Verify = %v, want a credential error with SP-API's message", err)
	}
	if got := bundle.fake.Counters().TokenGrants; got != 2 {
		t.Errorf("grants = %d, want 2 (the first, and one renewal)", got)
	}
}

func TestRateLimitIsARateLimitError(t *testing.T) {
	t.Parallel()
	client, bundle := setup(t, nil)
	bundle.fake.SetFaults(amazonfake.Faults{RateLimitNext: 1})

	err := client.Verify(context.Background())

	rateErr, ok := marketplace.IsRateLimit(err)
	if !ok {
		t.Fatalf("Verify = %v, want a rate limit error", err)
	}
	if rateErr.Wait != 0 || rateErr.Reason != "You exceeded your quota for the requested resource." {
		t.Errorf("error = %+v, want no wait (SP-API gives no hint) and SP-API's message", rateErr)
	}
	if err := client.Verify(context.Background()); err != nil {
		t.Errorf("Verify after the fault: %v", err)
	}
}

func TestRateLimitHonoursRetryAfterWhenSent(t *testing.T) {
	t.Parallel()
	throttle := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`))
		})
	}
	client, _ := setup(t, throttle)

	_, err := client.AccessToken(context.Background())

	if rateErr, ok := marketplace.IsRateLimit(err); !ok || rateErr.Wait != 7*time.Second {
		t.Errorf("AccessToken = %v, want a rate limit error waiting 7s", err)
	}
}

func TestServerErrorsAreTransient(t *testing.T) {
	t.Parallel()
	t.Run("SP-API", func(t *testing.T) {
		t.Parallel()
		client, bundle := setup(t, nil)
		bundle.fake.SetFaults(amazonfake.Faults{ServerErrorsNext: 1})

		assertTransient(t, client.Verify(context.Background()))
		if err := client.Verify(context.Background()); err != nil {
			t.Errorf("Verify after the fault: %v", err)
		}
	})
	t.Run("LWA", func(t *testing.T) {
		t.Parallel()
		unavailable := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/auth/o2/token" {
					http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
		client, _ := setup(t, unavailable)
		assertTransient(t, client.Verify(context.Background()))
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		_, bundle := setup(t, nil)
		bundle.fake.SetFaults(amazonfake.Faults{Latency: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()

		err := bundle.client(t).Verify(ctx)

		assertTransient(t, err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Verify = %v, want the deadline in the chain", err)
		}
	})
}

func assertTransient(t *testing.T, err error) {
	t.Helper()
	var permanent *marketplace.PermanentError
	_, isCredential := marketplace.IsCredential(err)
	_, isRateLimit := marketplace.IsRateLimit(err)
	if err == nil || isCredential || isRateLimit || errors.As(err, &permanent) {
		t.Errorf("error = %v, want a transient error (none of the classes)", err)
	}
}
