package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

func (c *cli) logsCommand() *cobra.Command {
	var opts client.LogOptions
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs ID",
		Short: "Show a job's log, and with --follow its new lines until it ends",
		Long: `Show a job's log, oldest first: what its handler wrote and every lifecycle
event (claimed, retry scheduled, completed...), one line each:

  15:04:05.000 INFO  [attempt 1] message key=value...

With --follow it goes on showing new lines until the job has ended.`,
		Example: `  jobctl logs 01JZ4Q7M2V3XKX8B9T6S5R4P3N
  jobctl logs 01JZ4Q7M2V3XKX8B9T6S5R4P3N --level warn
  jobctl logs 01JZ4Q7M2V3XKX8B9T6S5R4P3N --follow --json | jq -r .message`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkChoice(cmd, "level", opts.Level, "debug", "info", "warn", "error"); err != nil {
				return err
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			if follow {
				return api.FollowLogs(cmd.Context(), args[0], opts, func(e client.LogEntry) {
					if c.out.json {
						_ = c.out.line(e)
						return
					}
					c.out.printf("%s\n", c.logLine(e))
				})
			}
			var entries []client.LogEntry
			for {
				page, err := api.Logs(cmd.Context(), args[0], opts)
				if err != nil {
					return err
				}
				entries = append(entries, page.Entries...)
				if page.NextCursor == "" {
					break
				}
				opts.Cursor = page.NextCursor
			}
			if c.out.json {
				return c.out.document(client.LogPage{Entries: entries})
			}
			for _, e := range entries {
				c.out.printf("%s\n", c.logLine(e))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.Level, "level", "", "the lowest level shown: debug, info, warn or error (every level when empty)")
	cmd.Flags().BoolVar(&follow, "follow", false, "show new lines as they are written, until the job ends")
	return cmd
}

// logLine is one log entry as people read it: local time, level, attempt,
// message, then its attributes sorted by name.
func (c *cli) logLine(e client.LogEntry) string {
	level := fmt.Sprintf("%-5s", strings.ToUpper(e.Level))
	switch e.Level {
	case "warn":
		level = c.out.paint(color.FgYellow, level)
	case "error":
		level = c.out.paint(color.FgRed, level)
	case "debug":
		level = c.out.paint(color.FgHiBlack, level)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s [attempt %d] %s", e.At.Local().Format("15:04:05.000"), level, e.Attempt, oneLine(e.Message))
	keys := make([]string, 0, len(e.Attrs))
	for k := range e.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := e.Attrs[k]
		if v == "" || strings.ContainsAny(v, " \t\n\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", k, v)
	}
	return b.String()
}
