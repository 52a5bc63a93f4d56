// Command jobctl is the command line of the background jobs API: create a
// job and follow it to its end, list jobs, read their logs, cancel and
// retry them, pause the queue, read its statistics, and look at a store's
// marketplace connections and catalog.
//
//	jobctl create dev:simulate --payload '{"steps": 20, "step_ms": 500}' --watch
//	jobctl list --status failed
//	jobctl logs 01J… --follow
//
// It talks to the API through the Go client (package client) only. Against
// `make dev` it needs no setup: with no token and an API on a loopback
// address it mints a local operator token itself, and the commands about
// one store default to the sandbox's store.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is the whole command, from its arguments to its exit code, with no
// state outside the call: tests run it in process with buffers.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	// Ctrl-C ends a watch or a follow through its context, so the bar is
	// closed and the exit code says the command did not finish.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c := newCLI(stdin, stdout, stderr, getenv)
	root := c.rootCommand()
	root.SetArgs(args)
	return c.exitCode(root.ExecuteContext(ctx))
}
