package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/testenv"
)

// The system every example and test of the package calls: the whole
// service on the local emulators with the sandbox's marketplaces, served by
// TestMain. A program of yours has http://127.0.0.1:8080 (make dev) or the
// deployed API's URL in place of apiURL, and its own token.
var (
	apiURL string
	// token is a store token of sandbox.Store, the store the sandbox's
	// marketplace accounts belong to.
	token string
	// operatorToken may act on every store and control the queue.
	operatorToken string
	box           *sandbox.Sandbox
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	box = sandbox.New(sandbox.Options{ShopifyProducts: 12, ShopifyCollections: 3, AkeneoProducts: 4, AkeneoCategories: 3})
	fakes := httptest.NewServer(box)
	defer fakes.Close()
	box.SetBaseURL(fakes.URL)
	system, err := testenv.StartSystem("client", func(cfg *config.Config) {
		box.Endpoints().Configure(cfg)
		// Retries come quickly, so a test can follow one.
		cfg.RetryDelays = []time.Duration{time.Second, time.Second, time.Second, time.Second}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client tests:", err)
		return 1
	}
	defer func() {
		if err := system.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "client tests:", err)
		}
	}()
	apiURL = system.BaseURL
	if token, err = system.Token(auth.Principal{Subject: "client-tests", StoreID: sandbox.Store}); err != nil {
		fmt.Fprintln(os.Stderr, "client tests:", err)
		return 1
	}
	if operatorToken, err = system.Token(auth.Principal{Subject: "client-tests-operator", Operator: true}); err != nil {
		fmt.Fprintln(os.Stderr, "client tests:", err)
		return 1
	}
	return m.Run()
}

// testContext ends with the test, or after two minutes.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
