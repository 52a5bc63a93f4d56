// Command devserver runs the whole system on one machine against local AWS
// emulators: it creates the tables, queues, bucket and key if needed, serves
// the API, runs the worker behind a local event source mapping on the wake
// queue (same handler code and semantics as the Lambda functions) and fires
// the schedules. It also runs the sandbox of the outside systems
// (internal/sandbox) on JOBS_SANDBOX_ADDR and connects store-1 to it, unless
// that is "off". Configuration comes from the environment (see the README).
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/awsconfig"
	"github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/localrun"
	"github.com/dainostore/jobs/internal/meter"
	"github.com/dainostore/jobs/internal/sandbox"
	"github.com/dainostore/jobs/internal/sandbox/bedrockfake"
	"github.com/dainostore/jobs/internal/sandbox/translatefake"
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
	defaults.AuthHS256Secret = auth.LocalDevSecret
	cfg, err := config.FromEnvWith(defaults)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var box *sandbox.Sandbox
	if addr := cmp.Or(os.Getenv("JOBS_SANDBOX_ADDR"), "127.0.0.1:8090"); addr != "off" {
		if box, err = startSandbox(ctx, addr, log); err != nil {
			return err
		}
		box.Endpoints().Configure(&cfg)
	}

	awsCfg, err := awsconfig.Load(ctx)
	if err != nil {
		return err
	}
	urls, err := localrun.EnsureResources(ctx, awsCfg, cfg)
	if err != nil {
		return err
	}
	verifier, err := auth.NewLocalVerifier(cfg.AuthHS256Secret, cfg.AuthJWKSFile, cfg.AuthIssuer, cfg.AuthAudience)
	if err != nil {
		return err
	}
	overrides := app.Overrides{WorkerConfig: worker.Config{ID: workerID()}, QueueURLs: &urls, Authenticator: verifier}
	if os.Getenv("JOBS_METER") != "" {
		m := meter.New()
		overrides.DynamoDBOptions = append(overrides.DynamoDBOptions, m.DynamoDBOption())
		overrides.SQSOptions = append(overrides.SQSOptions, m.SQSOption())
		go printMeterEvery(ctx, m, time.Minute)
		defer printMeter(m)
	}
	a, err := app.New(ctx, cfg, awsCfg, log, overrides)
	if err != nil {
		return err
	}
	if box != nil {
		connectStore1(ctx, a, box, log)
		seedStore1Labels(ctx, a, log)
	}
	if cfg.AuthJWKSFile == "" {
		printDevTokens(cfg)
	}
	if box != nil {
		fmt.Printf("Sandbox of the outside systems (store-1 is connected to each; faults at <fake>/_faults):\n  %s/\n\n", box.BaseURL())
	}
	listener, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	log.Info("serving", "api", "http://"+listener.Addr().String(), "table", cfg.TableName, "queue_prefix", cfg.QueuePrefix, "max_concurrency", cfg.MaxConcurrency)
	return localrun.Serve(ctx, a, listener)
}

// startSandbox serves the fakes of the outside systems on addr until ctx ends.
func startSandbox(ctx context.Context, addr string, log *slog.Logger) (*sandbox.Sandbox, error) {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s (JOBS_SANDBOX_ADDR; \"off\" runs without it): %w", addr, err)
	}
	// The AI answers as a small model does, so an export's "AI optimizing"
	// stage can be watched; Translate as it does a short label.
	box := sandbox.New(sandbox.Options{AILatency: bedrockfake.UniformLatency(2*time.Second, 4*time.Second),
		TranslateLatency: translatefake.UniformLatency(100*time.Millisecond, 300*time.Millisecond)})
	box.SetBaseURL("http://" + listener.Addr().String())
	server := &http.Server{Handler: box, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()
	go func() {
		<-ctx.Done()
		_ = server.Close()
	}()
	log.Info("sandbox of the outside systems", "url", "http://"+listener.Addr().String())
	return box, nil
}

// connectStore1 connects store-1 to every marketplace of the sandbox, the
// way a store owner would (checked with the marketplace, then saved), unless
// it is connected already.
func connectStore1(ctx context.Context, a *app.App, box *sandbox.Sandbox, log *slog.Logger) {
	for name, creds := range box.Credentials() {
		if _, err := a.Connections.Get(ctx, sandbox.Store, name); err == nil {
			continue
		}
		if err := a.Marketplaces.Verify(ctx, name, creds); err != nil {
			log.Error("sandbox: connect store-1", "marketplace", name, "error", err)
			continue
		}
		if _, err := a.Connections.Save(ctx, sandbox.Store, name, creds, creds.Account()); err != nil {
			log.Error("sandbox: connect store-1", "marketplace", name, "error", err)
		}
	}
}

// seedStore1Labels writes store-1's UI labels in English, the sandbox
// store's, unless it has labels already, so that translation:ui-labels:bulk
// can be tried at once. The default language is set last: a start cut
// short before it writes the labels again.
func seedStore1Labels(ctx context.Context, a *app.App, log *slog.Logger) {
	language, err := a.Catalog.UILabelLanguage(ctx, sandbox.Store)
	if err != nil || language != "" {
		if err != nil {
			log.Error("sandbox: seed store-1's UI labels", "error", err)
		}
		return
	}
	labels := sandbox.UILabels(0)
	if err := a.Catalog.PutUILabels(ctx, sandbox.Store, labels); err != nil {
		log.Error("sandbox: seed store-1's UI labels", "error", err)
		return
	}
	if _, err := a.Catalog.ClaimUILabelLanguage(ctx, sandbox.Store, sandbox.UILabelsLanguage); err != nil {
		log.Error("sandbox: seed store-1's UI labels", "error", err)
		return
	}
	log.Info("sandbox: store-1's UI labels written", "labels", len(labels), "language", sandbox.UILabelsLanguage)
}

// printDevTokens prints ready tokens, so the API can be tried at once.
func printDevTokens(cfg config.Config) {
	secret := []byte(cfg.AuthHS256Secret)
	store, err1 := auth.MintHS256(secret, cfg.AuthIssuer, cfg.AuthAudience, auth.Principal{Subject: "store-1-owner", StoreID: sandbox.Store}, 30*24*time.Hour)
	operator, err2 := auth.MintHS256(secret, cfg.AuthIssuer, cfg.AuthAudience, auth.Principal{Subject: "operator", Operator: true}, 30*24*time.Hour)
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "devserver: mint tokens:", errors.Join(err1, err2))
		return
	}
	fmt.Printf("\nTokens for this local run (valid 30 days; more with `go run ./cmd/token`):\n"+
		"  export STORE_TOKEN=%s      # store-1\n"+
		"  export OPERATOR_TOKEN=%s   # jobs:admin\n"+
		"  curl -H \"Authorization: Bearer $STORE_TOKEN\" http://%s/api/background-jobs/status\n\n", store, operator, cfg.HTTPAddr)
	// The token rides in the fragment, which the browser never sends; the
	// page moves it into the tab's storage and out of the address bar.
	fmt.Printf("Dashboards (open in a browser):\n"+
		"  store view (store-1):  http://%[1]s/dashboard/#token=%[2]s\n"+
		"  job dashboard:         http://%[1]s/dashboard/jobs#token=%[3]s\n\n", cfg.HTTPAddr, store, operator)
}

// printMeterEvery prints the requests made so far at each interval, when
// there were new ones, so a developer sees what an action cost.
func printMeterEvery(ctx context.Context, m *meter.Meter, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	printed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if total := meter.Total(m.Snapshot()).Requests; total != printed {
			printed = total
			printMeter(m)
		}
	}
}

func printMeter(m *meter.Meter) {
	fmt.Fprintf(os.Stderr, "\nAWS requests since start (JOBS_METER), %s:\n", time.Now().UTC().Format(time.RFC3339))
	_ = meter.Format(os.Stderr, m.Snapshot())
}

func workerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}
