package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

// args checks a command's positional arguments by name, so a missing one
// is named in the error.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usagef(cmd, "missing %s", strings.Join(names[len(args):], " "))
		case len(args) > len(names):
			return usagef(cmd, "unexpected argument %q", args[len(names)])
		}
		return nil
	}
}

// optionalArg allows one argument or none.
func optionalArg(cmd *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usagef(cmd, "unexpected argument %q", args[1])
	}
	return nil
}

// checkChoice refuses a flag value outside its choices; empty is allowed
// (the API's default).
func checkChoice(cmd *cobra.Command, flag, value string, choices ...string) error {
	if value != "" && !slices.Contains(choices, value) {
		return usagef(cmd, "--%s %q: choose one of %s", flag, value, strings.Join(choices, ", "))
	}
	return nil
}

var priorities = []string{"urgent", "high", "normal", "low"}

func (c *cli) createCommand() *cobra.Command {
	var store, priority, payload, key, progress, at, in string
	var watch bool
	cmd := &cobra.Command{
		Use:   "create TYPE",
		Short: "Create a job, and with --watch follow it to its end",
		Long: `Create a job of TYPE for a store. The store may be left out with a store
token (its own) or against make dev (store-1).

A store has one active job of a type at a time: if one is pending, running or
retrying, create names it and exits 1.

--at or --in delay the job: it waits, pending, and starts at that time even
with nobody watching.`,
		Example: `  jobctl create dev:simulate --payload '{"steps": 20, "step_ms": 500}' --watch
  jobctl create shopify:import:all --store store-1 --priority high
  jobctl create amazon:export:products --payload @export.json
  echo '{"steps": 5}' | jobctl create dev:simulate --payload @-
  jobctl create amazon:export:products --payload @export.json --at 2026-12-01T02:00:00+01:00
  jobctl create translation:ui-labels:bulk --payload '{"target_language": "de"}' --in 6h`,
		Args: args("TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkChoice(cmd, "priority", priority, priorities...); err != nil {
				return err
			}
			if err := checkChoice(cmd, "progress", progress, progressModes...); err != nil {
				return err
			}
			req := client.CreateRequest{Type: args[0], Priority: client.Priority(priority), IdempotencyKey: key, RunIn: in}
			if at != "" {
				runAt, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return usagef(cmd, "--at %q: give an RFC 3339 time such as 2026-12-01T02:00:00+01:00", at)
				}
				req.RunAt = &runAt
			}
			if payload != "" {
				raw, err := c.readObject("payload", payload)
				if err != nil {
					return err
				}
				req.Payload = raw
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			req.StoreID = c.store(store)
			job, err := api.Create(cmd.Context(), req)
			if err != nil {
				return c.alreadyActive(err)
			}
			switch {
			case c.out.json && watch:
				_ = c.out.line(job)
			case c.out.json:
				return c.out.document(job)
			default:
				c.out.printf("created %s job %s for store %s: %s\n", job.Type, job.ID, job.StoreID, c.out.paint(statusColor(job.Status), string(job.Status)))
			}
			if !watch {
				return nil
			}
			return c.follow(cmd.Context(), api, job.ID, progress)
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&store, "store", "", "the store the job is for (a store token's own when empty)")
	flags.StringVar(&priority, "priority", "", "urgent, high, normal (the default) or low")
	flags.StringVar(&payload, "payload", "", "the job's arguments: a JSON object, @file, or @- for standard input")
	flags.StringVar(&key, "idempotency-key", "", "sending the same create again with this key answers the first job")
	flags.BoolVar(&watch, "watch", false, "follow the job to its end, as watch does")
	flags.StringVar(&progress, "progress", "auto", "with --watch: bar, plain, or auto (a bar on a terminal)")
	flags.StringVar(&at, "at", "", "start the job at this time (RFC 3339), not now")
	flags.StringVar(&in, "in", "", "start the job after this long (such as 90m or 6h), not now")
	cmd.MarkFlagsMutuallyExclusive("at", "in")
	return cmd
}

// alreadyActive turns a create or retry that collided with the type's
// active job into the guide's message and the job to follow, exit 1; any
// other error passes through.
func (c *cli) alreadyActive(err error) error {
	var apiErr *client.Error
	if !errors.Is(err, client.ErrJobAlreadyActive) || !errors.As(err, &apiErr) {
		return err
	}
	if c.out.json {
		_ = c.out.document(map[string]any{"error": map[string]string{
			"code": apiErr.Code, "message": apiErr.Message, "existing_job_id": apiErr.ExistingJobID,
		}})
	}
	fmt.Fprintf(c.stderr, "jobctl: %s — follow it with: jobctl watch %s\n", apiErr.Message, apiErr.ExistingJobID)
	return exitError{code: exitFailed}
}

func (c *cli) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status ID",
		Short: "Show a job's status, progress, and why it waits or when it should end",
		Example: `  jobctl status 01JZ4Q7M2V3XKX8B9T6S5R4P3N
  jobctl status 01JZ4Q7M2V3XKX8B9T6S5R4P3N --json | jq .progress`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			status, err := api.Status(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(status)
			}
			c.printStatus(status)
			return nil
		},
	}
}

// printStatus shows a job's status as labelled lines, only those that say
// something.
func (c *cli) printStatus(s *client.JobStatus) {
	c.out.printf("job %s  %s\n", s.ID, s.Type)
	tw := tabwriter.NewWriter(c.out.w, 0, 0, 2, ' ', 0)
	field := func(label, value string) {
		if value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", label, oneLine(value))
		}
	}
	state := c.out.paint(statusColor(s.Status), string(s.Status))
	if s.Attempts > 0 {
		state += fmt.Sprintf(" (attempt %d)", s.Attempts)
	}
	field("status", state)
	field("progress", strings.TrimSpace(fmt.Sprintf("%d%%  %s", s.Progress, s.ProgressMessage)))
	if s.Estimate != nil {
		field("estimate", s.Estimate.Message)
	}
	if s.Waiting != nil {
		field("waiting", s.Waiting.Message)
	}
	field("error", s.Error)
	if s.NextAttemptAt != nil {
		next := clock(*s.NextAttemptAt)
		if left := time.Until(*s.NextAttemptAt); left > 0 {
			next += fmt.Sprintf(" (in %s)", roundUp(left))
		}
		field("next attempt", next)
	}
	if s.PausedAt != nil {
		field("paused", "set aside by a pause at "+clock(*s.PausedAt))
	}
	_ = tw.Flush()
}

func (c *cli) cancelCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job",
		Long: `Cancel a job. A pending or retrying job is cancelled at once; a running one
stops at its next checkpoint.`,
		Example: `  jobctl cancel 01JZ4Q7M2V3XKX8B9T6S5R4P3N`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			job, err := api.Cancel(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			switch {
			case c.out.json:
				return c.out.document(job)
			case job.Status == client.StatusCancelled:
				c.out.printf("cancelled %s job %s at %d%%\n", job.Type, job.ID, job.Progress)
			default:
				c.out.printf("cancel requested: %s job %s is %s and stops at its next checkpoint (follow it with: jobctl watch %s)\n",
					job.Type, job.ID, job.Status, job.ID)
			}
			return nil
		},
	}
}

func (c *cli) retryCommand() *cobra.Command {
	var fromStart, watch bool
	var progress string
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Run a failed or cancelled job again",
		Long: `Run a failed or cancelled job again, from its last checkpoint, or with
--from-start from the beginning.`,
		Example: `  jobctl retry 01JZ4Q7M2V3XKX8B9T6S5R4P3N
  jobctl retry 01JZ4Q7M2V3XKX8B9T6S5R4P3N --from-start --watch`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkChoice(cmd, "progress", progress, progressModes...); err != nil {
				return err
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			job, err := api.Retry(cmd.Context(), args[0], client.RetryOptions{FromStart: fromStart})
			if err != nil {
				return c.alreadyActive(err)
			}
			from := "from its last checkpoint"
			if fromStart {
				from = "from the start"
			}
			switch {
			case c.out.json && watch:
				_ = c.out.line(job)
			case c.out.json:
				return c.out.document(job)
			default:
				c.out.printf("retrying %s job %s %s: %s\n", job.Type, job.ID, from, c.out.paint(statusColor(job.Status), string(job.Status)))
			}
			if !watch {
				return nil
			}
			return c.follow(cmd.Context(), api, job.ID, progress)
		},
	}
	cmd.Flags().BoolVar(&fromStart, "from-start", false, "discard the checkpoint and progress")
	cmd.Flags().BoolVar(&watch, "watch", false, "follow the job to its end, as watch does")
	cmd.Flags().StringVar(&progress, "progress", "auto", "with --watch: bar, plain, or auto (a bar on a terminal)")
	return cmd
}
