package systemtest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/testenv"
)

// readLog reads a job's whole log through the API, page by page.
func readLog(t *testing.T, base, id, level string) []map[string]any {
	t.Helper()
	var entries []map[string]any
	cursor := ""
	for range 100 {
		url := fmt.Sprintf("%s/api/background-jobs/%s/logs?limit=3&level=%s&cursor=%s", base, id, level, cursor)
		status, page := call(t, http.MethodGet, url, nil)
		if status != http.StatusOK {
			t.Fatalf("logs: %d %v", status, page)
		}
		for _, e := range page["entries"].([]any) {
			entries = append(entries, e.(map[string]any))
		}
		if cursor, _ = page["next_cursor"].(string); cursor == "" {
			return entries
		}
	}
	t.Fatal("the log never ended")
	return nil
}

// The log of a job that failed, was retried and resumed, and was handed on
// at a deadline tells that story, in order.
func TestJobLogTellsWhatHappenedInOrder(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	env.Config.RetryDelays = []time.Duration{time.Second}
	env.Config.WorkerTimeout = 4 * time.Second
	env.Config.DeadlineMargin = time.Second
	base := testenv.Serve(t, env.App(t, app.Overrides{}))

	// Attempt 1 fails halfway; attempt 2 resumes and outlives one invocation.
	id := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "storyteller", "payload": map[string]any{"steps": 32, "step_ms": 250, "fail_attempts": 1}})
	waitForStatus(t, base, id, "completed")

	entries := readLog(t, base, id, "")
	var events []string
	var last time.Time
	for _, e := range entries {
		at, err := time.Parse(time.RFC3339Nano, e["at"].(string))
		if err != nil {
			t.Fatal(err)
		}
		if at.Before(last) {
			t.Errorf("log out of order: %v after %s", e, last)
		}
		last = at
		if event, ok := e["event"].(string); ok && event != "progress" && event != "checkpoint" {
			events = append(events, fmt.Sprintf("%s@%v", event, e["attempt"]))
		}
	}
	want := []string{"created@0", "claimed@1", "retry_scheduled@1", "resumed@2", "handed_on@2", "continued@2", "completed@2"}
	if !isSubsequence(events, want) {
		t.Errorf("lifecycle events %v do not tell %v in order", events, want)
	}
	for _, e := range entries {
		if e["event"] == "retry_scheduled" {
			if e["level"] != "warn" || !strings.Contains(e["message"].(string), "simulated failure") || !strings.Contains(e["message"].(string), "retry in 1s") {
				t.Errorf("retry line = %v, want its error and delay at warn level", e)
			}
		}
	}
	warnings := readLog(t, base, id, "warn")
	if len(warnings) != 1 || warnings[0]["event"] != "retry_scheduled" {
		t.Errorf("level=warn shows %v, want only the failed attempt", warnings)
	}
	if status, _ := call(t, http.MethodGet, base+"/api/background-jobs/"+id+"/logs?cursor=bogus", nil); status != http.StatusBadRequest {
		t.Errorf("a bogus cursor: %d, want 400", status)
	}
}

func isSubsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}
