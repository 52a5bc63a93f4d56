package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/dainostore/jobs/client"
)

// progressModes are the ways watch shows a job: auto is a bar on a
// terminal and plain lines anywhere else (a pipe, a CI log, a test).
var progressModes = []string{"auto", "bar", "plain"}

func (c *cli) watchCommand() *cobra.Command {
	var progress string
	cmd := &cobra.Command{
		Use:   "watch ID",
		Short: "Follow a job until it ends; the exit code says how it ended",
		Long: `Follow a job until it is completed, failed or cancelled.

On a terminal it draws a progress bar with the job's progress message and the
server's estimate of the time left, why it waits while pending, and a
countdown to the next attempt while retrying. Elsewhere it prints one line per
change. The last line says how the job ended, with its result or error.

Exit codes: 0 completed, 1 failed, 2 cancelled, 3 anything else went wrong.`,
		Example: `  jobctl watch 01JZ4Q7M2V3XKX8B9T6S5R4P3N
  jobctl watch 01JZ4Q7M2V3XKX8B9T6S5R4P3N --progress plain | tee watch.log
  jobctl watch 01JZ4Q7M2V3XKX8B9T6S5R4P3N && echo done`,
		Args: args("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkChoice(cmd, "progress", progress, progressModes...); err != nil {
				return err
			}
			api, err := c.client(cmd)
			if err != nil {
				return err
			}
			return c.follow(cmd.Context(), api, args[0], progress)
		},
	}
	cmd.Flags().StringVar(&progress, "progress", "auto", "bar, plain, or auto (a bar on a terminal)")
	return cmd
}

// watcher shows the statuses of a watched job as they change.
type watcher interface {
	show(*client.JobStatus)
	// close ends the display before the last line is printed.
	close()
}

// follow watches a job to its end, prints how it ended, and returns the
// exit code that says so.
func (c *cli) follow(ctx context.Context, api *client.Client, id, progress string) error {
	// The job's attempt budget is not in its status, and the retry
	// countdown says "attempt 2 of 5".
	job, err := api.Get(ctx, id)
	if err != nil {
		return err
	}
	var w watcher
	switch {
	case c.out.json:
		w = jsonWatcher{c.out}
	case progress == "bar" || (progress == "auto" && c.out.terminal):
		w = newBarWatcher(c.out, job.MaxAttempts)
	default:
		w = plainWatcher{c.out, job.MaxAttempts}
	}
	final, err := api.Watch(ctx, id, w.show)
	w.close()
	if err != nil {
		return err
	}
	if c.out.json {
		_ = c.out.line(final)
	} else {
		c.out.printf("%s\n", c.outcome(final))
	}
	switch final.Status {
	case client.StatusCompleted:
		return nil
	case client.StatusFailed:
		return exitError{code: exitFailed}
	}
	return exitError{code: exitCancelled}
}

// describe says in words where a job is: its progress message and the
// time left while it runs, why it waits while pending, the countdown to
// its next attempt while retrying.
func describe(s *client.JobStatus, maxAttempts int, now time.Time) string {
	switch {
	case s.Status == client.StatusRetrying && s.NextAttemptAt != nil:
		attempt := fmt.Sprintf("attempt %d", s.Attempts+1)
		if maxAttempts > 0 {
			attempt += fmt.Sprintf(" of %d", maxAttempts)
		}
		when := "now"
		if left := s.NextAttemptAt.Sub(now); left > 0 {
			when = "in " + roundUp(left).String()
		}
		return fmt.Sprintf("retrying %s, %s: %s", when, attempt, s.Error)
	case s.Waiting != nil && s.Waiting.Message != "":
		return "waiting: " + s.Waiting.Message
	case s.Status == client.StatusRunning:
		text := s.ProgressMessage
		if text == "" {
			text = "running"
		}
		if s.Estimate != nil && s.Estimate.Message != "" {
			text += " — " + s.Estimate.Message
		}
		return text
	case s.Status == client.StatusFailed && s.Error != "":
		return "failed: " + s.Error
	}
	return string(s.Status)
}

// outcome is the last line of a watch: how the job ended, with its result
// on one line or its error.
func (c *cli) outcome(j *client.Job) string {
	took := ""
	if j.StartedAt != nil && j.FinishedAt != nil {
		d := j.FinishedAt.Sub(*j.StartedAt)
		if d >= time.Second {
			d = d.Round(100 * time.Millisecond)
		}
		took = " in " + d.String()
	}
	attempts := fmt.Sprintf(" after %d %s", j.Attempts, plural(j.Attempts, "attempt", "attempts"))
	head := fmt.Sprintf("%s %s job %s", c.out.paint(statusColor(j.Status), string(j.Status)), j.Type, j.ID)
	switch j.Status {
	case client.StatusCompleted:
		line := head + took + attempts
		if result := oneLineJSON(j.Result); result != "" {
			line += ": " + truncate(result, 240)
		}
		return line
	case client.StatusFailed:
		return head + attempts + ": " + j.Error
	}
	return fmt.Sprintf("%s at %d%%", head, j.Progress)
}

// oneLineJSON is a JSON value on one line, as the server ordered it.
func oneLineJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if len(raw) == 0 || string(raw) == "null" || json.Compact(&buf, raw) != nil {
		return ""
	}
	return buf.String()
}

// plainWatcher prints one line per change, for logs and pipes.
type plainWatcher struct {
	out         *output
	maxAttempts int
}

func (w plainWatcher) show(s *client.JobStatus) {
	w.out.printf("%d%% %s\n", s.Progress, describe(s, w.maxAttempts, time.Now()))
}

func (plainWatcher) close() {}

// jsonWatcher prints each status as the API gave it, one per line.
type jsonWatcher struct{ out *output }

func (w jsonWatcher) show(s *client.JobStatus) { _ = w.out.line(s) }
func (jsonWatcher) close()                     {}

// barWatcher draws a progress bar whose text is the job's message and the
// server's estimate. The bar's own time prediction is off: the server
// knows the job's pace across attempts and pauses, the bar only its polls.
type barWatcher struct {
	out         *output
	bar         *progressbar.ProgressBar
	maxAttempts int
	textWidth   int

	mu   sync.Mutex
	last *client.JobStatus

	stop chan struct{}
	done sync.WaitGroup
}

// barWidth is the bar's own width; the text takes the rest of the line.
const barWidth = 25

func newBarWatcher(out *output, maxAttempts int) *barWatcher {
	w := &barWatcher{
		out: out, maxAttempts: maxAttempts, stop: make(chan struct{}),
		// " 100% |" + bar + "|  " + text + " " must fit on one line, or \r
		// cannot redraw it.
		textWidth: max(out.width()-barWidth-14, 20),
		bar: progressbar.NewOptions(100,
			progressbar.OptionSetWriter(out.w),
			progressbar.OptionSetWidth(barWidth),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
		),
	}
	// Between polls, which may be seconds apart, the retry countdown
	// still ticks every second.
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		for {
			select {
			case <-w.stop:
				return
			case now := <-ticker.C:
				w.mu.Lock()
				if w.last != nil && w.last.Status == client.StatusRetrying {
					w.bar.Describe(truncate(describe(w.last, w.maxAttempts, now), w.textWidth))
				}
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *barWatcher) show(s *client.JobStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = s
	_ = w.bar.Set(s.Progress)
	w.bar.Describe(truncate(describe(s, w.maxAttempts, time.Now()), w.textWidth))
}

func (w *barWatcher) close() {
	close(w.stop)
	w.done.Wait()
	// The outcome goes on a line of its own, below the bar.
	w.out.printf("\n")
}
