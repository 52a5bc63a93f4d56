package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/queue"
	"github.com/dainostore/jobs/internal/secret"
)

// jobRuntime is the jobtype.Runtime of one claimed job. It coalesces progress,
// keeps the lease and the message alive, and stops the handler (through its
// context) when the job is cancelled or the lease is lost.
type jobRuntime struct {
	w      *Worker
	log    *slog.Logger
	job    *job.Job
	cancel context.CancelCauseFunc
	// secrets are the payload's credential values, scrubbed from whatever
	// the handler writes: progress messages, logs, errors.
	secrets []string

	// writeMu makes the keeper and Checkpoint one writer: each write takes
	// the latest progress when its turn comes, so an older write can never
	// land after a newer one and set the bar back.
	writeMu sync.Mutex

	mu         sync.Mutex
	percent    int
	message    string
	checkpoint json.RawMessage
	dirty      bool
	// leaseExtendedAt is when a write last extended the lease (and moved
	// the job's due entry with it); the claim set the first lease.
	leaseExtendedAt time.Time
	// logs wait for the next flush; written in batches with the progress.
	logs             []jobtable.LogEntry
	lastCheckpointAt time.Time
	// written is the progress as last written, to tell a move from a heartbeat.
	writtenPercent int
	writtenMessage string
}

// maxPendingLogs bounds the log lines kept while DynamoDB refuses them.
const maxPendingLogs = 1000

// checkpointLogInterval keeps frequent checkpoints from flooding the log.
const checkpointLogInterval = 10 * time.Second

func newRuntime(w *Worker, log *slog.Logger, j *job.Job, secrets []string, cancel context.CancelCauseFunc) *jobRuntime {
	return &jobRuntime{
		w: w, log: log, job: j, cancel: cancel, secrets: secrets,
		percent: j.Progress, message: j.ProgressMessage, checkpoint: j.Checkpoint,
		writtenPercent: j.Progress, writtenMessage: j.ProgressMessage,
		leaseExtendedAt: w.cfg.Clock.Now(),
	}
}

func (rt *jobRuntime) JobID() string   { return rt.job.ID }
func (rt *jobRuntime) StoreID() string { return rt.job.StoreID }
func (rt *jobRuntime) Attempt() int    { return rt.job.Attempts }

// Progress never goes back: a resumed job starts from the progress of its
// checkpoint, and the bar only moves forward.
func (rt *jobRuntime) Progress(percent int, message string) {
	percent = min(max(percent, 0), 100)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	before := rt.percent
	rt.percent = max(rt.percent, percent)
	rt.message = rt.scrub(message)
	rt.dirty = true
	// Milestones at each quarter tell the story without a line per item.
	if milestone := rt.percent / 25 * 25; milestone > before/25*25 && milestone > 0 && milestone < 100 {
		rt.addLog(rt.w.event("progress", rt.job.Attempts, "%d%%: %s", rt.percent, rt.message))
	}
}

// addLog queues a log line; the caller holds mu. The line gets its ID now,
// so that writing it again after a failed batch overwrites it.
func (rt *jobRuntime) addLog(e jobtable.LogEntry) {
	if e.ID == "" {
		e.ID = jobtable.NewLogID()
	}
	if len(rt.logs) >= maxPendingLogs {
		rt.logs = rt.logs[1:]
	}
	rt.logs = append(rt.logs, e)
}

// flushLogs writes the queued log lines. The lines a failed write did not
// write are kept for the next flush (up to maxPendingLogs); those it wrote
// are not written again.
func (rt *jobRuntime) flushLogs(ctx context.Context) {
	rt.mu.Lock()
	pending := rt.logs
	rt.logs = nil
	rt.mu.Unlock()
	if len(pending) == 0 {
		return
	}
	written, err := rt.w.jobs.AppendLogs(ctx, rt.job.ID, pending)
	if err != nil {
		rt.log.Warn("write job log", "error", err, "lines", len(pending)-written)
		rt.mu.Lock()
		rt.logs = append(pending[written:], rt.logs...)
		if len(rt.logs) > maxPendingLogs {
			rt.logs = rt.logs[len(rt.logs)-maxPendingLogs:]
		}
		rt.mu.Unlock()
	}
}

func (rt *jobRuntime) Checkpoint(state any) error {
	data, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	rt.mu.Lock()
	rt.checkpoint = data
	if now := rt.w.cfg.Clock.Now(); now.Sub(rt.lastCheckpointAt) >= checkpointLogInterval {
		rt.lastCheckpointAt = now
		e := rt.w.event("checkpoint", rt.job.Attempts, "checkpoint saved at %d%%", rt.percent)
		e.Level = "debug"
		rt.addLog(e)
	}
	rt.mu.Unlock()
	// Not the handler's context: a handler checkpoints when its context ends.
	// The SDK's retryer tries again what heals; a checkpoint that still
	// fails fails the attempt, which resumes from the last one written.
	ctx, cancel := context.WithTimeout(context.Background(), checkpointTimeout)
	defer cancel()
	return rt.save(ctx, data)
}

// checkpointTimeout bounds a checkpoint write with the SDK's retries.
const checkpointTimeout = 10 * time.Second

func (rt *jobRuntime) Resume(state any) (bool, error) {
	rt.mu.Lock()
	data := rt.checkpoint
	rt.mu.Unlock()
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, state); err != nil {
		return false, fmt.Errorf("decode checkpoint: %w", err)
	}
	return true, nil
}

func (rt *jobRuntime) Log(level slog.Level, message string, attrs ...slog.Attr) {
	for i, a := range attrs {
		if k := a.Value.Kind(); k == slog.KindString || k == slog.KindAny || k == slog.KindGroup {
			attrs[i].Value = slog.StringValue(rt.scrub(a.Value.String()))
		}
	}
	message = rt.scrub(message)
	rt.log.LogAttrs(context.Background(), level, message, attrs...)
	e := jobtable.LogEntry{At: job.NewTime(rt.w.cfg.Clock.Now()), Level: jobtable.LevelName(level), Message: message, Attempt: rt.job.Attempts, Worker: rt.w.cfg.ID}
	if len(attrs) > 0 {
		e.Attrs = make(map[string]string, len(attrs))
		for _, a := range attrs {
			e.Attrs[a.Key] = a.Value.String()
		}
	}
	rt.mu.Lock()
	rt.addLog(e)
	rt.mu.Unlock()
}

// scrub replaces the payload's credentials in text.
func (rt *jobRuntime) scrub(text string) string { return secret.Scrub(text, rt.secrets) }

// snapshot is the progress to write with the job's outcome.
func (rt *jobRuntime) snapshot() jobtable.Progress {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return jobtable.Progress{Percent: rt.percent, Message: rt.message, Checkpoint: rt.checkpoint}
}

// save writes the current progress (and the checkpoint, when not nil) under
// the lease. A write extends the lease too when a heartbeat has passed
// since it was last extended: the lease then never has less than
// Lease-Heartbeat left, and a handler that checkpoints many times a second
// does not move the job's due entry (an index write on AWS) with every
// checkpoint. It stops the handler if the job was cancelled or the lease
// lost.
func (rt *jobRuntime) save(ctx context.Context, checkpoint json.RawMessage) error {
	rt.writeMu.Lock()
	defer rt.writeMu.Unlock()
	now := rt.w.cfg.Clock.Now()
	rt.mu.Lock()
	p := jobtable.Progress{Percent: rt.percent, Message: rt.message, Checkpoint: checkpoint}
	p.Changed = p.Percent != rt.writtenPercent || p.Message != rt.writtenMessage
	extend := now.Sub(rt.leaseExtendedAt) >= rt.w.cfg.Heartbeat
	rt.mu.Unlock()
	lease := jobtable.Lease{Token: rt.job.LeaseToken}
	if extend {
		lease.ExpiresAt = now.Add(rt.w.cfg.Lease)
	}
	cancelRequested, err := rt.w.jobs.SaveProgress(ctx, rt.job.ID, lease, p, rt.w.cfg.SweepGrace)
	if errors.Is(err, jobtable.ErrStale) {
		rt.cancel(errLeaseLost)
		return fmt.Errorf("job %s: %w", rt.job.ID, errLeaseLost)
	}
	if err != nil {
		return err
	}
	rt.mu.Lock()
	if extend {
		rt.leaseExtendedAt = now
	}
	rt.writtenPercent, rt.writtenMessage = p.Percent, p.Message
	if p.Percent == rt.percent && p.Message == rt.message {
		rt.dirty = false
	}
	rt.mu.Unlock()
	if cancelRequested {
		rt.cancel(errCancelRequested)
		return fmt.Errorf("job %s: %w", rt.job.ID, errCancelRequested)
	}
	return nil
}

// keepAlive flushes coalesced progress once per progress interval and, at
// least once per heartbeat, extends the lease and hides the message for
// another lease. If the lease cannot be renewed before it runs out, the
// handler is stopped: another worker may take the job over then, and two
// must never run it at once.
func (rt *jobRuntime) keepAlive(ctx context.Context, msg *queue.Message) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	ticker := rt.w.cfg.Clock.NewTicker(rt.w.cfg.ProgressInterval)
	go func() {
		defer wg.Done()
		defer ticker.Stop()
		// The message was hidden for one lease when it was received.
		lastHidden := rt.w.cfg.Clock.Now()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-ticker.C():
			}
			rt.flushLogs(ctx)
			now := rt.w.cfg.Clock.Now()
			rt.mu.Lock()
			sinceExtended := now.Sub(rt.leaseExtendedAt)
			due := rt.dirty || sinceExtended >= rt.w.cfg.Heartbeat
			rt.mu.Unlock()
			if due {
				err := rt.save(ctx, nil)
				switch {
				case err == nil:
				case errors.Is(err, errLeaseLost), errors.Is(err, errCancelRequested):
					return
				default:
					rt.log.Warn("save progress", "error", err)
					if sinceExtended > rt.w.cfg.Lease-rt.w.cfg.Heartbeat {
						rt.cancel(errLeaseLost)
						return
					}
					continue
				}
			}
			// The lease is held: it was extended within the last heartbeat.
			// The message needs hiding again only before its visibility
			// runs out, not with every progress write.
			if now.Sub(lastHidden) >= rt.w.cfg.Heartbeat {
				if err := rt.w.queues.SetVisibility(ctx, msg, rt.w.cfg.Lease); err != nil {
					rt.log.Warn("extend message visibility", "error", err)
				} else {
					lastHidden = now
				}
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
