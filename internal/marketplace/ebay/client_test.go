package ebay_test

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
	"github.com/dainostore/jobs/internal/marketplace/ebay"
	"github.com/dainostore/jobs/internal/sandbox/ebayfake"
)

type testBundle struct {
	fake   *ebayfake.Server
	clock  *clock.Fake
	creds  ebay.Credentials
	config ebay.Config
}

// setup serves the fake under a prefix, as the sandbox does, for seller
// (nil means one that granted sell.inventory), and returns a client of that
// seller that shares the fake's clock. wrap, when not nil, stands between
// the client and the fake.
func setup(t *testing.T, seller *ebayfake.Seller, wrap func(http.Handler) http.Handler) (*ebay.Client, *testBundle) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	fake := ebayfake.New(ebayfake.Options{Now: clk.Now})
	if seller == nil {
		seller = &ebayfake.Seller{
			ClientID:     "DainoSto-jobs-PRD-1234abcd5-6789ef01",
			ClientSecret: "PRD-test-secret",
			RefreshToken: "v^1.1#i^1#test-refresh-token",
			Scopes:       []string{ebayfake.ScopeSellInventory},
		}
	}
	fake.AddSeller(*seller)

	var handler http.Handler = fake
	if wrap != nil {
		handler = wrap(fake)
	}
	mux := http.NewServeMux()
	mux.Handle("/ebay/", http.StripPrefix("/ebay", handler))
	server := httptest.NewServer(mux)
	t.Cleanup(server.Close)
	fake.SetPublicURL(server.URL + "/ebay")

	bundle := &testBundle{
		fake:  fake,
		clock: clk,
		creds: ebay.Credentials{
			ClientID:        seller.ClientID,
			ClientSecret:    seller.ClientSecret,
			RefreshToken:    seller.RefreshToken,
			MarketplaceID:   "EBAY_US",
			ContentLanguage: "en-US",
		},
		config: ebay.Config{APIURL: server.URL + "/ebay", HTTP: server.Client(), Now: clk.Now},
	}
	return bundle.client(t), bundle
}

func (b *testBundle) client(t *testing.T) *ebay.Client {
	t.Helper()
	client, err := ebay.New(b.config, b.creds)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return client
}

func TestVerifySucceedsWithGoodCredentials(t *testing.T) {
	t.Parallel()
	client, bundle := setup(t, nil, nil)

	if err := client.Verify(context.Background()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := bundle.fake.Counters(); got.TokenGrants != 1 || got.APICalls != 1 {
		t.Errorf("counters = %+v, want one grant and one API call", got)
	}
}

func TestVerifyWithTheSandboxSeller(t *testing.T) {
	t.Parallel()
	seller := ebayfake.SandboxSeller()
	client, _ := setup(t, &seller, nil)

	if err := client.Verify(context.Background()); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestAccessTokenIsCachedUntilShortlyBeforeExpiry(t *testing.T) {
	t.Parallel()
	client, bundle := setup(t, nil, nil)
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

	bundle.clock.Advance(118 * time.Minute) // eBay user tokens live two hours
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
	client, bundle := setup(t, nil, nil)

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = client.Verify(context.Background()) })
	}
	wg.Wait()

	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got := bundle.fake.Counters(); got.TokenGrants != 1 || got.APICalls != len(errs) {
		t.Errorf("counters = %+v, want one grant for %d calls", got, len(errs))
	}
}

func TestVerifyRenewsATokenTheAPIRejects(t *testing.T) {
	t.Parallel()
	_, bundle := setup(t, nil, nil)
	ctx := context.Background()
	// The client's clock stands still while eBay's moves on: its token
	// expires at eBay while the client still trusts it.
	start := bundle.clock.Now()
	bundle.config.Now = func() time.Time { return start }
	client := bundle.client(t)
	if _, err := client.AccessToken(ctx); err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	bundle.clock.Advance(3 * time.Hour)

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
			client, bundle := setup(t, nil, nil)
			ctx := context.Background()
			if tokenCached {
				if err := client.Verify(ctx); err != nil {
					t.Fatalf("Verify: %v", err)
				}
			}
			bundle.fake.SetFaults(ebayfake.Faults{RevokedRefreshTokens: []string{bundle.creds.RefreshToken}})

			err := client.Verify(ctx)

			credErr, ok := marketplace.IsCredential(err)
			if !ok {
				t.Fatalf("Verify = %v, want a credential error", err)
			}
			const want = "the provided authorization refresh token is invalid or was issued to another client"
			if credErr.Marketplace != marketplace.Ebay || credErr.Reason != want {
				t.Errorf("error = %+v, want eBay's description %q", credErr, want)
			}
		})
	}
}

func TestWrongClientSecretIsACredentialError(t *testing.T) {
	t.Parallel()
	_, bundle := setup(t, nil, nil)
	bundle.creds.ClientSecret = "not-the-secret"

	_, err := bundle.client(t).AccessToken(context.Background())

	if credErr, ok := marketplace.IsCredential(err); !ok || credErr.Reason != "client authentication failed" {
		t.Errorf("AccessToken = %v, want a credential error with eBay's description", err)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	const sellAccount = "https://api.ebay.com/oauth/api_scope/sell.account"
	readOnly := &ebayfake.Seller{
		ClientID: "app", ClientSecret: "secret", RefreshToken: "v^1.1#read-only",
		Scopes: []string{ebayfake.ScopeSellInventoryReadOnly, sellAccount},
	}

	t.Run("a scope the seller did not grant", func(t *testing.T) {
		t.Parallel()
		client, _ := setup(t, readOnly, nil) // asks for sell.inventory
		err := client.Verify(context.Background())
		if credErr, ok := marketplace.IsCredential(err); !ok || !strings.Contains(credErr.Reason, "exceeds the scope granted") {
			t.Errorf("Verify = %v, want a credential error for the scope", err)
		}
	})
	t.Run("a token without the inventory scope", func(t *testing.T) {
		t.Parallel()
		_, bundle := setup(t, readOnly, nil)
		bundle.config.Scopes = []string{sellAccount}
		err := bundle.client(t).Verify(context.Background())
		if credErr, ok := marketplace.IsCredential(err); !ok || credErr.Reason != "Access denied: Insufficient permissions to fulfill the request." {
			t.Errorf("Verify = %v, want a credential error with eBay's errorId 1100 message", err)
		}
	})
	t.Run("the read-only scope is enough to verify", func(t *testing.T) {
		t.Parallel()
		_, bundle := setup(t, readOnly, nil)
		bundle.config.Scopes = []string{ebayfake.ScopeSellInventoryReadOnly}
		if err := bundle.client(t).Verify(context.Background()); err != nil {
			t.Errorf("Verify: %v", err)
		}
	})
}

func TestInvalidTokenAfterRenewalIsACredentialError(t *testing.T) {
	t.Parallel()
	// The API refuses every token, fresh or not.
	rejectTokens := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/sell/") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte(`{"errors":[{"errorId":1001,"domain":"OAuth","category":"REQUEST","message":"Invalid access token","longMessage":"Invalid access token. Check the value of the Authorization HTTP request header."}]}`))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	client, bundle := setup(t, nil, rejectTokens)

	err := client.Verify(context.Background())

	credErr, ok := marketplace.IsCredential(err)
	if !ok || credErr.Reason != "Invalid access token. Check the value of the Authorization HTTP request header." {
		t.Fatalf("Verify = %v, want a credential error with eBay's message", err)
	}
	if got := bundle.fake.Counters().TokenGrants; got != 2 {
		t.Errorf("grants = %d, want 2 (the first, and one renewal)", got)
	}
}

func TestRateLimitIsARateLimitError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
	}{
		{"without Retry-After, as eBay usually answers", 0},
		{"with Retry-After", 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, bundle := setup(t, nil, nil)
			bundle.fake.SetFaults(ebayfake.Faults{RateLimitNext: 1, RateLimitRetryAfter: tt.retryAfter})

			err := client.Verify(context.Background())

			rateErr, ok := marketplace.IsRateLimit(err)
			if !ok {
				t.Fatalf("Verify = %v, want a rate limit error", err)
			}
			const reason = "Too many requests. The request limit has been reached for the resource."
			if rateErr.Wait != tt.retryAfter || rateErr.Reason != reason {
				t.Errorf("error = %+v, want Wait %s and eBay's message", rateErr, tt.retryAfter)
			}
			if err := client.Verify(context.Background()); err != nil {
				t.Errorf("Verify after the fault: %v", err)
			}
		})
	}
}

func TestServerErrorsAreTransient(t *testing.T) {
	t.Parallel()
	t.Run("API", func(t *testing.T) {
		t.Parallel()
		client, bundle := setup(t, nil, nil)
		bundle.fake.SetFaults(ebayfake.Faults{ServerErrorsNext: 1})

		assertTransient(t, client.Verify(context.Background()))
		if err := client.Verify(context.Background()); err != nil {
			t.Errorf("Verify after the fault: %v", err)
		}
	})
	t.Run("OAuth", func(t *testing.T) {
		t.Parallel()
		unavailable := func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/identity/") {
					http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
		client, _ := setup(t, nil, unavailable)
		assertTransient(t, client.Verify(context.Background()))
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		client, bundle := setup(t, nil, nil)
		bundle.fake.SetFaults(ebayfake.Faults{Latency: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()

		err := client.Verify(ctx)

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
