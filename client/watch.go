package client

import (
	"context"
	"time"
)

// Watch follows a job until it is completed, failed or cancelled, calling
// onChange (if not nil) with its first status and with every status whose
// state, progress, message, attempt, waiting reason or estimate differs
// from the one before. It polls every PollPolicy.MinInterval while the job
// moves, half again as long after each poll that saw no change, up to
// MaxInterval; a retrying job is looked at again when its next attempt is
// due, if that comes sooner. It returns the finished job with its result,
// whatever its status: a failed job is not an error of Watch. It returns
// early with the context's error, or with an error reading the status that
// the client's retries did not overcome.
func (c *Client) Watch(ctx context.Context, id string, onChange func(*JobStatus)) (*Job, error) {
	interval := c.poll.MinInterval
	var last *JobStatus
	for {
		status, err := c.Status(ctx, id)
		if err != nil {
			return nil, err
		}
		if last == nil || changed(last, status) {
			if onChange != nil {
				onChange(status)
			}
			interval = c.poll.MinInterval
		} else {
			interval = min(interval*3/2, c.poll.MaxInterval)
		}
		last = status
		if status.Status.Finished() {
			return c.Get(ctx, id)
		}
		wait := interval
		if status.NextAttemptAt != nil {
			if until := time.Until(*status.NextAttemptAt); until > 0 && until < wait {
				wait = until
			}
		}
		if err := c.sleep(ctx, max(wait, c.poll.MinInterval)); err != nil {
			return nil, err
		}
	}
}

// Wait follows a job until it is completed, failed or cancelled, and
// returns it with its result (see Watch).
func (c *Client) Wait(ctx context.Context, id string) (*Job, error) {
	return c.Watch(ctx, id, nil)
}

// changed says whether a watcher would show b differently from a.
func changed(a, b *JobStatus) bool {
	if a.Status != b.Status || a.Progress != b.Progress || a.ProgressMessage != b.ProgressMessage ||
		a.Attempts != b.Attempts || a.Error != b.Error || !sameTime(a.NextAttemptAt, b.NextAttemptAt) || !sameTime(a.PausedAt, b.PausedAt) {
		return true
	}
	if (a.Waiting == nil) != (b.Waiting == nil) || (a.Waiting != nil && a.Waiting.Message != b.Waiting.Message) {
		return true
	}
	return (a.Estimate == nil) != (b.Estimate == nil) || (a.Estimate != nil && a.Estimate.Message != b.Estimate.Message)
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// FollowLogs calls onEntry with every line of a job's log from the start,
// then with each new line as it is written, until the job has ended and
// its last lines are read, or the context ends. The log is read a page at a
// time; once at its end it is read again from the last page's start
// every poll interval, skipping the lines already seen.
func (c *Client) FollowLogs(ctx context.Context, id string, opts LogOptions, onEntry func(LogEntry)) error {
	opts.Cursor = ""
	seen := 0 // lines already passed on from the page that starts at opts.Cursor
	for {
		// Read the status first: lines written before a job ended are all
		// in the log by the time it reads as ended.
		status, err := c.Status(ctx, id)
		if err != nil {
			return err
		}
		for {
			page, err := c.Logs(ctx, id, opts)
			if err != nil {
				return err
			}
			for _, entry := range page.Entries[min(seen, len(page.Entries)):] {
				onEntry(entry)
			}
			if page.NextCursor == "" {
				seen = len(page.Entries)
				break
			}
			opts.Cursor, seen = page.NextCursor, 0
		}
		if status.Status.Finished() {
			return nil
		}
		if err := c.sleep(ctx, c.poll.MinInterval); err != nil {
			return err
		}
	}
}
