package browsertest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dainostore/jobs/internal/job"
	"github.com/dainostore/jobs/internal/jobtable"
	"github.com/dainostore/jobs/internal/testenv"
)

// jobRows is a JavaScript expression: the job dashboard's table rows.
const jobRows = `[...document.querySelectorAll("#jobs-body tr")]`

// rowOf is the row of the job with the given id.
func rowOf(id string) string {
	return jobRows + `.find(r => r.querySelector("a").href.endsWith("/" + ` + "`" + id + "`" + `))`
}

func TestJobDashboardFiltersAndControlsTheQueue(t *testing.T) {
	b := setup(t)
	operator := testenv.OperatorToken(t)
	north, south, east := testenv.StoreToken(t, "north"), testenv.StoreToken(t, "south"), testenv.StoreToken(t, "east")
	b.connect("north")
	b.connect("south")
	done := []string{
		b.createJob(north, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 2, "step_ms": 50}}),
		b.createJob(south, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 2, "step_ms": 50}}),
		b.createJob(north, map[string]any{"type": "akeneo:import:all"}),
	}
	failed := b.createJob(east, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 2, "fail_attempts": 1, "fail_with": "permanent"}})
	for _, id := range done {
		b.waitForJob(id, "completed")
	}
	b.waitForJob(failed, "failed")

	b.open("/dashboard/jobs", operator)
	b.waitUntil("every store's jobs", jobRows+`.length === 4 && `+rowOf(failed)+`?.querySelector(".status").textContent === "Failed"`)
	b.waitUntil("queue health", `document.getElementById("running-max").textContent === "5" && document.getElementById("queue-state").textContent === "Running"`)
	if got := b.text("#success-rate"); got != "75.00%" {
		t.Errorf("success rate %q, want 75.00%% (3 of 4)", got)
	}
	if got := b.text("#success-rating"); got != "poor" {
		t.Errorf("success rating %q, want the guide's poor (below 80%%)", got)
	}
	b.waitUntil("the charts", `["chart-success", "chart-throughput", "chart-runtime", "chart-wait"].every(id => document.querySelector("#" + id + " canvas"))`)
	b.waitUntil("the grouped failure", `document.getElementById("failure-groups").innerText.includes("simulated permanent failure: validation failed")`)

	// Filters: by store, by status, by a date range with nothing in it.
	b.setValue("#filter-store", "north")
	b.click(`#filters button[type="submit"]`)
	b.waitUntil("north's jobs only", jobRows+`.length === 2 && `+jobRows+`.every(r => r.querySelector(".col-store").textContent === "north") && location.search === "?store_id=north"`)
	b.click("#filters-clear")
	b.setValue("#filter-status", "failed")
	b.click(`#filters button[type="submit"]`)
	b.waitUntil("the failed job only", jobRows+`.length === 1 && `+rowOf(failed))
	b.click("#filters-clear")
	b.do(evalAction(`(() => { const d = new Date(Date.now() + 3600e3); const p = n => String(n).padStart(2, "0");
		document.getElementById("filter-from").value = d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes()) + ":00"; })()`))
	b.click(`#filters button[type="submit"]`)
	b.waitUntil("no jobs in the future", jobRows+`.length === 0 && document.getElementById("jobs-empty").textContent === "No jobs match these filters."`)
	b.click("#filters-clear")
	b.waitUntil("every job again", jobRows+`.length === 4`)

	// The hourly cleanup, started from the dashboard, runs among the stores' jobs.
	b.click("#run-cleanup")
	b.waitUntil("the cleanup to start", `document.getElementById("control-result").textContent.startsWith("Cleanup started: System Cleanup #")`)
	b.waitUntil("the cleanup to complete", jobRows+`.length === 5 && `+jobRows+`.some(r => r.querySelector(".col-store").textContent === "platform" && r.querySelector(".status").textContent === "Completed")`)

	// Pause: a new import waits. Resume: it runs, reads two pages of the
	// shop's 60 products, and holds there until the test has seen it run.
	b.click("#pause-toggle")
	b.waitUntil("the queue to pause", `document.getElementById("queue-state").textContent === "Paused" && document.getElementById("pause-toggle").textContent === "Resume queue"`)
	b.pages.hold()
	b.pages.allow(2)
	waiting := b.createJob(south, map[string]any{"type": "shopify:import:products"})
	b.click("#refresh")
	b.waitUntil("the new job to wait", rowOf(waiting)+`?.querySelector(".status").textContent === "Pending"`)
	if _, out := b.call(http.MethodGet, "/api/background-jobs/"+waiting+"/status", operator, nil); out["job"].(map[string]any)["status"] != "pending" {
		t.Errorf("a job ran while the queue was paused: %v", out)
	}
	b.click("#pause-toggle")
	b.waitUntil("the queue to resume", `document.getElementById("queue-state").textContent === "Running"`)
	b.waitForProgress(waiting, "Importing products: 20/60")
	b.click("#refresh")
	b.waitUntil("the import to run", rowOf(waiting)+`?.querySelector(".status").textContent === "Running" && parseInt(`+rowOf(waiting)+`.querySelector(".percent").textContent) === 33`)
	b.screenshot("job-dashboard")
	// On a phone the page fits the screen's width (wide tables scroll in their own box).
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	b.waitUntil("the phone layout", `document.documentElement.clientWidth <= 400 && document.documentElement.scrollWidth <= 400`)
	b.do(chromedp.EmulateViewport(1280, 900))
	b.pages.release()
	b.waitUntil("the import to complete", rowOf(waiting)+`?.querySelector(".status").textContent === "Completed"`)

	// A store token is told the dashboard is for operators.
	b.open("/dashboard/jobs", north)
	b.waitUntil("the operators-only notice", `!document.getElementById("operator-only").hidden && document.getElementById("operator-view").hidden`)
	if got := b.text("#operator-only"); !strings.Contains(got, "needs an operator token") {
		t.Errorf("a store token on the job dashboard sees %q", got)
	}
}

func TestJobDashboardPagesThroughJobsNewestFirst(t *testing.T) {
	b := setup(t)
	// Saved but never enqueued: they stay pending, in a known order.
	t0 := time.Now().Add(-time.Hour)
	for i := range 30 {
		j := &job.Job{
			ID: fmt.Sprintf("paged-%02d", i), StoreID: fmt.Sprintf("store-%02d", i), Type: "dev:simulate",
			Status: job.StatusPending, Priority: job.PriorityNormal, PriorityLevel: int(job.PriorityNormal),
			Payload: []byte("{}"), MaxAttempts: 4, CreatedAt: job.NewTime(t0.Add(time.Duration(i) * time.Second)),
		}
		if _, _, err := b.app.Jobs.Create(t.Context(), jobtable.CreateRequest{Job: j}); err != nil {
			t.Fatal(err)
		}
	}
	b.open("/dashboard/jobs", testenv.OperatorToken(t))
	b.waitUntil("the first page", jobRows+`.length === 25 && `+rowOf("paged-29")+` && !`+rowOf("paged-04")+` && !document.getElementById("page-older").disabled`)
	b.click("#page-older")
	b.waitUntil("the second page", jobRows+`.length === 5 && `+rowOf("paged-04")+` && `+rowOf("paged-00")+` && document.getElementById("page-older").disabled`)
	if got := b.text("#page-label"); got != "Page 2" {
		t.Errorf("page label %q", got)
	}
	b.click("#page-newer")
	b.waitUntil("the first page again", jobRows+`.length === 25 && `+rowOf("paged-29")+` && document.getElementById("page-newer").disabled`)

	// Start the cleanup from the dashboard.
	b.click("#run-cleanup")
	b.waitUntil("the cleanup to start", `document.getElementById("control-result").textContent.startsWith("Cleanup started: System Cleanup #")`)
}
