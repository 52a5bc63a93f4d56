package browsertest

import (
	"strings"
	"testing"

	"github.com/dainostore/jobs/internal/sandbox/shopifyfake"
	"github.com/dainostore/jobs/internal/testenv"
)

const timelineText = `document.getElementById("timeline").innerText`

func TestJobPageTellsTheJobsStoryAndActsOnIt(t *testing.T) {
	b := setup(t)
	store := testenv.StoreToken(t, "north")
	b.connect("north")

	// An import whose first attempt met an incident at Shopify halfway:
	// it read three of the six pages, then the fourth answered 503. Its
	// second attempt goes on from the fourth page.
	b.pages.hold()
	b.pages.allow(3)
	retried := b.createJob(store, map[string]any{"type": "shopify:import:products", "payload": map[string]any{}})
	b.waitForProgress(retried, "Importing products: 30/60")
	b.box.Shopify.SetFaults(shopifyfake.Faults{ServerErrorsNext: 1})
	b.pages.release()
	b.waitForJob(retried, "completed")
	b.open("/dashboard/jobs/"+retried, store)
	b.waitUntil("the whole story", timelineText+`.includes("Completed") && document.getElementById("log-lines").children.length > 0`)
	story := eval[string](b, timelineText)
	for _, want := range []string{
		"Created", "Attempt 1 started", "Attempt 1 failed, retry scheduled", "Products query: HTTP 503",
		"Attempt 2 resumed from its checkpoint", "after waiting", "at 50%", "Completed",
	} {
		if !strings.Contains(story, want) {
			t.Errorf("the timeline lacks %q:\n%s", want, story)
		}
	}
	if got := b.text("#job-title"); !strings.HasPrefix(got, "Shopify Import Products #") {
		t.Errorf("title %q", got)
	}
	if got := b.text("#job-facts"); !strings.Contains(got, "Attempts\n2 of 4") {
		t.Errorf("facts lack the attempts:\n%s", got)
	}
	if got := b.text("#job-result"); !strings.Contains(got, `"processed": 60`) || !strings.Contains(got, `"failed_items"`) {
		t.Errorf("result %q, want the products' counts and the items that failed", got)
	}
	if !eval[bool](b, `document.getElementById("cancel-job").hidden && document.getElementById("retry-job").hidden`) {
		t.Error("a completed job offers cancel or retry")
	}
	logs := `[...document.querySelectorAll("#log-lines tr")]`
	if !eval[bool](b, logs+`.some(r => r.innerText.includes("retry_scheduled")) && `+logs+`.some(r => r.innerText.includes("progress"))`) {
		t.Errorf("the log lacks the retry or the progress lines:\n%s", b.text("#log-lines"))
	}
	// A long value in a log line (the import's cursor) wraps: the lines
	// fit the page, their last column in view.
	if !eval[bool](b, `(box => box.scrollWidth <= box.clientWidth)(document.querySelector("table.logs").parentElement)`) {
		t.Error("the log lines are wider than their box")
	}
	b.screenshot("job-page")
	b.do(evalAction(`(() => { const s = document.getElementById("log-level"); s.value = "warn"; s.dispatchEvent(new Event("change")); })()`))
	b.waitUntil("warnings only", logs+`.length > 0 && `+logs+`.every(r => ["warn", "error"].includes(r.children[1].textContent))`)

	// Cancel a running job from its page, then run it again from the start.
	// Its steps wait for the test: it runs four of them and holds there, so
	// it is still running when the cancel comes.
	b.simulations.hold()
	b.simulations.allow(4)
	long := b.createJob(store, map[string]any{"type": "dev:simulate", "payload": map[string]any{"steps": 40, "step_ms": 100}})
	b.open("/dashboard/jobs/"+long, store)
	b.waitUntil("the job to run", `document.querySelector("#job-status .status").textContent === "Running" && parseInt(document.querySelector("#job-progress .percent").textContent) === 10`)
	b.click("#cancel-job")
	b.waitUntil("the cancel to be requested", `document.getElementById("action-result").textContent === "Cancel requested: the job stops at its next progress update."`)
	b.simulations.release()
	b.waitUntil("the job to end cancelled", `document.querySelector("#job-status .status").textContent === "Cancelled" && !document.getElementById("retry-job").hidden`)
	if story := eval[string](b, timelineText); !strings.Contains(story, "Cancel requested") || !strings.Contains(story, "Cancelled") {
		t.Errorf("the timeline does not tell of the cancel:\n%s", story)
	}
	// The new run holds at its first step, so the page shows it under way.
	b.simulations.hold()
	b.click("#retry-from-start")
	b.waitUntil("the job to run again", `document.getElementById("action-result").textContent.startsWith("Retrying from the start") && `+
		`["Pending", "Running"].includes(document.querySelector("#job-status .status").textContent) && `+timelineText+`.includes("Retried with fresh attempts")`)

	// Someone else's job is not found.
	b.open("/dashboard/jobs/"+long, testenv.StoreToken(t, "south"))
	b.waitUntil("not found", `!document.getElementById("job-missing").hidden && document.getElementById("job-view").hidden`)
}
