// The job dashboard, for operators: queue health and control, alerts, every
// store's jobs with filters and pages, and performance charts.
import {
  $, el, config, boot, api, Poller, announce, isOperator, ApiError, describeError,
  jobTitle, jobURL, statusBadge, setStatus, progressBar, setProgress, countdown,
  timeElement, formatDuration, ranFor, syncList, typeInWords, isActive,
} from "./common.js";
import { drawCharts } from "./charts.js";

const PAGE_SIZE = 25;
const FILTERS = ["store_id", "type", "status", "from", "to"];
// Alerts and charts change slowly: they are read every this many polls.
const SLOW_EVERY = 15;

boot((claims) => {
  if (!isOperator(claims)) {
    $("operator-only").hidden = false;
    $("operator-view").hidden = true;
    $("refresh").hidden = true;
    return;
  }
  let cursors = [""]; // the cursor of each page shown so far; the last is the current page
  let nextCursor = "";
  let polls = 0;
  let paused = false;
  let live = false;

  const poller = new Poller(async () => {
    // While nothing is live every refresh is the viewer's: show everything fresh.
    const slow = polls++ % SLOW_EVERY === 0 || !live;
    const [status, page] = await Promise.all([
      api("/api/background-jobs/status"),
      loadPage(),
      slow ? loadSlow() : null,
    ]);
    showHealth(status);
    showPage(page);
    const s = status.statistics;
    live = s.pending + s.running + (s.retrying || 0) > 0 || page.jobs.some(isActive);
    return live;
  }, { interval: 2000 });

  // ---- Filters and pages ----

  const typeSelect = $("filter-type");
  for (const t of config.job_types) typeSelect.append(el("option", { value: t.type }, `${typeInWords(t.type)} (${t.type})`));

  // The filters live in the address, so a filtered view can be shared.
  function filtersFromAddress() {
    const params = new URLSearchParams(location.search);
    $("filter-store").value = params.get("store_id") || "";
    typeSelect.value = params.get("type") || "";
    $("filter-status").value = params.get("status") || "";
    $("filter-from").value = toLocalInput(params.get("from"));
    $("filter-to").value = toLocalInput(params.get("to"));
  }

  function filtersQuery() {
    const params = new URLSearchParams(location.search);
    const query = new URLSearchParams();
    for (const name of FILTERS) {
      if (params.get(name)) query.set(name, params.get(name));
    }
    return query;
  }

  async function loadPage() {
    const query = filtersQuery();
    query.set("limit", PAGE_SIZE);
    const cursor = cursors[cursors.length - 1];
    if (cursor) query.set("cursor", cursor);
    try {
      const page = await api("/api/background-jobs?" + query);
      $("filter-error").textContent = "";
      return page;
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        $("filter-error").textContent = "These filters do not work: " + describeError(err);
        return { jobs: [], next_cursor: "" };
      }
      throw err;
    }
  }

  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    const values = {
      store_id: $("filter-store").value.trim(),
      type: typeSelect.value,
      status: $("filter-status").value,
      from: fromLocalInput($("filter-from").value),
      to: fromLocalInput($("filter-to").value),
    };
    for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
    history.replaceState(null, "", location.pathname + (params.size ? "?" + params : ""));
    cursors = [""];
    poller.now();
  });
  $("filters-clear").addEventListener("click", () => {
    history.replaceState(null, "", location.pathname);
    filtersFromAddress();
    cursors = [""];
    poller.now();
  });
  $("page-older").addEventListener("click", () => {
    cursors.push(nextCursor);
    poller.now();
  });
  $("page-newer").addEventListener("click", () => {
    if (cursors.length > 1) cursors.pop();
    poller.now();
  });

  function showPage(page) {
    nextCursor = page.next_cursor;
    const filtered = filtersQuery().size > 0;
    $("jobs-empty").hidden = page.jobs.length > 0;
    $("jobs-empty").textContent = filtered ? "No jobs match these filters." : cursors.length > 1 ? "No older jobs." : "No jobs yet.";
    syncList($("jobs-body"), page.jobs, (j) => j.id, createRow, updateRow);
    $("page-newer").disabled = cursors.length <= 1;
    $("page-older").disabled = !nextCursor;
    $("page-label").textContent = `Page ${cursors.length}`;
  }

  function createRow(job) {
    return el("tr", {},
      el("td", {}, el("a", { href: jobURL(job) }, jobTitle(job)), el("span", { class: "job-sub" }, job.type)),
      el("td", { class: "col-store" }, job.store_id),
      el("td", { class: "cell-status" }, statusBadge(job.status), el("span", { class: "cell-countdown" })),
      el("td", { class: "col-progress" }, progressBar("Progress of " + jobTitle(job))),
      el("td", { class: "col-priority" }, el("span", { class: "priority" }, job.priority)),
      el("td", { class: "num col-attempts" }),
      el("td", { class: "col-created" }, timeElement(job.created_at)),
      el("td", { class: "num col-duration" }));
  }

  function updateRow(row, job) {
    setStatus(row.querySelector(".status"), job.status);
    const wait = row.querySelector(".cell-countdown");
    if (wait.dataset.key !== (job.next_attempt_at || "")) {
      wait.dataset.key = job.next_attempt_at || "";
      wait.replaceChildren(job.status === "retrying" && job.next_attempt_at ? countdown(job.next_attempt_at) : "");
    }
    setProgress(row.querySelector(".progress-row"), job);
    row.querySelector(".col-attempts").textContent = `${job.attempts}/${job.max_attempts}`;
    row.querySelector(".col-duration").textContent = job.started_at ? formatDuration(ranFor(job)) : "–";
  }

  // ---- Health and control ----

  function showHealth(view) {
    paused = !view.status.is_running;
    const state = $("queue-state");
    state.textContent = paused ? "Paused" : "Running";
    state.className = "card-value " + (paused ? "queue-paused" : "queue-running");
    const types = view.status.paused_types || [];
    $("paused-types").textContent = types.length ? "Paused types: " + types.join(", ") : paused ? "Waiting jobs stay queued" : "Taking new jobs";
    $("pause-toggle").textContent = paused ? "Resume queue" : "Pause queue";
    $("running-now").textContent = view.status.currently_processing;
    $("running-max").textContent = view.status.max_concurrent_jobs;
    $("pending-count").textContent = view.statistics.pending;
    showRating($("pending-rating"), view.health.queue_depth.rating);
    $("success-rate").textContent = view.statistics.success_rate;
    showRating($("success-rating"), view.health.success_rate.rating);
    const depths = view.health.queue_depth.by_priority || {};
    syncList($("depths"), ["urgent", "high", "normal", "low"], (p) => p,
      (p) => el("tr", {}, el("th", { scope: "row" }, p), el("td", { class: "num" }), el("td", { class: "num" }), el("td", { class: "num" })),
      (row, p) => {
        const d = depths[p] || {};
        const cells = row.querySelectorAll("td");
        cells[0].textContent = d.waiting ?? "–";
        cells[1].textContent = d.in_flight ?? "–";
        cells[2].textContent = d.delayed ?? "–";
      });
  }

  function showRating(node, rating) {
    node.textContent = { no_data: "no data yet", high_load: "high load" }[rating] || rating;
    node.className = "rating rating-" + rating;
  }

  $("pause-toggle").addEventListener("click", async () => {
    const button = $("pause-toggle");
    button.disabled = true;
    try {
      const result = await api(`/api/background-jobs/${paused ? "resume" : "pause"}`, { method: "POST" });
      const text = result.paused ? "Queue paused: running jobs finish, waiting jobs stay queued." : "Queue resumed: workers take jobs again.";
      $("control-result").textContent = text;
      announce(text);
    } catch (err) {
      $("control-result").textContent = "Could not change the queue: " + describeError(err);
    } finally {
      button.disabled = false;
    }
    poller.now();
  });

  $("run-cleanup").addEventListener("click", async () => {
    const button = $("run-cleanup");
    const result = $("control-result");
    button.disabled = true;
    try {
      const created = await api("/api/background-jobs", { method: "POST", body: { type: "system:cleanup", store_id: "platform", priority: "low" } });
      result.replaceChildren("Cleanup started: ", el("a", { href: jobURL(created.job) }, jobTitle(created.job)), ".");
    } catch (err) {
      if (err instanceof ApiError && err.code === "job_already_active") {
        const existing = { id: err.body.error.existing_job_id, type: "system:cleanup" };
        result.replaceChildren("A cleanup is already running: ", el("a", { href: jobURL(existing) }, jobTitle(existing)), ".");
      } else {
        result.textContent = "Could not start the cleanup: " + describeError(err);
      }
    } finally {
      button.disabled = false;
    }
    poller.now();
  });
  $("run-cleanup").hidden = !config.job_types.some((t) => t.type === "system:cleanup");

  // ---- Alerts and charts ----

  async function loadSlow() {
    const [alerts, metrics] = await Promise.all([
      api("/api/background-jobs/alerts"),
      api("/api/background-jobs/metrics?days=14"),
    ]);
    showAlerts(alerts);
    const any = metrics.series.some((row) => row.created || row.completed || row.failed);
    $("charts-empty").hidden = any;
    drawCharts(metrics, 14);
  }

  function showAlerts(alerts) {
    $("alerts-empty").hidden = alerts.open.length > 0;
    syncList($("open-alerts"), alerts.open, (a) => a.key,
      () => el("li", { class: "alert" }, el("strong"), el("span"), el("span", { class: "muted" })),
      (node, a) => {
        node.querySelector("strong").textContent = a.kind.replace(/_/g, " ") + ": " + a.subject;
        node.querySelector("span").textContent = a.message;
        node.querySelector(".muted").replaceChildren(" · open since ", timeElement(a.opened_at));
      });
    const groups = alerts.failure_groups;
    syncList($("failure-groups"), groups.length ? groups : [null], (g) => (g ? [g.date, g.type, g.kind, g.message].join("|") : "none"),
      (g) => g
        ? el("tr", {}, el("td", {}, typeInWords(g.type)), el("td", {}, g.kind), el("td", {}, g.message), el("td", { class: "num" }), el("td", {}))
        : el("tr", {}, el("td", { colspan: "5", class: "muted" }, "No failures in the last 2 days.")),
      (row, g) => {
        if (!g) return;
        const cells = row.querySelectorAll("td");
        cells[3].textContent = g.count;
        cells[4].replaceChildren(timeElement(g.last_at));
      });
  }

  filtersFromAddress();
  poller.now();
});

// datetime-local inputs hold the viewer's local time; the API takes RFC 3339.
function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : "";
}

function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
