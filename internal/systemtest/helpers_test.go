package systemtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/dispatch"
	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

// call sends a request to the API and decodes the JSON answer.
func call(t *testing.T, method, url string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = bytes.NewBufferString(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	// An operator, unless the test says who is calling.
	req.Header.Set("Authorization", "Bearer "+testenv.OperatorToken(t))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s answered %d with a body that is not a JSON object: %s", method, url, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// createJob creates a job and returns its id, failing the test on anything but 201.
func createJob(t *testing.T, base string, body map[string]any) string {
	t.Helper()
	status, out := call(t, http.MethodPost, base+"/api/background-jobs", body)
	if status != http.StatusCreated {
		t.Fatalf("create job: status %d, body %v", status, out)
	}
	return out["job"].(map[string]any)["id"].(string)
}

// jobStatus reads GET /api/background-jobs/{id}/status.
func jobStatus(t *testing.T, base, id string) map[string]any {
	t.Helper()
	status, out := call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/status", nil)
	if status != http.StatusOK {
		t.Fatalf("job status: %d %v", status, out)
	}
	return out["job"].(map[string]any)
}

// waitForStatus polls a job until it reaches the wanted status. The limit is
// generous: it guards against a hang, it does not measure speed.
func waitForStatus(t *testing.T, base, id, want string) map[string]any {
	t.Helper()
	var last map[string]any
	eventually(t, 90*time.Second, func() error {
		last = jobStatus(t, base, id)
		if last["status"] != want {
			return fmt.Errorf("job %s is %v (progress %v, error %v), want %s", id, last["status"], last["progress"], last["error"], want)
		}
		return nil
	})
	return last
}

// eventually retries check until it passes or the limit is reached.
func eventually(t *testing.T, limit time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after %s: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keys returns the keys of a JSON object, to compare response shapes.
func hasKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s has no %q field: %v", what, k, obj)
		}
	}
}

func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// createDirect creates a dev:simulate job without going through HTTP.
func createDirect(t *testing.T, a *app.App, storeID string, payload map[string]any) *job.Job {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	j, _, err := a.Dispatcher.Create(context.Background(), dispatch.Request{StoreID: storeID, Type: "dev:simulate", Payload: data})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// recount counts jobs by status: what the counters must say.
func recount(jobs []*job.Job) jobtable.Counts {
	var c jobtable.Counts
	for _, j := range jobs {
		c.Total++
		switch j.Status {
		case job.StatusPending:
			c.Pending++
		case job.StatusRunning:
			c.Running++
		case job.StatusRetrying:
			c.Retrying++
		case job.StatusCompleted:
			c.Completed++
		case job.StatusFailed:
			c.Failed++
		case job.StatusCancelled:
			c.Cancelled++
		}
	}
	return c
}

// dispatchRequest is a request for a job of a type, with an empty payload.
func dispatchRequest(storeID, jobType string) dispatch.Request {
	return dispatch.Request{StoreID: storeID, Type: jobType}
}
