package lambdaruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The Lambda functions, as the folders of functions/ name them.
const (
	apiFunction       = "api"
	workerFunction    = "worker"
	schedulerFunction = "scheduler"
)

var functionNames = []string{apiFunction, workerFunction, schedulerFunction}

// functionTimeouts are the functions' timeouts under the emulator. The
// worker's leaves room for JOBS_DEADLINE_MARGIN (20s by default).
var functionTimeouts = map[string]time.Duration{
	apiFunction:       30 * time.Second,
	workerFunction:    2 * time.Minute,
	schedulerFunction: time.Minute,
}

// Deadlines for a loaded two-core machine; none of them is waited out when
// things work.
const (
	buildTimeout = 10 * time.Minute
	startTimeout = 60 * time.Second
	// stopTimeout is how long the emulator gets to end its function on
	// SIGTERM before it is killed.
	stopTimeout = 15 * time.Second
	// logTimeout bounds the wait for a log line the emulator writes before
	// it answers the invocation: only the pipe between it and the test is
	// in between.
	logTimeout = 30 * time.Second
)

// built holds the bootstrap binaries and the emulator, made once per run.
var built struct {
	once sync.Once
	dir  string // a temporary folder: <dir>/<function> is its bootstrap
	rie  string // the emulator's executable
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// binaries returns the folder of the bootstrap binaries and the emulator's
// path, building them on first use.
func binaries(tb testing.TB) (bootstrapDir, rie string) {
	tb.Helper()
	if runtime.GOOS != "linux" {
		// The emulator and the provided.al2023 bootstrap binaries are Linux
		// programs; elsewhere there is nothing this package can run.
		tb.Skip("SKIPPED: the Lambda runtime emulator tests need Linux; they run in `make test` on Linux only")
	}
	built.once.Do(func() {
		built.dir, built.rie, built.err = build()
	})
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.dir, built.rie
}

// build compiles the bootstrap binaries with the flags of `make build`, but
// for this machine's architecture so that they can run here, and installs
// the emulator pinned in rie/go.mod into build/tools (what `make rie` does).
func build() (dir, rie string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", "", err
	}
	dir, err = os.MkdirTemp("", "lambda-bootstrap-")
	if err != nil {
		return "", "", err
	}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}
	for _, fn := range functionNames {
		args = append(args, "./functions/"+fn)
	}
	compile := exec.CommandContext(ctx, "go", args...)
	compile.Dir = root
	compile.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := compile.CombinedOutput(); err != nil {
		return dir, "", fmt.Errorf("build the bootstrap binaries: %v\n%s", err, out)
	}
	tools := filepath.Join(root, "build", "tools")
	install := exec.CommandContext(ctx, "go", "install", "tool")
	install.Dir = filepath.Join(root, "internal", "lambdaruntime", "rie")
	install.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+tools)
	if out, err := install.CombinedOutput(); err != nil {
		return dir, "", fmt.Errorf("install the Lambda runtime emulator (internal/lambdaruntime/rie): %v\n%s", err, out)
	}
	return dir, filepath.Join(tools, "aws-lambda-rie"), nil
}

// moduleRoot is the folder of the service's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("the tests do not run inside the service's module")
	}
	return filepath.Dir(gomod), nil
}

// function is one Lambda function: the emulator running its bootstrap
// binary, with the emulator's invoke endpoint in front of it.
type function struct {
	name      string
	timeout   time.Duration
	invokeURL string
	cmd       *exec.Cmd
	exited    chan struct{} // closed when the emulator's process ended
	log       *processLog
	stopOnce  sync.Once
}

// startFunction runs a function's bootstrap under the emulator with the
// given environment (which the emulator passes on to the bootstrap, as
// Lambda passes a function's configuration) and waits until the emulator
// accepts invocations. It stops when the test ends.
//
// The function initialises on its first invocation, as a cold start on
// Lambda does.
func startFunction(tb testing.TB, name string, environment []string) *function {
	tb.Helper()
	f, err := newFunction(tb, name, environment)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// newFunction is startFunction for any goroutine once binaries has
// succeeded: it reports a failure to start instead of ending the test.
func newFunction(tb testing.TB, name string, environment []string) (*function, error) {
	dir, rie := binaries(tb)
	// Two free loopback ports are chosen and released before the emulator
	// binds them, so another process may take one in between; then the
	// emulator exits, and another pair is tried.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		f, err := launch(rie, filepath.Join(dir, name), name, functionTimeouts[name], environment)
		if err == nil {
			tb.Cleanup(func() {
				f.stop()
				if tb.Failed() {
					tb.Logf("--- %s function (emulator and bootstrap output):\n%s", name, f.log)
				}
			})
			return f, nil
		}
		if attempt == attempts {
			return nil, fmt.Errorf("start the %s function under the emulator: %v", name, err)
		}
		tb.Logf("start the %s function under the emulator: %v; trying other ports", name, err)
	}
}

func launch(rie, bootstrap, name string, timeout time.Duration, environment []string) (*function, error) {
	runtimeAPI, err := freeLoopbackAddress()
	if err != nil {
		return nil, err
	}
	invokeAPI, err := freeLoopbackAddress()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(rie,
		"--runtime-api-address", runtimeAPI,
		"--runtime-interface-emulator-address", invokeAPI,
		bootstrap)
	// The function's folder is its working directory, like /var/task.
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = append([]string{
		"AWS_LAMBDA_FUNCTION_NAME=jobs-" + name,
		// The emulator gives each invocation this deadline, which the
		// runtime passes to the handler's context.
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(timeout/time.Second)),
	}, environment...)
	log := &processLog{}
	cmd.Stdout, cmd.Stderr = log, log
	// The emulator ends its bootstrap on SIGTERM. If the emulator has to be
	// killed instead, the orphaned bootstrap holds the output pipe open
	// until its next call to the runtime API fails and it exits.
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	f := &function{name: name, timeout: timeout, cmd: cmd, exited: make(chan struct{}), log: log,
		invokeURL: "http://" + invokeAPI + "/2015-03-31/functions/function/invocations"}
	go func() {
		_ = cmd.Wait()
		close(f.exited)
	}()
	if err := f.awaitListening(runtimeAPI, invokeAPI); err != nil {
		f.stop()
		return nil, fmt.Errorf("%v\n%s", err, log)
	}
	return f, nil
}

// awaitListening waits until the emulator serves both of its APIs: the
// runtime API the bootstrap will call (whose /ping answers "pong") and the
// invoke endpoint (any HTTP answer to a GET of its root).
func (f *function) awaitListening(runtimeAPI, invokeAPI string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	answers := func(url string, want func(status int, body string) bool) bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return err == nil && want(resp.StatusCode, string(body))
	}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-f.exited:
			return fmt.Errorf("the emulator exited at start (%v)", f.cmd.ProcessState)
		default:
		}
		if answers("http://"+runtimeAPI+"/2018-06-01/ping", func(status int, body string) bool { return status == http.StatusOK && body == "pong" }) &&
			answers("http://"+invokeAPI+"/", func(int, string) bool { return true }) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the emulator did not listen on %s and %s within %v", runtimeAPI, invokeAPI, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the emulator, which ends its bootstrap, or kills it if that
// takes too long.
func (f *function) stop() {
	f.stopOnce.Do(func() {
		_ = f.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-f.exited:
		case <-time.After(stopTimeout):
			_ = f.cmd.Process.Kill()
			<-f.exited
		}
	})
}

func freeLoopbackAddress() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// functionError is how Lambda reports a handler's error: the invocation
// itself succeeds, and its payload names the error.
type functionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// invocation is what an invocation returned: the handler's response, or
// its error.
type invocation struct {
	Response json.RawMessage
	Error    *functionError
}

// invoke invokes the function with an event, as Lambda's Invoke API does,
// and fails the test when the invocation itself failed.
func (f *function) invoke(tb testing.TB, event []byte) invocation {
	tb.Helper()
	result, err := f.tryInvoke(event)
	if err != nil {
		tb.Fatalf("invoke the %s function: %v\n%s", f.name, err, f.log)
	}
	return result
}

// tryInvoke invokes the function. It returns an error when the function
// produced no response: the bootstrap failed to initialise, exited, or ran
// out of time.
func (f *function) tryInvoke(event []byte) (invocation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout+startTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.invokeURL, bytes.NewReader(event))
	if err != nil {
		return invocation{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return invocation{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return invocation{}, err
	}
	if resp.StatusCode != http.StatusOK {
		// The emulator answers 502 when the runtime failed (init error,
		// the process exited) and 504 when it lost the invocation.
		return invocation{}, fmt.Errorf("the emulator answered %s: %q", resp.Status, body)
	}
	if !json.Valid(body) {
		// A timeout is answered 200 with the text "Task timed out after …".
		return invocation{}, fmt.Errorf("the function answered no JSON: %q", body)
	}
	var fnErr functionError
	if json.Unmarshal(body, &fnErr) == nil && fnErr.Type != "" {
		return invocation{Error: &fnErr}, nil
	}
	return invocation{Response: body}, nil
}

var (
	initDone   = regexp.MustCompile(`INIT RTDONE\(status: (\w+)\)`)
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
)

// initDuration is the function's init phase as the emulator measured it:
// from starting the bootstrap until the runtime asked for its first
// invocation. That is what Lambda reports as "Init Duration" (the
// emulator's own REPORT line prints another number: only the time to start
// the init, without waiting for it). It fails the test unless the init
// succeeded; call it after the first invocation.
func (f *function) initDuration(tb testing.TB) time.Duration {
	tb.Helper()
	status := f.log.await(tb, initDone)
	if status != "success" {
		tb.Fatalf("the %s function's init ended with status %q\n%s", f.name, status, f.log)
	}
	ms, err := strconv.ParseFloat(f.log.await(tb, initReport), 64)
	if err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// processLog keeps what the emulator and its bootstrap wrote.
type processLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *processLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *processLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// await returns the first submatch of the first line that matches, waiting
// for it: the output reaches the test through a pipe, possibly after the
// invocation that caused it has answered.
func (l *processLog) await(tb testing.TB, pattern *regexp.Regexp) string {
	tb.Helper()
	deadline := time.Now().Add(logTimeout)
	for {
		if m := pattern.FindStringSubmatch(l.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no line matching %q within %v in:\n%s", pattern, logTimeout, l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
