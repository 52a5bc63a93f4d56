// The store view's schedules: the recurring schedules of the store the page
// is about (an operator's every-store view lists every store's), each with
// its next run, how its last runs went and its state, and Run now,
// Disable/Enable and Delete. A schedule that paused itself after failed
// runs says why, and is enabled again from its card. Schedules are created
// with the "Start a job" form (start.js).
//
// The list is read when the page opens, after each action on it or the
// form, when a job ends (a new card in recent activity), when the viewer
// clicks Refresh or comes back to the tab, and once a little after the
// earliest next run. It never polls: an idle page asks nothing.
import {
  $, el, api, ApiError, describeError, jobTitle, jobURL, statusBadge, timeElement, dayAndTime, sentence,
  syncList, oneAtATime, typeInWords, isActive, onJobEnded,
} from "./common.js";
import { scheduleTitle } from "./start.js";

// RUNS_SHOWN is how many of a schedule's last runs its card shows (the API
// keeps ten).
const RUNS_SHOWN = 3;

const OUTCOMES = { started: "Started", skipped: "Skipped", caught_up: "Caught up", run_now: "Run by hand" };

// EXPLAINED_OUTCOMES are the runs whose message says what happened.
const EXPLAINED_OUTCOMES = ["skipped", "caught_up"];

// SWEEP_SLACK is how long after a due time the list is read again: the
// sweep that starts a due schedule's job runs once a minute.
const SWEEP_SLACK = 90 * 1000;

// DUE_HORIZON bounds the wait for a due time, within what setTimeout can
// wait; a later one is watched from a later refresh.
const DUE_HORIZON = 20 * 24 * 60 * 60 * 1000;

// setUpSchedules shows the schedules and returns refresh, which reads them
// again; started is told when a job started (Run now, or a due schedule),
// for the page to follow it.
export function setUpSchedules(operator, storeID, started) {
  $("schedules").hidden = false;
  const scope = storeID ? "?store_id=" + encodeURIComponent(storeID) : "";
  const result = $("schedules-result");
  let dueTimer = 0;
  let titles = []; // how the page titles the jobs of the schedules' types: "Dev Simulate #"

  const refresh = oneAtATime(async () => {
    const problem = $("schedules-problem");
    try {
      const answer = await api("/api/schedules" + scope);
      show(answer.schedules);
      problem.hidden = true;
    } catch (err) {
      problem.textContent = "Could not show the schedules: " + describeError(err);
      problem.hidden = false;
    }
  });

  function show(schedules) {
    $("schedules-empty").hidden = schedules.length > 0;
    syncList($("schedule-list"), schedules, (s) => s.id, createCard, updateCard);
    titles = [...new Set(schedules.map((s) => typeInWords(s.type) + " #"))];
    watchDue(schedules);
  }

  function createCard(schedule) {
    const run = el("button", { type: "button", class: "small run-now" }, "Run now");
    const toggle = el("button", { type: "button", class: "small toggle-enabled" });
    const remove = el("button", { type: "button", class: "small delete" }, "Delete");
    const enableAgain = el("button", { type: "button", class: "small enable-again" }, "Enable again");
    const card = el("li", { class: "job-card schedule-card", id: "schedule-" + schedule.id },
      el("div", { class: "job-line" },
        el("span", { class: "job-title schedule-title" }),
        operator ? el("span", { class: "muted store-name" }, schedule.store_id) : null,
        el("span", { class: "priority" }),
        el("span", { class: "schedule-state" })),
      el("p", { class: "schedule-description" }),
      el("p", { class: "schedule-paused" }, el("span", { class: "error-text paused-reason" }), enableAgain),
      el("div", { class: "job-foot" },
        el("p", { class: "job-detail schedule-next" }),
        el("div", { class: "schedule-actions" }, run, toggle, remove)),
      el("ul", { class: "schedule-runs" }));
    // The buttons act on the schedule as the card last showed it.
    run.addEventListener("click", () => runNow(card.schedule, run));
    toggle.addEventListener("click", () => setEnabled(card.schedule, !card.schedule.enabled, toggle));
    enableAgain.addEventListener("click", () => setEnabled(card.schedule, true, enableAgain));
    remove.addEventListener("click", () => deleteSchedule(card.schedule, remove));
    return card;
  }

  function updateCard(node, schedule) {
    node.schedule = schedule;
    const state = stateOf(schedule);
    node.dataset.state = state;
    const title = node.querySelector(".schedule-title");
    title.textContent = scheduleTitle(schedule);
    title.title = schedule.type;
    node.querySelector(".priority").textContent = schedule.priority;
    const badge = node.querySelector(".schedule-state");
    badge.dataset.state = state;
    badge.textContent = STATE_LABELS[state];
    node.querySelector(".schedule-description").textContent = sentence(schedule.description);
    const paused = node.querySelector(".schedule-paused");
    paused.hidden = state !== "paused";
    paused.querySelector(".paused-reason").textContent = "Paused: " + (schedule.paused_reason || "");
    const toggle = node.querySelector(".toggle-enabled");
    toggle.textContent = schedule.enabled ? "Disable" : "Enable";
    // A paused schedule is enabled again from the line that says why.
    toggle.hidden = state === "paused";

    const next = node.querySelector(".schedule-next");
    const nextKey = JSON.stringify([state, schedule.next_run_at]);
    if (next.dataset.key !== nextKey) {
      next.dataset.key = nextKey;
      next.replaceChildren(...nextRun(schedule, state));
    }
    const runs = node.querySelector(".schedule-runs");
    const shown = (schedule.last_runs || []).slice(0, RUNS_SHOWN);
    const runsKey = JSON.stringify(shown);
    if (runs.dataset.key !== runsKey) {
      runs.dataset.key = runsKey;
      runs.setAttribute("aria-label", "Last runs of " + scheduleTitle(schedule));
      runs.replaceChildren(...shown.map((r) => runItem(r, schedule.type)));
    }
  }

  // watchDue reads the list again a little after the earliest next run,
  // when the sweep has started its job, and has the page look for that
  // job: a page left open shows the night's export when it starts. A next
  // run already past sets no timer, so a late sweep never has the page
  // ask again and again. An operator's every-store view does not watch:
  // with every store's schedules, one comes due nearly every minute.
  function watchDue(schedules) {
    clearTimeout(dueTimer);
    if (operator && !storeID) return;
    const now = Date.now();
    const next = Math.min(...schedules.filter((s) => s.enabled && s.next_run_at)
      .map((s) => Date.parse(s.next_run_at)).filter((t) => t > now));
    if (!Number.isFinite(next) || next - now > DUE_HORIZON) return;
    dueTimer = setTimeout(() => {
      refresh();
      started();
    }, next - now + SWEEP_SLACK);
  }

  const path = (schedule) => "/api/schedules/" + encodeURIComponent(schedule.id);

  async function runNow(schedule, button) {
    const title = scheduleTitle(schedule);
    const alreadyRunning = (job) => result.replaceChildren(`${title} is already running: `,
      el("a", { href: jobURL(job) }, jobTitle(job)), ". It can run again once that one ends.");
    button.disabled = true;
    try {
      const { job } = await api(path(schedule) + "/run", { method: "POST" });
      // Run again within the same minute, the API answers with the job the
      // first click started: that one is still the store's job of the type.
      if ((schedule.last_runs || []).some((r) => r.job_id === job.id) && isActive(job)) {
        alreadyRunning(job);
      } else {
        result.replaceChildren(`Started ${title} now: `, el("a", { href: jobURL(job) }, jobTitle(job)),
          ". Its progress shows under Active jobs; the schedule's next run stays as it was.");
      }
      started();
    } catch (err) {
      // As the start form does: one job of a type at a time, and a link to it.
      if (err instanceof ApiError && err.code === "job_already_active") {
        alreadyRunning({ id: err.body.error.existing_job_id, type: schedule.type });
      } else {
        result.textContent = `Could not run ${title}: ${describeError(err)}`;
      }
    }
    // The button waits for the card to show the run, which a second click
    // is recognised by.
    await refresh();
    button.disabled = false;
  }

  async function setEnabled(schedule, enabled, button) {
    const title = scheduleTitle(schedule);
    button.disabled = true;
    try {
      const changed = (await api(path(schedule), { method: "PATCH", body: { enabled } })).schedule;
      if (enabled) {
        const next = changed.next_run_at ? `: next run ${dayAndTime(new Date(changed.next_run_at))}` : "";
        result.textContent = `Enabled ${title}${next}.`;
      } else {
        result.textContent = `Disabled ${title}: nothing comes due until it is enabled again.`;
      }
    } catch (err) {
      result.textContent = `Could not ${enabled ? "enable" : "disable"} ${title}: ${describeError(err)}`;
    } finally {
      button.disabled = false;
    }
    await refresh();
  }

  async function deleteSchedule(schedule, button) {
    const title = scheduleTitle(schedule);
    if (!confirm(`Delete the schedule ${title}, ${schedule.description}? The jobs it started are kept.`)) return;
    button.disabled = true;
    try {
      await api(path(schedule), { method: "DELETE" });
      result.textContent = `Deleted the schedule ${title}, ${schedule.description}.`;
    } catch (err) {
      result.textContent = `Could not delete ${title}: ${describeError(err)}`;
      button.disabled = false;
    }
    await refresh();
  }

  // A job of a schedule's type that ended may be one of its runs, whose
  // status its card shows; other jobs change nothing here.
  onJobEnded(() => titles, refresh);
  // Coming back to the tab, the schedules may have run meanwhile.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
  // "in 6 h" follows the page's clock; this asks the API nothing.
  setInterval(() => {
    for (const node of document.querySelectorAll("#schedule-list [data-from-now]")) {
      node.textContent = fromNow(node.dataset.fromNow);
    }
  }, 30 * 1000);
  refresh();
  return refresh;
}

const STATE_LABELS = { enabled: "Enabled", disabled: "Disabled", paused: "Paused" };

// stateOf is a schedule's state: a disabled schedule with a reason paused
// itself after failed runs.
function stateOf(schedule) {
  if (schedule.enabled) return "enabled";
  return schedule.paused_reason ? "paused" : "disabled";
}

// nextRun says when a schedule runs next, in the viewer's time zone and
// from now, or why it does not.
function nextRun(schedule, state) {
  if (state === "paused") return ["No next run while paused."];
  if (state === "disabled") return ["Disabled: no next run until enabled again."];
  if (!schedule.next_run_at) return ["No next run."];
  const iso = schedule.next_run_at;
  return ["Next run ", el("time", { datetime: iso, title: iso }, dayAndTime(new Date(iso))), " · ",
    el("span", { class: "from-now", "data-from-now": iso }, fromNow(iso))];
}

// fromNow: "in 40 min", "in 6 h", "in 3 days".
function fromNow(iso) {
  const minutes = Math.round((Date.parse(iso) - Date.now()) / 60000);
  if (minutes <= 0) return "due now";
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} days`;
}

// runItem is one of a schedule's last runs (due, or run by hand): how it
// went and when, the job it started (or, skipped, the active job it waited
// for) with that job's status now, and the schedule's words for a skipped
// or caught-up run.
function runItem(run, type) {
  const parts = [el("span", { class: "run-outcome" }, OUTCOMES[run.outcome] || run.outcome), " ", timeElement(run.handled_at || run.due_at)];
  if (run.job_id) {
    const job = { id: run.job_id, type };
    if (run.job_status) {
      parts.push(" · ", el("a", { href: jobURL(job) }, jobTitle(job)), " ", statusBadge(run.job_status));
    } else {
      parts.push(" · ", el("span", { class: "muted" }, jobTitle(job) + " (no longer kept)"));
    }
  }
  if (run.message && EXPLAINED_OUTCOMES.includes(run.outcome)) parts.push(el("p", { class: "run-message" }, sentence(run.message)));
  return el("li", { class: "schedule-run", "data-outcome": run.outcome, "data-job": run.job_id || "" }, ...parts);
}
