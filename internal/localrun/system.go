package localrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/cron"
	"github.com/dainostore/jobs/internal/lambdaadapter"
	"github.com/dainostore/jobs/internal/schema"
)

// Serve runs the whole system in this process until ctx ends: the API on
// the listener, the worker behind an event source mapping on the wake queue,
// and the sweep on its schedule.
func Serve(ctx context.Context, a *app.App, listener net.Listener) error {
	server := &http.Server{Handler: a.HTTP, ReadHeaderTimeout: 10 * time.Second}
	mapping := &EventSourceMapping{
		Client:          a.SQS,
		QueueURL:        a.Queues.URLs().Wake,
		BatchSize:       schema.WakeBatchSize,
		MaxConcurrency:  a.Config.MaxConcurrency,
		FunctionTimeout: a.Config.WorkerTimeout,
		Handler:         lambdaadapter.Wake(a.Worker),
		Logger:          a.Log,
	}
	group, ctx := errgroup.WithContext(ctx)
	group.Go(func() error {
		if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve API: %w", err)
		}
		return nil
	})
	group.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return server.Shutdown(shutdownCtx)
	})
	group.Go(func() error { return mapping.Run(ctx) })
	// The sweep also runs at start: a restarted process picks up at once
	// what the previous one left behind.
	for _, schedule := range []struct {
		task       string
		interval   time.Duration
		runAtStart bool
	}{
		{cron.TaskSweep, a.Config.SweepInterval, true},
		{cron.TaskCleanup, a.Config.CleanupInterval, false},
		{cron.TaskDailyCreditDeduction, 24 * time.Hour, false},
	} {
		group.Go(func() error {
			Every(ctx, a.Clock, schedule.interval, schedule.runAtStart, schedule.task, a.Log, func(ctx context.Context) error {
				err := a.Cron.Run(ctx, schedule.task)
				if schedule.task == cron.TaskSweep {
					err = errors.Join(err, nudgeTimedOutMessages(ctx, a))
				}
				return err
			})
			return nil
		})
	}
	return group.Wait()
}

// nudgeTimedOutMessages wakes a worker when a priority queue holds messages
// the emulator counts as in flight. fauxqs notices that a message's
// visibility timed out only when someone receives, and reports it as in
// flight until then; SQS reports it as visible, so there the sweep alone
// wakes a worker for it. An extra wake costs one short invocation.
func nudgeTimedOutMessages(ctx context.Context, a *app.App) error {
	depths, err := a.Queues.Depths(ctx)
	if err != nil {
		return err
	}
	for _, d := range depths {
		if d.InFlight > 0 {
			return a.Queues.Wake(ctx, 0)
		}
	}
	return nil
}
