package systemtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/testenv"
)

var devserver struct {
	once sync.Once
	path string
	err  error
	dir  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if devserver.dir != "" {
		os.RemoveAll(devserver.dir)
	}
	os.Exit(code)
}

// devserverBinary builds cmd/devserver once per test run: the tests that
// kill a worker need it as a process of its own.
func devserverBinary(t *testing.T) string {
	t.Helper()
	devserver.once.Do(func() {
		devserver.dir, devserver.err = os.MkdirTemp("", "devserver-bin-")
		if devserver.err != nil {
			return
		}
		devserver.path = filepath.Join(devserver.dir, "devserver")
		out, err := exec.Command("go", "build", "-o", devserver.path, "github.com/dainostore/jobs/cmd/devserver").CombinedOutput()
		if err != nil {
			devserver.err = fmt.Errorf("build devserver: %v\n%s", err, out)
		}
	})
	if devserver.err != nil {
		t.Fatal(devserver.err)
	}
	return devserver.path
}

// workerProcess is the local process running on a test's resources.
type workerProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startWorkerProcess runs cmd/devserver on the test's tables, queues,
// bucket and key, without a sandbox of its own: a test that needs the outside
// systems passes their endpoints.
func startWorkerProcess(t *testing.T, env *testenv.Env, extraEnv ...string) *workerProcess {
	t.Helper()
	cmd := exec.Command(devserverBinary(t))
	cmd.Env = append(os.Environ(),
		"JOBS_TABLE_NAME="+env.Config.TableName,
		"JOBS_QUEUE_PREFIX="+env.Config.QueuePrefix,
		"JOBS_CATALOG_TABLE_NAME="+env.Config.CatalogTableName,
		"JOBS_IMAGES_BUCKET="+env.Config.ImagesBucket,
		"JOBS_CONNECTIONS_KEY_ID="+env.Config.ConnectionsKeyID,
		"JOBS_SANDBOX_ADDR=off",
		"JOBS_HTTP_ADDR=127.0.0.1:0",
		"JOBS_LEASE="+env.Config.Lease.String(),
		"JOBS_EMPTY_POLL_WAIT=0",
		"JOBS_LOG_LEVEL=warn",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &workerProcess{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	return p
}

// kill ends the process with SIGKILL: no shutdown, no hand-over.
func (p *workerProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	defer func() { _ = recover() }() // the test may have ended
	w.t.Logf("devserver: %s", b)
	return len(b), nil
}

func TestWorkerKilledMidJobResumesInAnotherWorker(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.Lease = 5 * time.Second
	env.Config.SweepInterval = time.Second
	proc := startWorkerProcess(t, env)
	a := env.App(t, app.Overrides{})
	ctx := withTimeout(t, 3*time.Minute)

	j := createDirect(t, a, "killed", map[string]any{"steps": 30, "step_ms": 200})
	eventually(t, 90*time.Second, func() error {
		got, err := a.Jobs.Get(ctx, j.ID)
		if err != nil {
			return err
		}
		if got.Progress < 20 {
			return fmt.Errorf("progress %d", got.Progress)
		}
		return nil
	})
	proc.kill()
	atKill, err := a.Jobs.Get(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if atKill.Status != "running" {
		t.Fatalf("job is %s when its worker was killed", atKill.Status)
	}

	// Another worker, in this process, takes over once the lease expires.
	base := testenv.Serve(t, a)
	waitForStatus(t, base, j.ID, "completed")
	done, result := simulateResult(t, a, j.ID)
	if done.Attempts != 2 {
		t.Errorf("attempts = %d, want 2: the killed run counts as a failed attempt", done.Attempts)
	}
	if result.StepRuns != 30 {
		t.Errorf("step runs = %d for 30 steps: the job did not resume from its checkpoint (progress at kill %d%%)", result.StepRuns, atKill.Progress)
	}
}
