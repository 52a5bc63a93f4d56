package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

// The exit codes, as `jobctl --help` documents them: a script that watches
// a job branches on how it ended without reading the output.
const (
	exitOK        = 0
	exitFailed    = 1
	exitCancelled = 2
	exitTrouble   = 3
)

// defaultURL is where `make dev` serves the API.
const defaultURL = "http://127.0.0.1:8080"

// cli is one run of jobctl: its streams, environment and global flags.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	url, token string
	json       bool
	timeout    time.Duration

	out *output
	// api is made on first use, once the flags are read.
	api *client.Client
	// localOperator says the token is one jobctl minted for a local API;
	// the commands about one store then default to the sandbox's store.
	localOperator bool
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) *cli {
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
}

const rootHelp = `jobctl drives the background jobs API: create a job and follow it to its
end, list jobs, read their logs, cancel and retry them, pause the queue and
read its statistics, run job types on recurring schedules, and look at a
store's connections and catalog.

Against ` + "`make dev`" + ` it needs no setup: with no token and an API on a
loopback address (the default, ` + defaultURL + `), it mints a local
operator token itself, and the commands about one store use the sandbox's
store, store-1. Anywhere else, set JOBS_URL and JOBS_TOKEN (or --url and
--token).

Output is for people by default; --json prints the API's JSON objects: one
document, or one object per line where they stream (watch, create --watch,
logs --follow, and the --all listings).

Exit codes:
  0  done; for watch (and create --watch), the job completed
  1  the job failed, or create found an active job of the type
  2  the job was cancelled
  3  anything else went wrong: the API unreachable, the token refused,
     not found, a request refused, bad flags`

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "jobctl",
		Short: "The command line of the background jobs API",
		Long:  rootHelp,
		Example: `  jobctl create dev:simulate --payload '{"steps": 20, "step_ms": 500}' --watch
  jobctl list --status failed,cancelled
  jobctl logs 01JZ4Q7M2V3XKX8B9T6S5R4P3N --follow
  jobctl stats`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			c.out = newOutput(c.stdout, c.json, c.getenv)
		},
	}
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{cmd: cmd, err: err}
	})
	flags := root.PersistentFlags()
	flags.StringVar(&c.url, "url", defaultURL, "the API's base URL (env JOBS_URL)")
	flags.StringVar(&c.token, "token", "", "the bearer token (env JOBS_TOKEN); minted locally for a loopback URL when empty")
	flags.BoolVar(&c.json, "json", false, "print the API's JSON objects instead of text")
	flags.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long one API request may take")

	root.AddCommand(
		c.createCommand(), c.statusCommand(), c.watchCommand(), c.listCommand(), c.logsCommand(),
		c.cancelCommand(), c.retryCommand(), c.pauseCommand(), c.resumeCommand(), c.statsCommand(),
		c.connectionsCommand(), c.catalogCommand(), c.creditsCommand(), c.scheduleCommand(),
	)
	return root
}

// client returns the API client, resolving the URL and token the first
// time: the flags win over the environment, and without a token a local
// API gets a minted one.
func (c *cli) client(cmd *cobra.Command) (*client.Client, error) {
	if c.api != nil {
		return c.api, nil
	}
	base := c.url
	if !cmd.Flags().Changed("url") && c.getenv("JOBS_URL") != "" {
		base = c.getenv("JOBS_URL")
	}
	token := c.token
	if !cmd.Flags().Changed("token") {
		token = c.getenv("JOBS_TOKEN")
	}
	opts := []client.Option{
		client.WithHTTPClient(&http.Client{Timeout: c.timeout}),
		client.WithUserAgent("jobctl"),
	}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	} else {
		mint, err := localTokenSource(base)
		if err != nil {
			return nil, err
		}
		opts = append(opts, client.WithTokenFunc(mint))
		c.localOperator = true
	}
	api, err := client.New(base, opts...)
	if err != nil {
		return nil, usageError{cmd: cmd, err: err}
	}
	c.api = api
	return api, nil
}

// exitError ends jobctl with a code other than exitTrouble: how a watched
// job ended, or a create that found the type's job already active. Its
// message, if any, has been printed.
type exitError struct {
	code int
}

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// usageError is a command line jobctl cannot run as given.
type usageError struct {
	cmd *cobra.Command
	err error
}

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef makes a usageError of cmd.
func usagef(cmd *cobra.Command, format string, args ...any) error {
	return usageError{cmd: cmd, err: fmt.Errorf(format, args...)}
}

// exitCode prints what went wrong, if anything, and says how jobctl ends.
func (c *cli) exitCode(err error) int {
	var exit exitError
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit):
		return exit.code
	case errors.As(err, &usage):
		fmt.Fprintf(c.stderr, "jobctl: %v\nRun '%s --help' for usage.\n", usage.err, usage.cmd.CommandPath())
	default:
		fmt.Fprintln(c.stderr, "jobctl:", c.describeError(err))
	}
	return exitTrouble
}
