package dynamoproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The tests run against a real dynalite, started once per test binary from
// the emulator install in localstack/node_modules.

var (
	dynaliteOnce sync.Once
	dynaliteURL  string
	dynaliteErr  error
	dynaliteCmd  *exec.Cmd
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dynaliteCmd != nil && dynaliteCmd.Process != nil {
		// dynalite was started in its own process group.
		_ = syscall.Kill(-dynaliteCmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = dynaliteCmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-dynaliteCmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	os.Exit(code)
}

// dynalite returns the base URL of the shared dynalite, starting it on first
// use. It fails the test with instructions if the emulators are not
// installed.
func dynalite(t *testing.T) string {
	t.Helper()
	dynaliteOnce.Do(func() { dynaliteURL, dynaliteErr = startDynalite() })
	if dynaliteErr != nil {
		t.Fatalf("dynalite: %v", dynaliteErr)
	}
	return dynaliteURL
}

func startDynalite() (string, error) {
	bin, err := filepath.Abs(filepath.Join("..", "node_modules", ".bin", "dynalite"))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s not found: the local emulators are not installed; run `localstack/emulators.sh start` (or `npm ci --prefix localstack`) from the repository root first", bin)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("node is not on PATH; dynalite needs Node.js 20 or newer: %w", err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		url, err := launchOnPinnedThread(bin, port)
		if err == nil {
			return url, nil
		}
		lastErr = err
	}
	return "", lastErr
}

// launchOnPinnedThread starts dynalite from an OS thread that lives as long
// as the test binary: the parent-death signal fires when the thread that
// forked the child exits, not only when the process does.
func launchOnPinnedThread(bin string, port int) (string, error) {
	type result struct {
		url string
		err error
	}
	res := make(chan result)
	go func() {
		runtime.LockOSThread()
		url, err := launchDynalite(bin, port)
		res <- result{url, err}
		select {} // keep the thread
	}()
	r := <-res
	return r.url, r.err
}

func launchDynalite(bin string, port int) (string, error) {
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", fmt.Sprint(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start %s: %w", bin, err)
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				ready <- nil
				for sc.Scan() {
				}
				return
			}
		}
		ready <- errors.New("dynalite exited before listening")
	}()
	select {
	case err = <-ready:
	case <-time.After(30 * time.Second):
		err = errors.New("dynalite did not start listening within 30s")
	}
	if err != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return "", fmt.Errorf("%w; stderr: %s", err, stderr.String())
	}
	dynaliteCmd = cmd
	return fmt.Sprintf("http://127.0.0.1:%d", port), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// env is one test's proxy in front of the shared dynalite and an SDK client
// for it.
type env struct {
	proxy  *Proxy
	url    string
	client *dynamodb.Client
	// direct talks to dynalite without the proxy.
	direct *dynamodb.Client
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	up := dynalite(t)
	cfg.Upstream = up
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return &env{proxy: p, url: srv.URL, client: newClient(srv.URL), direct: newClient(up)}
}

func newClient(endpoint string) *dynamodb.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", ""),
		// The machine may set AWS_CA_BUNDLE; a buildable client keeps the SDK
		// from needing it.
		HTTPClient: awshttp.NewBuildableClient(),
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

var tableSeq atomic.Int64

// newTable creates a table with string keys pk (hash) and sk (range), like
// the application's, under a name unique to this test binary run.
func (e *env) newTable(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d_%s", time.Now().UnixNano()%1e9, tableSeq.Add(1), sanitize(t.Name()))
	if len(name) > 200 {
		name = name[:200]
	}
	_, err := e.client.CreateTable(ctx(t), &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatalf("CreateTable %s: %v", name, err)
	}
	e.waitActive(t, name)
	return name
}

// waitActive waits until dynalite reports the table ACTIVE (even with
// --createTableMs 0 it is CREATING until the next tick).
func (e *env) waitActive(t *testing.T, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := e.client.DescribeTable(ctx(t), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err == nil && out.Table.TableStatus == types.TableStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s not active after 10s (last error: %v)", name, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			return r
		}
		return '_'
	}, s)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// Attribute value shorthands.
func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
}

func item(pk, sk string, attrs ...any) map[string]types.AttributeValue {
	m := key(pk, sk)
	for i := 0; i+1 < len(attrs); i += 2 {
		m[attrs[i].(string)] = attrs[i+1].(types.AttributeValue)
	}
	return m
}

func (e *env) put(t *testing.T, table string, it map[string]types.AttributeValue) {
	t.Helper()
	if _, err := e.client.PutItem(ctx(t), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
}

// get reads an item directly from dynalite (nil if missing).
func (e *env) get(t *testing.T, table, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.direct.GetItem(ctx(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

func numAttr(t *testing.T, it map[string]types.AttributeValue, name string) string {
	t.Helper()
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("attribute %s is %#v, want a number", name, it[name])
	}
	return v.Value
}

func strAttr(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// errorCode is the API error code of err, or "" if it is not an API error.
func errorCode(err error) string {
	var apiErr interface{ ErrorCode() string }
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
