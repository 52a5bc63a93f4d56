// Command local-kms serves the KMS emulator github.com/nsmithuk/local-kms,
// pinned in this folder's go.mod (a module of its own, so the emulator and
// its dependencies stay out of the service's go.mod), on a loopback address.
//
// local-kms's own command listens on ":"+PORT, every interface, and cannot
// be told otherwise: this one serves the same request handler and database
// only where -listen says (127.0.0.1:4599 by default). It reads local-kms's
// variables: KMS_DATA_PATH (the LevelDB folder that keeps the keys and
// aliases), KMS_ACCOUNT_ID and KMS_REGION (for the ARNs it makes). It does
// not seed keys (KMS_SEED_PATH): the local setup creates the keys it needs
// through the API, as it would against AWS.
//
//	go -C localstack/kms build -o <dir>/local-kms .   (localstack/emulators.sh does)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	kms "github.com/nsmithuk/local-kms/src"
	"github.com/nsmithuk/local-kms/src/config"
	"github.com/nsmithuk/local-kms/src/data"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4599", "address to listen on (host:port)")
	flag.Parse()
	log.SetPrefix("local-kms: ")
	if err := run(*listen); err != nil {
		log.Fatal(err)
	}
}

func run(listen string) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		// Keys made here protect local data only, but they are keys all the
		// same: nothing but this machine may ask for them.
		return errors.New("-listen must be a loopback address, not " + listen)
	}
	config.AWSAccountId = envOr("KMS_ACCOUNT_ID", "000000000000")
	config.AWSRegion = envOr("KMS_REGION", "us-east-1")
	config.DatabasePath, err = filepath.Abs(envOr("KMS_DATA_PATH", "local-kms-data"))
	if err != nil {
		return err
	}

	// Bound before the database is opened, so a port in use fails without
	// touching it.
	listener, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	// LevelDB locks its folder: a second emulator on the same data stops here.
	database, err := openDatabase(config.DatabasePath)
	if err != nil {
		listener.Close()
		return err
	}
	defer database.Close()

	server := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kms.HandleRequest(w, r, database)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	log.Printf("listening at http://%s (account %s, region %s, data %s)",
		listener.Addr(), config.AWSAccountId, config.AWSRegion, config.DatabasePath)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	// Let requests in flight finish, then close the database (deferred) so
	// its files are left consistent for the next start.
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return server.Shutdown(shutdown)
}

// openDatabase turns local-kms's panic on a database it cannot open (a
// folder locked by another emulator, or unreadable) into an error.
func openDatabase(path string) (db *data.Database, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open the key database %s: %v", path, r)
		}
	}()
	return data.NewDatabase(path), nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
