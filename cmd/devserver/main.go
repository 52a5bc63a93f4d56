// Command devserver runs the whole system on one machine against local AWS
// emulators: it creates the table and queues if needed, serves the API, runs
// the worker behind a local event source mapping on the wake queue (same
// handler code and semantics as the Lambda functions) and fires the
// schedules. Configuration comes from the environment (see the README).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/localrun"
	"github.com/dainostore/jobs/internal/worker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		os.Exit(1)
	}
}

func run() error {
	defaults := config.Defaults()
	defaults.DiagnosticJobs = true // dev:simulate is there to be tried locally
	defaults.EmptyPollWait = 0     // the SQS emulator's short polls see every message
	cfg, err := config.FromEnvWith(defaults)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	urls, err := localrun.EnsureResources(ctx, awsCfg, cfg)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, awsCfg, log, app.Overrides{WorkerConfig: worker.Config{ID: workerID()}, QueueURLs: &urls})
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("serving", "api", "http://"+listener.Addr().String(), "table", cfg.TableName, "queue_prefix", cfg.QueuePrefix, "max_concurrency", cfg.MaxConcurrency)
	return localrun.Serve(ctx, a, listener)
}

func workerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}
