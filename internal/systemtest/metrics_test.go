package systemtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dainostore/jobs/internal/app"
	"github.com/dainostore/jobs/internal/emf"
	"github.com/dainostore/jobs/internal/histogram"
	"github.com/dainostore/jobs/internal/testenv"
	"github.com/dainostore/jobs/internal/worker"
)

// sameBucket reports whether an estimate is within the histogram resolution
// of the exact value.
func sameBucket(estimateMS int64, exact time.Duration) bool {
	lower, upper := histogram.Range(histogram.Bucket(exact))
	est := time.Duration(estimateMS) * time.Millisecond
	return est >= lower-time.Millisecond && est <= upper+time.Millisecond
}

func TestMetricsPerDayAndTypeAgreeWithTheJobs(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	a := env.App(t, app.Overrides{})
	base := testenv.Serve(t, a)

	// Nine jobs of varied length; three fail for good.
	var ids []string
	for i := range 9 {
		payload := map[string]any{"steps": 1 + i%3, "step_ms": 40 * (i + 1)}
		if i%3 == 2 {
			payload["fail_attempts"], payload["fail_with"] = 1, "permanent"
		}
		ids = append(ids, createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": fmt.Sprintf("metrics-%d", i%2), "payload": payload}))
		waitForStatus(t, base, ids[i], map[bool]string{true: "failed", false: "completed"}[i%3 == 2])
	}
	var runTimes, waits []time.Duration
	for _, id := range ids {
		j, err := a.Jobs.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, j.StartedAt.Sub(j.CreatedAt.Time))
		if j.Status == "completed" {
			runTimes = append(runTimes, j.FinishedAt.Sub(j.StartedAt.Time))
		}
	}

	status, out := call(t, http.MethodGet, base+"/api/background-jobs/metrics?days=2&type=dev:simulate", nil)
	if status != http.StatusOK {
		t.Fatalf("metrics: %d %v", status, out)
	}
	totals := out["by_type"].([]any)
	if len(totals) != 1 {
		t.Fatalf("by_type = %v, want one type", totals)
	}
	total := totals[0].(map[string]any)
	want := map[string]float64{"created": 9, "completed": 6, "failed": 3, "cancelled": 0, "success_rate": 66.67}
	for k, v := range want {
		if total[k] != v {
			t.Errorf("%s = %v, want %v", k, total[k], v)
		}
	}
	run := total["run_time_ms"].(map[string]any)
	wait := total["queue_wait_ms"].(map[string]any)
	if run["count"] != 6.0 || wait["count"] != 9.0 {
		t.Errorf("run times counted %v, waits %v; want 6 and 9", run["count"], wait["count"])
	}
	for name, c := range map[string]struct {
		values []time.Duration
		got    map[string]any
	}{"run time": {runTimes, run}, "queue wait": {waits, wait}} {
		sort.Slice(c.values, func(i, j int) bool { return c.values[i] < c.values[j] })
		for q, key := range map[float64]string{0.5: "p50", 0.95: "p95"} {
			exact := c.values[int(float64(len(c.values))*q+0.999999)-1]
			if !sameBucket(int64(c.got[key].(float64)), exact) {
				t.Errorf("%s %s = %vms, exact %s: not within the bucket", name, key, c.got[key], exact)
			}
		}
	}

	// Per store, the figures split.
	_, one := call(t, http.MethodGet, base+"/api/background-jobs/metrics?store_id=metrics-0", nil)
	if created := one["by_type"].([]any)[0].(map[string]any)["created"]; created != 5.0 {
		t.Errorf("store metrics-0 created %v jobs, want 5", created)
	}
	today, yesterday := time.Now().UTC().Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	if series := out["series"].([]any); len(series) < 1 || (series[len(series)-1].(map[string]any)["date"] != today && series[len(series)-1].(map[string]any)["date"] != yesterday) {
		t.Errorf("series = %v, want the latest day's figures last", series)
	}
}

func TestWorkerEmitsEmbeddedMetricFormatLines(t *testing.T) {
	t.Parallel()
	env := testenv.New(t)
	lines := &safeBuffer{}
	a := env.App(t, app.Overrides{WorkerConfig: worker.Config{Metrics: emf.NewWriter(lines, emf.Namespace)}})
	base := testenv.Serve(t, a)

	done := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "emf", "priority": "high", "payload": map[string]any{"steps": 2, "step_ms": 20}})
	failed := createJob(t, base, map[string]any{"type": "dev:simulate", "store_id": "emf-2", "payload": map[string]any{"steps": 2, "fail_attempts": 1, "fail_with": "permanent"}})
	waitForStatus(t, base, done, "completed")
	waitForStatus(t, base, failed, "failed")

	seen := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(lines.String()), "\n") {
		var record map[string]any
		if err := json.Unmarshal([]byte(line), &record); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		seen[record["job_id"].(string)] = record
	}
	completed := seen[done]
	if completed == nil || completed["JobsCompleted"] != 1.0 || completed["JobType"] != "dev:simulate" || completed["Priority"] != "high" || completed["Duration"] == nil || completed["QueueWait"] == nil {
		t.Errorf("completed job's line = %v", completed)
	}
	if aws, _ := completed["_aws"].(map[string]any); aws == nil || aws["CloudWatchMetrics"].([]any)[0].(map[string]any)["Namespace"] != emf.Namespace {
		t.Errorf("no EMF metadata in %v", completed)
	}
	if f := seen[failed]; f == nil || f["JobsFailed"] != 1.0 {
		t.Errorf("failed job's line = %v", f)
	}
}
