// Package testenv gives integration tests their own tables, queues, bucket
// and KMS key on the local emulators, and runs the whole system in the test
// process when a test needs it. The emulators are started by `make test`
// (see localstack/).
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/auth"
	"github.com/dainostore/jobs/internal/awsconfig"
	jobsconfig "github.com/dainostore/jobs/internal/config"
	"github.com/dainostore/jobs/internal/localrun"
	"github.com/dainostore/jobs/internal/queue"
)

// Env is one test's private slice of the emulators.
type Env struct {
	Config jobsconfig.Config
	AWS    aws.Config
	URLs   queue.URLs
	// LogCopy, when set, receives every log line of the system as JSON.
	LogCopy io.Writer
}

// New creates fresh tables, queues, images bucket and connections key (an
// alias of a new KMS key) for the test; Config names them. It fails the test
// when the emulators are not running, rather than skipping it.
func New(t testing.TB) *Env {
	t.Helper()
	env, err := newEnv(uniqueName(t))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func newEnv(name string) (*Env, error) {
	for _, variable := range []string{
		"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_KMS",
	} {
		if os.Getenv(variable) == "" {
			return nil, fmt.Errorf("%s is not set: run the tests with `make test`, or start the emulators with "+
				"`localstack/emulators.sh start` and `. localstack/.state/dev/env`", variable)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	awsCfg, err := awsconfig.Load(ctx, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		return nil, err
	}
	cfg := jobsconfig.Defaults()
	cfg.TableName = name
	cfg.QueuePrefix = name
	cfg.CatalogTableName = name + "-catalog"
	// Bucket names are lowercase; the random suffix keeps them unique.
	cfg.ImagesBucket = strings.ToLower(name)
	cfg.ConnectionsKeyID = "alias/" + name
	cfg.DiagnosticJobs = true
	cfg.EmptyPollWait = 0 // the SQS emulator's short polls see every message
	urls, err := localrun.EnsureResources(ctx, awsCfg, cfg)
	if err != nil {
		return nil, fmt.Errorf("create test resources: %w", err)
	}
	return &Env{Config: cfg, AWS: awsCfg, URLs: urls}, nil
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9]+`)

// uniqueName is a name no other test uses, at most 51 characters of
// letters, digits and hyphens, beginning with a letter and ending with a
// digit or letter: a table name, a queue prefix, and once lowercased a
// bucket name (3 to 63 characters).
func uniqueName(t testing.TB) string { return uniqueNameFor(t.Name()) }

func uniqueNameFor(testName string) string {
	base := strings.Trim(unsafeChars.ReplaceAllString(testName, "-"), "-")
	if len(base) > 40 {
		base = base[len(base)-40:]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t-" + strings.Trim(base, "-") + "-" + hex.EncodeToString(b)
}

// App builds the system on the test's resources. Unless the test says
// otherwise, the API checks tokens the way the local process does, with the
// secret Token signs with.
func (e *Env) App(t testing.TB, o app.Overrides) *app.App {
	t.Helper()
	o.QueueURLs = &e.URLs
	if o.Authenticator == nil {
		verifier, err := auth.NewHS256Verifier(testSecret, e.Config.AuthIssuer, e.Config.AuthAudience)
		if err != nil {
			t.Fatal(err)
		}
		o.Authenticator = verifier
	}
	log := Logger(t)
	if e.LogCopy != nil {
		log = slog.New(teeHandler{log.Handler(), slog.NewJSONHandler(e.LogCopy, &slog.HandlerOptions{Level: slog.LevelDebug})})
	}
	a, err := app.New(context.Background(), e.Config, e.AWS, log, o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// testSecret signs the tests' tokens.
var testSecret = []byte("test-secret-of-at-least-thirty-two-bytes")

// Token mints a valid bearer token for a principal.
func Token(t testing.TB, p auth.Principal) string {
	t.Helper()
	defaults := jobsconfig.Defaults()
	token, err := auth.MintHS256(testSecret, defaults.AuthIssuer, defaults.AuthAudience, p, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// OperatorToken mints an operator's token.
func OperatorToken(t testing.TB) string {
	return Token(t, auth.Principal{Subject: "test-operator", Operator: true})
}

// StoreToken mints a token of the given store.
func StoreToken(t testing.TB, storeID string) string {
	return Token(t, auth.Principal{Subject: "owner-of-" + storeID, StoreID: storeID})
}

// DynamoDB returns a plain client on the emulator, for checks behind the system's back.
func (e *Env) DynamoDB() *dynamodb.Client { return dynamodb.NewFromConfig(e.AWS) }

// SQS returns a plain client on the emulator.
func (e *Env) SQS() *sqs.Client { return sqs.NewFromConfig(e.AWS) }

// S3 returns a plain client on the emulator, addressing buckets as the
// service's own clients do (path-style).
func (e *Env) S3() *s3.Client { return s3.NewFromConfig(e.AWS, awsconfig.S3Options()...) }

// KMS returns a plain client on the emulator.
func (e *Env) KMS() *kms.Client { return kms.NewFromConfig(e.AWS) }

// Serve runs the whole system (API, worker behind the event source mapping,
// sweep) in the background and returns the API's base URL. It stops when the
// test ends.
func Serve(t testing.TB, a *app.App) string {
	t.Helper()
	base, stop, err := serve(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return base
}

// serve runs the system on a free port of 127.0.0.1 until stop, which
// waits for it to end.
func serve(a *app.App) (base string, stop func() error, err error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localrun.Serve(ctx, a, listener) }()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("system stopped with: %w", err)
			}
			return nil
		case <-time.After(30 * time.Second):
			return errors.New("system did not stop within 30s")
		}
	}
	return "http://" + listener.Addr().String(), stop, nil
}

// Logger sends the system's logs to the test log, shown when a test fails
// or with -v. Set JOBS_TEST_QUIET=1 to drop them.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("JOBS_TEST_QUIET") != "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	w := &testWriter{t: t}
	// Registered before any system is served, so it runs after it stopped.
	t.Cleanup(func() { w.closed.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter drops lines written after the test ended, which t.Log forbids.
type testWriter struct {
	t      testing.TB
	closed atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.closed.Load() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// teeHandler sends every record to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.a.Enabled(ctx, l) || h.b.Enabled(ctx, l)
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	return errors.Join(h.a.Handle(ctx, r.Clone()), h.b.Handle(ctx, r.Clone()))
}

func (h teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return teeHandler{h.a.WithAttrs(attrs), h.b.WithAttrs(attrs)}
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	return teeHandler{h.a.WithGroup(name), h.b.WithGroup(name)}
}

// System is the whole system served on a free port for a package's
// TestMain, whose examples need one and have no *testing.T: an Env with an
// App behind a base URL, its logs dropped.
type System struct {
	Env     *Env
	App     *app.App
	BaseURL string
	stop    func() error
}

// StartSystem creates a package's resources (named after name) and serves
// the system on them; configure, if not nil, adjusts the configuration
// first. Stop ends it.
func StartSystem(name string, configure func(*jobsconfig.Config)) (*System, error) {
	env, err := newEnv(uniqueNameFor(name))
	if err != nil {
		return nil, err
	}
	if configure != nil {
		configure(&env.Config)
	}
	verifier, err := auth.NewHS256Verifier(testSecret, env.Config.AuthIssuer, env.Config.AuthAudience)
	if err != nil {
		return nil, err
	}
	a, err := app.New(context.Background(), env.Config, env.AWS, slog.New(slog.DiscardHandler), app.Overrides{QueueURLs: &env.URLs, Authenticator: verifier})
	if err != nil {
		return nil, err
	}
	base, stop, err := serve(a)
	if err != nil {
		return nil, err
	}
	return &System{Env: env, App: a, BaseURL: base, stop: stop}, nil
}

// Stop stops serving the system.
func (s *System) Stop() error { return s.stop() }

// Token mints a valid bearer token for a principal of the system.
func (s *System) Token(p auth.Principal) (string, error) {
	return auth.MintHS256(testSecret, s.Env.Config.AuthIssuer, s.Env.Config.AuthAudience, p, time.Hour)
}
