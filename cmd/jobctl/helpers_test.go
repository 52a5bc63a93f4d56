package main

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/client"
	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/testenv"
)

// testBundle is one test's system on the emulators and an operator's
// token for it.
type testBundle struct {
	env      *testenv.Env
	base     string
	operator string
	api      *client.Client // for the test's own checks
}

// setup serves a fresh system. configure, if not nil, changes its
// configuration and overrides before it is built.
func setup(t *testing.T, configure func(*testenv.Env, *app.Overrides)) *testBundle {
	t.Helper()
	env := testenv.New(t)
	// Retries come quickly, so that a test watches one without waiting long.
	env.Config.RetryDelays = []time.Duration{300 * time.Millisecond, 300 * time.Millisecond}
	var overrides app.Overrides
	if configure != nil {
		configure(env, &overrides)
	}
	base := testenv.Serve(t, env.App(t, overrides))
	operator := testenv.OperatorToken(t)
	api, err := client.New(base, client.WithToken(operator))
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{env: env, base: base, operator: operator, api: api}
}

// result is what one run of jobctl printed and how it ended.
type result struct {
	code           int
	stdout, stderr string
}

// invocation is a command line and what it runs with.
type invocation struct {
	args  []string
	stdin string
	env   map[string]string
}

func (inv invocation) run(t *testing.T) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	getenv := func(name string) string { return inv.env[name] }
	code := run(inv.args, strings.NewReader(inv.stdin), &stdout, &stderr, getenv)
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	shown := slices.Clone(inv.args)
	for i := range shown {
		if i > 0 && shown[i-1] == "--token" {
			shown[i] = "…"
		}
	}
	t.Logf("jobctl %s\nexit %d\n%s%s", strings.Join(shown, " "), r.code, r.stdout, r.stderr)
	return r
}

// jobctl runs jobctl as the operator.
func (b *testBundle) jobctl(t *testing.T, args ...string) result {
	t.Helper()
	return b.jobctlAs(t, b.operator, args...)
}

// jobctlAs runs jobctl with a token.
func (b *testBundle) jobctlAs(t *testing.T, token string, args ...string) result {
	t.Helper()
	return invocation{args: append([]string{"--url", b.base, "--token", token}, args...)}.run(t)
}

// expect fails the test unless r ended with code and each output holds
// what is wanted.
func (r result) expect(t *testing.T, code int, stdoutHas ...string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, want := range stdoutHas {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	return r
}

// expectError fails the test unless r exited 3 with each part in stderr.
func (r result) expectError(t *testing.T, stderrHas ...string) {
	t.Helper()
	if r.code != exitTrouble {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, exitTrouble, r.stdout, r.stderr)
	}
	for _, want := range stderrHas {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

var createdLine = regexp.MustCompile(`created \S+ job (\S+) for store`)

// createdID is the id a human create printed.
func createdID(t *testing.T, r result) string {
	t.Helper()
	m := createdLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no created job in:\n%s", r.stdout)
	}
	return m[1]
}

// create creates a dev:simulate job for a store and returns its id.
func (b *testBundle) create(t *testing.T, store, payload string) string {
	t.Helper()
	return createdID(t, b.jobctl(t, "create", "dev:simulate", "--store", store, "--payload", payload).expect(t, exitOK))
}

// waitFor polls the job until it is in one of the statuses, failing the
// test after a deadline.
func (b *testBundle) waitFor(t *testing.T, id string, statuses ...client.Status) *client.JobStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, err := b.api.Status(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range statuses {
			if status.Status == s {
				return status
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s after 30s, want one of %v", id, status.Status, statuses)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lines are the non-empty lines of an output.
func lines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}
