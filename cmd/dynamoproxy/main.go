// Command dynamoproxy serves the DynamoDB API on a local address in front of
// dynalite, adding transactions and TTL (see package
// github.com/dainostore/jobs/localstack/dynamoproxy).
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dainostore/jobs/localstack/dynamoproxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8000", "address to serve the DynamoDB API on")
	upstream := flag.String("upstream", "http://127.0.0.1:8001", "base URL of dynalite")
	ttlInterval := flag.Duration("ttl-interval", dynamoproxy.DefaultTTLInterval, "how often expired TTL items are deleted")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*listen, *upstream, *ttlInterval, logger); err != nil {
		logger.Error("dynamoproxy stopped", "err", err)
		os.Exit(1)
	}
}

func run(listen, upstream string, ttlInterval time.Duration, logger *slog.Logger) error {
	proxy, err := dynamoproxy.New(dynamoproxy.Config{Upstream: upstream, TTLInterval: ttlInterval, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go proxy.Run(ctx)
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("dynamoproxy listening", "addr", "http://"+ln.Addr().String(), "upstream", upstream, "ttl_interval", ttlInterval)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
