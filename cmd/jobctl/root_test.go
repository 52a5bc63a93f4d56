package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command explains itself with an example, and the root's help
// documents the exit codes scripts branch on.
func TestHelpShowsExamplesAndExitCodes(t *testing.T) {
	t.Parallel()
	r := invocation{args: []string{"--help"}}.run(t).expect(t, exitOK,
		"Exit codes:", "0  done", "1  the job failed", "2  the job was cancelled", "3  anything else went wrong")
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("help holds escape sequences:\n%q", r.stdout)
	}
	invocation{args: []string{"watch", "--help"}}.run(t).expect(t, exitOK, "0 completed, 1 failed, 2 cancelled, 3 anything else")

	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			path := strings.Fields(sub.CommandPath())[1:]
			invocation{args: append(path, "--help")}.run(t).expect(t, exitOK, "Examples:", "Usage:")
			walk(sub)
		}
	}
	walk(newCLI(nil, nil, nil, nil).rootCommand())
}

// A command line jobctl cannot run exits 3, says what is wrong and where
// the help is, and calls nothing (the URL answers nowhere).
func TestBadCommandLinesExit3(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create"}, "missing TYPE"},
		{[]string{"watch", "a", "b"}, `unexpected argument "b"`},
		{[]string{"create", "dev:simulate", "--priority", "soon"}, `--priority "soon": choose one of urgent, high, normal, low`},
		{[]string{"create", "dev:simulate", "--payload", "{"}, "--payload must be a JSON object"},
		{[]string{"create", "dev:simulate", "--payload", "@/nonexistent/payload.json"}, "no such file"},
		{[]string{"list", "--status", "done"}, `--status "done": choose one of`},
		{[]string{"list", "--from", "yesterday"}, "not an RFC 3339 time"},
		{[]string{"list", "--limit", "many"}, `invalid argument "many"`},
		{[]string{"watch", "x", "--progress", "fancy"}, "choose one of auto, bar, plain"},
		{[]string{"logs", "x", "--level", "loud"}, "choose one of debug, info, warn, error"},
		{[]string{"connections", "connect", "myspace", "--credentials", "{}"}, `no marketplace "myspace"`},
		{[]string{"connections", "connect", "shopify"}, "--credentials is required"},
		{[]string{"--url", "ftp://jobs", "stats"}, "not an http(s) URL"},
	} {
		args := append([]string{"--token", "unused", "--url", "http://jobs.example.invalid"}, tc.args...)
		invocation{args: args}.run(t).expectError(t, tc.want)
	}
}

// Without a token, jobctl mints one only for an API on this machine: for
// any other it says what to set, and sends nothing.
func TestNoTokenForARemoteAPIIsAClearMessage(t *testing.T) {
	t.Parallel()
	r := invocation{args: []string{"--url", "https://jobs.example.invalid", "stats"}}.run(t)
	r.expectError(t, "no token for https://jobs.example.invalid: set JOBS_TOKEN or --token")
	if strings.Contains(r.stderr, "cannot reach") {
		t.Errorf("jobctl called the remote API: %s", r.stderr)
	}
	// JOBS_URL is read the same way.
	r = invocation{args: []string{"list"}, env: map[string]string{"JOBS_URL": "http://10.1.2.3:8080"}}.run(t)
	r.expectError(t, "no token for http://10.1.2.3:8080: set JOBS_TOKEN or --token")
}

func TestLoopbackAddresses(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]bool{
		"http://127.0.0.1:8080":         true,
		"http://localhost:8080":         true,
		"http://[::1]:8080":             true,
		"http://127.9.9.9":              true,
		"https://jobs.example.com":      false,
		"http://10.0.0.1:8080":          false,
		"http://127.0.0.1.example.com/": false,
	} {
		if got := isLoopback(url); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", url, got, want)
		}
	}
}

// An API that does not answer is exit 3 with where it was looked for.
func TestUnreachableAPI(t *testing.T) {
	t.Parallel()
	invocation{args: []string{"--url", "http://127.0.0.1:1", "--token", "x", "status", "some-job"}}.run(t).
		expectError(t, "cannot reach the API at http://127.0.0.1:1")
}
