package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

func (c *cli) pauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pause [TYPE]",
		Short: "Pause the queue, or one job type (operators)",
		Long: `Stop workers from starting jobs: of TYPE, or of every type when none is
given. Running jobs stop at their next checkpoint and go on once resumed.
Prints what is paused afterwards.`,
		Example: `  jobctl pause amazon:export:products
  jobctl pause`,
		Args: optionalArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.setPaused(cmd, args, (*client.Client).Pause)
		},
	}
}

func (c *cli) resumeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "resume [TYPE]",
		Short: "Resume the queue, or one job type (operators)",
		Long: `End a pause: of TYPE, or of the whole queue when none is given. The jobs
the pause set aside go back in line. Prints what is still paused.`,
		Example: `  jobctl resume amazon:export:products
  jobctl resume`,
		Args: optionalArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.setPaused(cmd, args, (*client.Client).Resume)
		},
	}
}

// pauseCall is Client.Pause or Client.Resume.
type pauseCall func(*client.Client, context.Context, string) (*client.Pauses, error)

func (c *cli) setPaused(cmd *cobra.Command, args []string, call pauseCall) error {
	api, err := c.client(cmd)
	if err != nil {
		return err
	}
	jobType := ""
	if len(args) == 1 {
		jobType = args[0]
	}
	pauses, err := call(api, cmd.Context(), jobType)
	if err != nil {
		return err
	}
	if c.out.json {
		return c.out.document(pauses)
	}
	c.out.printf("%s\n", pausedInWords(pauses.Paused, pauses.PausedTypes))
	return nil
}

// pausedInWords says what is paused.
func pausedInWords(all bool, types []string) string {
	switch {
	case all && len(types) > 0:
		return "the whole queue is paused (and these types: " + strings.Join(types, ", ") + ")"
	case all:
		return "the whole queue is paused"
	case len(types) > 0:
		return "paused types: " + strings.Join(types, ", ")
	}
	return "nothing is paused"
}

func (c *cli) statsCommand() *cobra.Command {
	var store string
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Show the queue status: state, statistics and health",
		Long: `Show the queue status as the guide describes it: whether it runs, how many
jobs are processing out of the workers' limit, the jobs by status, the success
rate and the queue depth, each with its rating. A store token sees its own
store's statistics; an operator every store's, or one with --store.`,
		Example: `  jobctl stats
  jobctl stats --store store-1 --json`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			q, err := api.QueueStatus(cmd.Context(), store)
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(q)
			}
			c.printQueueStatus(q)
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "", "one store's statistics (operators; every store's when empty)")
	return cmd
}

// The guide's words for each rating ("Job Performance Metrics").
var ratings = map[string]struct {
	words string
	color color.Attribute
}{
	"excellent": {"excellent (normal to have occasional failures)", color.FgGreen},
	"good":      {"good (some issues, investigate failures)", color.FgYellow},
	"poor":      {"poor (check configuration, contact support)", color.FgRed},
	"no_data":   {"no data yet (nothing has finished)", color.FgHiBlack},
	"healthy":   {"healthy", color.FgGreen},
	"busy":      {"busy but normal", color.FgYellow},
	"high_load": {"high load, jobs will process in order", color.FgRed},
}

func (c *cli) rating(r string) string {
	if known, ok := ratings[r]; ok {
		return c.out.paint(known.color, known.words)
	}
	return r
}

func (c *cli) printQueueStatus(q *client.QueueStatus) {
	tw := tabwriter.NewWriter(c.out.w, 0, 0, 2, ' ', 0)
	state := c.out.paint(color.FgGreen, "running")
	if !q.Status.IsRunning {
		state = c.out.paint(color.FgYellow, "paused")
	}
	if len(q.Status.PausedTypes) > 0 {
		state += "; paused types: " + strings.Join(q.Status.PausedTypes, ", ")
	}
	s := q.Statistics
	fmt.Fprintf(tw, "queue\t%s\n", state)
	fmt.Fprintf(tw, "processing\t%d of %d\n", q.Status.CurrentlyProcessing, q.Status.MaxConcurrentJobs)
	fmt.Fprintf(tw, "jobs\t%d total: %d completed, %d failed, %d pending, %d running, %d retrying, %d cancelled\n",
		s.Total, s.Completed, s.Failed, s.Pending, s.Running, s.Retrying, s.Cancelled)
	fmt.Fprintf(tw, "success rate\t%s, %s\n", s.SuccessRate, c.rating(q.Health.SuccessRate.Rating))
	depth := q.Health.QueueDepth
	fmt.Fprintf(tw, "queue depth\t%d pending, %s\n", depth.Pending, c.rating(depth.Rating))
	_ = tw.Flush()
	if p := depth.ByPriority; p != nil {
		t := c.out.table("PRIORITY", "WAITING", "IN-FLIGHT", "DELAYED")
		for _, row := range []struct {
			name string
			q    client.PriorityQueue
		}{{"urgent", p.Urgent}, {"high", p.High}, {"normal", p.Normal}, {"low", p.Low}} {
			t.row(row.name, fmt.Sprint(row.q.Waiting), fmt.Sprint(row.q.InFlight), fmt.Sprint(row.q.Delayed))
		}
		c.out.printf("\n")
		t.print()
	}
}
