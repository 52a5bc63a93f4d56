package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fatih/color"
	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

func (c *cli) scheduleCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "schedule",
		Aliases: []string{"schedules"},
		Short:   "Run a job type on a recurring schedule: list, create, show, enable, disable, run, delete",
		Long: `A store's recurring schedule creates an ordinary job of a type, with its
payload and priority, each time it is due: on a cron expression, every day at a
time, or every week on a day at a time, in the store's time zone (daylight
saving included: a wall-clock time runs once a day, also on the nights the
clocks change).

While the store's job of the type is still active when the schedule is due,
that run is skipped; after failed runs in a row (three by default) it pauses
itself and says why, until it is enabled again.`,
		Example: `  jobctl schedule create amazon:export:products --daily 02:30 --tz Europe/Berlin --name "Nightly Amazon export"
  jobctl schedule list
  jobctl schedule show 01JZ4Q7M2V3XKX8B9T6S5R4P3N
  jobctl schedule run 01JZ4Q7M2V3XKX8B9T6S5R4P3N --watch`,
	}
	cmd.AddCommand(
		c.scheduleListCommand(), c.scheduleCreateCommand(), c.scheduleShowCommand(),
		c.scheduleEnableCommand(true), c.scheduleEnableCommand(false),
		c.scheduleRunCommand(), c.scheduleDeleteCommand(),
	)
	return cmd
}

func (c *cli) scheduleListCommand() *cobra.Command {
	var store string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List schedules with when they run next and how their last run went",
		Long: `List schedules, by store and then by creation: a store token's own, or for an
operator every store's unless --store names one. Next runs are shown in this
machine's time zone.`,
		Example: `  jobctl schedule list
  jobctl schedule list --store store-1 --json | jq -r '.schedules[].id'`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			list, err := api.Schedules(cmd.Context(), store)
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(map[string][]client.Schedule{"schedules": append([]client.Schedule{}, list...)})
			}
			c.printSchedules(list, time.Now())
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "", "only this store's schedules (operators)")
	return cmd
}

func (c *cli) printSchedules(list []client.Schedule, now time.Time) {
	if len(list) == 0 {
		c.out.printf("no schedules\n")
		return
	}
	// The store is worth a column only where the listing holds several.
	stores := map[string]bool{}
	for _, s := range list {
		stores[s.StoreID] = true
	}
	header := []string{"ID", "TYPE", "WHEN", "NEXT RUN", "LAST RUN", "STATE"}
	if len(stores) > 1 {
		header = slices.Insert(header, 1, "STORE")
	}
	// No colours: the headers of two words would put tabwriter's columns
	// out of line with the header's words that colouring goes by.
	t := c.out.table(header...)
	for _, s := range list {
		cells := []string{s.ID, s.Type, s.Description, nextRun(s, now), lastRun(s, now), truncate(scheduleState(s), 60)}
		if len(stores) > 1 {
			cells = slices.Insert(cells, 1, s.StoreID)
		}
		t.row(cells...)
	}
	t.print()
}

// nextRun is when a schedule runs next, in the viewer's time zone and
// from now.
func nextRun(s client.Schedule, now time.Time) string {
	if s.NextRunAt == nil {
		return "-"
	}
	return clock(*s.NextRunAt) + " (" + fromNow(*s.NextRunAt, now) + ")"
}

// lastRun is how the schedule's latest due time went: its outcome, the
// job's status as it is now, and when.
func lastRun(s client.Schedule, now time.Time) string {
	if len(s.LastRuns) == 0 {
		return "never"
	}
	run := s.LastRuns[0]
	text := strings.ReplaceAll(run.Outcome, "_", " ")
	if run.JobStatus != "" {
		text += ": " + string(run.JobStatus)
	}
	return text + " (" + fromNow(run.HandledAt, now) + ")"
}

// scheduleState is enabled, paused with why, or disabled.
func scheduleState(s client.Schedule) string {
	switch {
	case s.Enabled:
		return "enabled"
	case s.PausedReason != "":
		return "paused: " + s.PausedReason
	}
	return "disabled"
}

func scheduleStateColor(s client.Schedule) color.Attribute {
	switch {
	case s.Enabled:
		return color.FgGreen
	case s.PausedReason != "":
		return color.FgRed
	}
	return color.FgHiBlack
}

// fromNow says how far t is from now in words: "in 5 h 3 min", "2 days
// ago".
func fromNow(t, now time.Time) string {
	d := t.Sub(now)
	past := d < 0
	if past {
		d = -d
	}
	var words string
	switch {
	case d < time.Minute:
		if past {
			return "just now"
		}
		return "in under a minute"
	case d < time.Hour:
		words = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		words = fmt.Sprintf("%d h", int(d/time.Hour))
		if m := int(d % time.Hour / time.Minute); m > 0 {
			words += fmt.Sprintf(" %d min", m)
		}
	default:
		words = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if past {
		return words + " ago"
	}
	return "in " + words
}

var weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

func (c *cli) scheduleCreateCommand() *cobra.Command {
	var cron, daily, weekly, zone, store, name, priority, payload string
	var disabled bool
	cmd := &cobra.Command{
		Use:   "create TYPE (--cron EXPR | --daily HH:MM | --weekly DAY@HH:MM) [--tz ZONE]",
		Short: "Create a schedule that runs a job type at recurring times",
		Long: `Create a schedule that creates a job of TYPE for a store each time it is due:
--daily at a time of day, --weekly on a day at a time of day, or on a standard
5-field --cron expression (or a descriptor such as @daily). Times are 24-hour
wall-clock times in --tz, an IANA zone, which defaults to this machine's.

The payload is checked as a job's is, when the schedule is created.`,
		Example: `  jobctl schedule create amazon:export:products --daily 02:30 --tz Europe/Berlin --payload @export.json
  jobctl schedule create shopify:import:all --weekly monday@06:00 --store store-1 --name "Weekly import"
  jobctl schedule create dev:simulate --cron "*/15 8-18 * * 1-5" --tz America/New_York --priority low --disabled`,
		Args: args("TYPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := client.ScheduleRequest{Type: args[0], Name: name, Priority: client.Priority(priority)}
			if err := checkChoice(cmd, "priority", priority, priorities...); err != nil {
				return err
			}
			var given []string
			for flag, value := range map[string]string{"cron": cron, "daily": daily, "weekly": weekly} {
				if value != "" {
					given = append(given, "--"+flag)
				}
			}
			slices.Sort(given)
			switch len(given) {
			case 0:
				return usagef(cmd, "say when it runs: --cron, --daily or --weekly")
			case 2, 3:
				return usagef(cmd, "%s: give only one of --cron, --daily or --weekly", strings.Join(given, " and "))
			}
			switch {
			case cron != "":
				req.Cron = cron
			case daily != "":
				at, err := timeOfDay(daily)
				if err != nil {
					return usagef(cmd, "--daily %q: %v", daily, err)
				}
				req.Every, req.At = "day", at
			default:
				day, at, err := weekdayAt(weekly)
				if err != nil {
					return usagef(cmd, "--weekly %q: %v", weekly, err)
				}
				req.Every, req.Weekday, req.At = "week", day, at
			}
			req.TimeZone = zone
			if zone == "" {
				local, err := localTimeZone(c.getenv)
				if err != nil {
					return usagef(cmd, "%v", err)
				}
				req.TimeZone = local
			}
			if disabled {
				req.Enabled = new(false)
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
			s, err := api.CreateSchedule(cmd.Context(), req)
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(s)
			}
			c.out.printf("created schedule %s for store %s: %s %s, %s\n", s.ID, s.StoreID, s.Type, s.Description, c.whenNext(*s))
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVar(&cron, "cron", "", `a 5-field cron expression, such as "30 2 * * *", or a descriptor such as @daily`)
	flags.StringVar(&daily, "daily", "", "every day at this time (24-hour HH:MM)")
	flags.StringVar(&weekly, "weekly", "", "every week on this day at this time, such as monday@02:30")
	flags.StringVar(&zone, "tz", "", "the IANA time zone of the times, such as Europe/Berlin (this machine's when empty)")
	flags.StringVar(&store, "store", "", "the store the jobs are for (a store token's own when empty)")
	flags.StringVar(&name, "name", "", "a label for the schedule")
	flags.StringVar(&priority, "priority", "", "the jobs' priority: urgent, high, normal (the default) or low")
	flags.StringVar(&payload, "payload", "", "the jobs' arguments: a JSON object, @file, or @- for standard input")
	flags.BoolVar(&disabled, "disabled", false, "create it disabled, to enable later")
	return cmd
}

// timeOfDay checks a 24-hour time of day and writes it as the API takes
// it, HH:MM.
func timeOfDay(value string) (string, error) {
	t, err := time.Parse("15:04", value)
	if err != nil {
		return "", fmt.Errorf("give a 24-hour time such as 02:30")
	}
	return t.Format("15:04"), nil
}

// weekdayAt reads DAY@HH:MM; the day may be a whole English name or its
// first three letters, in any case.
func weekdayAt(value string) (day, at string, err error) {
	dayPart, timePart, ok := strings.Cut(value, "@")
	if !ok {
		return "", "", fmt.Errorf("give a day and a time such as monday@02:30")
	}
	dayPart = strings.ToLower(strings.TrimSpace(dayPart))
	for _, d := range weekdays {
		if dayPart == d || dayPart == d[:3] {
			day = d
		}
	}
	if day == "" {
		return "", "", fmt.Errorf("%q is not a day: give one of %s", dayPart, strings.Join(weekdays, ", "))
	}
	if at, err = timeOfDay(timePart); err != nil {
		return "", "", err
	}
	return day, at, nil
}

// localTimeZone is the IANA name of this machine's time zone, which a new
// schedule follows unless --tz names another. TZ names it where it is set;
// else time.Local does if it has an IANA name (it is "Local" when read
// from the system), else the zoneinfo file /etc/localtime links to.
func localTimeZone(getenv func(string) string) (string, error) {
	const hint = "name the schedule's zone with --tz, such as --tz Europe/Berlin"
	if tz := strings.TrimPrefix(getenv("TZ"), ":"); tz != "" {
		if name, ok := zoneName(tz); ok {
			return name, nil
		}
		return "", fmt.Errorf("this machine's time zone, TZ=%q, is not an IANA zone name: %s", tz, hint)
	}
	if name, ok := zoneName(time.Local.String()); ok {
		return name, nil
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if name, ok := zoneName(target); ok {
			return name, nil
		}
	}
	return "", fmt.Errorf("cannot tell this machine's time zone by its IANA name: %s", hint)
}

// zoneName is the IANA name of a zone given by its name or by the path of
// its zoneinfo file.
func zoneName(zone string) (string, bool) {
	if _, name, ok := strings.Cut(zone, "zoneinfo/"); ok {
		zone = name
	}
	if zone == "" || zone == "Local" {
		return "", false
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return "", false
	}
	return zone, true
}

// whenNext says when an enabled schedule runs next, or that it does not.
func (c *cli) whenNext(s client.Schedule) string {
	if s.NextRunAt == nil {
		return c.out.paint(scheduleStateColor(s), scheduleState(s))
	}
	return "next run " + nextRun(s, time.Now())
}

func (c *cli) scheduleShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a schedule with its last runs",
		Example: `  jobctl schedule show 01JZ4Q7M2V3XKX8B9T6S5R4P3N
  jobctl schedule show 01JZ4Q7M2V3XKX8B9T6S5R4P3N --json | jq .last_runs`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			s, err := api.Schedule(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(s)
			}
			c.printSchedule(s, time.Now())
			return nil
		},
	}
}

// printSchedule shows every field of a schedule as labelled lines, and its
// last runs as a table.
func (c *cli) printSchedule(s *client.Schedule, now time.Time) {
	c.out.printf("schedule %s\n", strings.TrimSpace(s.ID+"  "+s.Name))
	tw := tabwriter.NewWriter(c.out.w, 0, 0, 2, ' ', 0)
	field := func(label, value string) {
		if value != "" {
			fmt.Fprintf(tw, "  %s\t%s\n", label, oneLine(value))
		}
	}
	field("store", s.StoreID)
	field("type", s.Type)
	field("when", s.Description)
	field("cron", s.Cron)
	field("time zone", s.TimeZone)
	field("priority", string(s.Priority))
	field("payload", oneLineJSON(s.Payload))
	field("state", c.out.paint(scheduleStateColor(*s), scheduleState(*s)))
	field("next run", nextRun(*s, now))
	field("failures", fmt.Sprintf("%d in a row", s.ConsecutiveFailures))
	field("created", clock(s.CreatedAt))
	field("updated", clock(s.UpdatedAt))
	_ = tw.Flush()
	if len(s.LastRuns) == 0 {
		c.out.printf("no runs yet\n")
		return
	}
	c.out.printf("last runs, newest first:\n")
	t := c.out.table("DUE", "HANDLED", "OUTCOME", "JOB", "STATUS", "MESSAGE")
	for _, run := range s.LastRuns {
		colors := []color.Attribute{noColor, noColor, noColor, noColor, statusColor(run.JobStatus)}
		t.colored(colors, clock(run.DueAt), clock(run.HandledAt), strings.ReplaceAll(run.Outcome, "_", " "), run.JobID, string(run.JobStatus), truncate(run.Message, 80))
	}
	t.print()
}

// scheduleEnableCommand is enable (on) or disable.
func (c *cli) scheduleEnableCommand(on bool) *cobra.Command {
	use, short, example := "enable ID", "Enable a schedule: it runs next at its next due time from now, its failures forgotten",
		"  jobctl schedule enable 01JZ4Q7M2V3XKX8B9T6S5R4P3N"
	if !on {
		use, short, example = "disable ID", "Disable a schedule: it creates no jobs until it is enabled again",
			"  jobctl schedule disable 01JZ4Q7M2V3XKX8B9T6S5R4P3N"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			s, err := api.UpdateSchedule(cmd.Context(), args[0], client.SchedulePatch{Enabled: &on})
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(s)
			}
			verb := "enabled"
			if !on {
				verb = "disabled"
			}
			c.out.printf("%s schedule %s (%s %s): %s\n", verb, s.ID, s.Type, s.Description, c.whenNext(*s))
			return nil
		},
	}
}

func (c *cli) scheduleRunCommand() *cobra.Command {
	var watch bool
	var progress string
	cmd := &cobra.Command{
		Use:   "run ID",
		Short: "Run a schedule now: create its job at once, and with --watch follow it",
		Long: `Create the schedule's job now, as if it were due; its next run stays as it
was. If the store's job of the type is still active, run names it and exits 1.
With --watch it follows the job as watch does, and exits as watch does.`,
		Example: `  jobctl schedule run 01JZ4Q7M2V3XKX8B9T6S5R4P3N
  jobctl schedule run 01JZ4Q7M2V3XKX8B9T6S5R4P3N --watch --progress plain`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkChoice(cmd, "progress", progress, progressModes...); err != nil {
				return err
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			job, err := api.RunSchedule(cmd.Context(), args[0])
			if err != nil {
				return c.alreadyActive(err)
			}
			switch {
			case c.out.json && watch:
				_ = c.out.line(job)
			case c.out.json:
				return c.out.document(job)
			default:
				c.out.printf("created %s job %s for store %s from schedule %s: %s\n", job.Type, job.ID, job.StoreID, args[0],
					c.out.paint(statusColor(job.Status), string(job.Status)))
			}
			if !watch {
				return nil
			}
			return c.follow(cmd.Context(), api, job.ID, progress)
		},
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "follow the job to its end, as watch does")
	cmd.Flags().StringVar(&progress, "progress", "auto", "with --watch: bar, plain, or auto (a bar on a terminal)")
	return cmd
}

func (c *cli) scheduleDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete a schedule; the jobs it created stay",
		Example: `  jobctl schedule delete 01JZ4Q7M2V3XKX8B9T6S5R4P3N`,
		Args:    args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			s, err := api.DeleteSchedule(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if c.out.json {
				return c.out.document(s)
			}
			c.out.printf("deleted schedule %s (%s %s); the jobs it created stay\n", s.ID, s.Type, s.Description)
			return nil
		},
	}
}
