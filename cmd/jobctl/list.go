package main

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/dainostore/jobs/client"
)

var statuses = []string{"pending", "running", "retrying", "completed", "failed", "cancelled"}

func (c *cli) listCommand() *cobra.Command {
	var opts client.ListOptions
	var status, from, to string
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Long: `List jobs, newest first (or by when they finished with --order finished):
a store token's own, or for an operator every store's unless --store names one.

One page is shown, with the command that shows the next; --all reads every
page.`,
		Example: `  jobctl list
  jobctl list --status failed,cancelled --type amazon:export:products
  jobctl list --store store-1 --from 2026-05-01T00:00:00Z --all
  jobctl list --all --json | jq -r .id`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkChoice(cmd, "order", opts.Order, "created", "finished"); err != nil {
				return err
			}
			for s := range strings.SplitSeq(status, ",") {
				if s = strings.TrimSpace(s); s != "" {
					if err := checkChoice(cmd, "status", s, statuses...); err != nil {
						return err
					}
					opts.Status = append(opts.Status, client.Status(s))
				}
			}
			var err error
			if opts.From, err = parseTime(cmd, "from", from); err != nil {
				return err
			}
			if opts.To, err = parseTime(cmd, "to", to); err != nil {
				return err
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			if all {
				return c.listAll(cmd, api, opts)
			}
			page, err := api.ListPage(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(page)
			}
			c.printJobs(page.Jobs)
			if page.NextCursor != "" {
				c.out.printf("next page: %s\n", nextPageCommand(cmd, page.NextCursor))
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&opts.StoreID, "store", "", "only this store's jobs (operators)")
	flags.StringVar(&opts.Type, "type", "", "only jobs of this type")
	flags.StringVar(&status, "status", "", "only jobs in these statuses, comma-separated: "+strings.Join(statuses, ","))
	flags.StringVar(&from, "from", "", "created (or finished) at or after this RFC 3339 time")
	flags.StringVar(&to, "to", "", "created (or finished) before this RFC 3339 time")
	flags.StringVar(&opts.Order, "order", "", "created (the default, newest first) or finished (one store's, by finish time)")
	flags.IntVar(&opts.Limit, "limit", 0, "jobs per page (the API's default when 0)")
	flags.StringVar(&opts.Cursor, "cursor", "", "the page to show, from the previous page's hint")
	flags.BoolVar(&all, "all", false, "read every page")
	return cmd
}

// listAll reads every page: a table at the end, or with --json one job per
// line as the pages come.
func (c *cli) listAll(cmd *cobra.Command, api *client.Client, opts client.ListOptions) error {
	var jobs []client.Job
	for job, err := range api.List(cmd.Context(), opts) {
		if err != nil {
			return err
		}
		if c.out.json {
			_ = c.out.line(job)
			continue
		}
		jobs = append(jobs, job)
	}
	if !c.out.json {
		c.printJobs(jobs)
	}
	return nil
}

func (c *cli) printJobs(jobs []client.Job) {
	if len(jobs) == 0 {
		c.out.printf("no jobs\n")
		return
	}
	t := c.out.table("ID", "TYPE", "STORE", "STATUS", "PROGRESS", "CREATED", "MESSAGE")
	for _, j := range jobs {
		message := j.ProgressMessage
		if j.Error != "" {
			message = j.Error
		}
		colors := []color.Attribute{noColor, noColor, noColor, statusColor(j.Status)}
		t.colored(colors, j.ID, j.Type, j.StoreID, string(j.Status), fmt.Sprintf("%d%%", j.Progress), clock(j.CreatedAt), truncate(message, 50))
	}
	t.print()
}

func parseTime(cmd *cobra.Command, flag, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}, usagef(cmd, "--%s %q is not an RFC 3339 time such as 2026-05-01T00:00:00Z", flag, value)
	}
	return t, nil
}

// nextPageCommand is the command line that shows the next page: this one's
// flags, with the cursor.
func nextPageCommand(cmd *cobra.Command, cursor string) string {
	parts := []string{cmd.CommandPath()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if f.Name == "cursor" || f.Name == "token" {
			return
		}
		if f.Value.Type() == "bool" {
			parts = append(parts, "--"+f.Name)
			return
		}
		parts = append(parts, "--"+f.Name, shellQuote(f.Value.String()))
	})
	return strings.Join(append(parts, "--cursor", shellQuote(cursor)), " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_.,:/=+@%-]+$`)

// shellQuote makes a value safe to paste into a shell.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
