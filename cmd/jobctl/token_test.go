package main

import (
	"testing"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/testenv"
)

// Against a local API that checks tokens as `make dev` does, jobctl needs
// no token: it mints an operator's, and the commands about one store act
// on the sandbox's.
func TestZeroSetupAgainstALocalAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, func(_ *testenv.Env, o *app.Overrides) {
		defaults := config.Defaults()
		defaults.AuthHS256Secret = auth.LocalDevSecret
		cfg, err := config.FromEnvWith(defaults)
		if err != nil {
			t.Fatal(err)
		}
		verifier, err := auth.NewHS256Verifier([]byte(cfg.AuthHS256Secret), cfg.AuthIssuer, cfg.AuthAudience)
		if err != nil {
			t.Fatal(err)
		}
		o.Authenticator = verifier
	})

	r := invocation{args: []string{"--url", b.base, "create", "dev:simulate", "--payload", `{"steps": 1}`, "--watch"}}.run(t).
		expect(t, exitOK, "for store store-1: pending", "completed dev:simulate job ")
	id := createdID(t, r)
	// The URL from the environment, and an operator's route.
	local := map[string]string{"JOBS_URL": b.base}
	invocation{args: []string{"status", id}, env: local}.run(t).expect(t, exitOK, "completed")
	invocation{args: []string{"pause", "dev:simulate"}, env: local}.run(t).expect(t, exitOK, "paused types: dev:simulate")
	invocation{args: []string{"resume", "dev:simulate"}, env: local}.run(t).expect(t, exitOK, "nothing is paused")
	invocation{args: []string{"connections"}, env: local}.run(t).expect(t, exitOK, "shopify", "not_connected")
	// A token given is used as it is: the tests' own is not this API's.
	invocation{args: []string{"stats"}, env: map[string]string{"JOBS_URL": b.base, "JOBS_TOKEN": b.operator}}.run(t).
		expectError(t, "the token was refused: set JOBS_TOKEN or --token")
}
