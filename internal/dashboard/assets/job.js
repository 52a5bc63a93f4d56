// A job's page: its state and progress, the actions it allows, its timeline
// (built from the lifecycle events of its log), its log, payload and result.
import {
  $, el, boot, api, Poller, announce, isOperator, ApiError, describeError,
  jobTitle, statusBadge, setStatus, progressBar, setProgress, countdownText,
  timeElement, formatDuration, ranFor, formatTime, isActive, localTimes, sentence,
} from "./common.js";

const LOG_LEVELS = ["debug", "info", "warn", "error"];

// How each lifecycle event shows in the timeline; other lines (handler
// logs, progress milestones) are in the log only.
const TIMELINE = {
  created: { kind: "created", title: () => "Created" },
  retried: { kind: "created", title: () => "Retried with fresh attempts" },
  claimed: { kind: "start", title: (e) => `Attempt ${e.attempt} started` },
  resumed: { kind: "start", title: (e) => `Attempt ${e.attempt} resumed from its checkpoint` },
  continued: { kind: "start", title: (e) => `Attempt ${e.attempt} continued in a fresh invocation` },
  checkpoint: { kind: "checkpoint", title: () => "Checkpoint saved" },
  retry_scheduled: { kind: "retry", title: (e) => `Attempt ${e.attempt} failed, retry scheduled` },
  cancel_requested: { kind: "retry", title: () => "Cancel requested" },
  completed: { kind: "completed", title: () => "Completed" },
  failed: { kind: "failed", title: () => "Failed" },
  cancelled: { kind: "cancelled", title: () => "Cancelled" },
};

boot((claims) => {
  const id = decodeURIComponent(location.pathname.split("/").pop());
  $("back-link").href = isOperator(claims) ? "/dashboard/jobs" : "/dashboard/";
  $("back-link").textContent = isOperator(claims) ? "← Job dashboard" : "← Store view";
  const base = "/api/background-jobs/" + encodeURIComponent(id);
  let job = null;
  let entries = [];
  let shownLevel = "";

  const poller = new Poller(async () => {
    let loaded;
    try {
      [loaded, entries] = await Promise.all([api(base).then((r) => r.job), readLog()]);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        $("job-missing").hidden = false;
        $("job-view").hidden = true;
        return false;
      }
      throw err;
    }
    if (job && job.status !== loaded.status) announce(`${jobTitle(loaded)} is now ${loaded.status}.`);
    job = loaded;
    showJob(job);
    showTimeline(entries);
    showLog();
    return isActive(job);
  }, { interval: 1000 });

  // readLog reads the whole log: the timeline needs every lifecycle event
  // whatever level the log table shows.
  async function readLog() {
    const lines = [];
    let cursor = "";
    for (let page = 0; page < 10; page++) {
      const out = await api(`${base}/logs?level=debug&limit=1000${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
      lines.push(...out.entries);
      cursor = out.next_cursor;
      if (!cursor) break;
    }
    return lines;
  }

  function showJob(j) {
    document.title = `${jobTitle(j)} · Background jobs`;
    $("job-title").textContent = jobTitle(j);
    const status = $("job-status");
    if (!status.firstChild) status.append(statusBadge(j.status));
    setStatus(status.firstChild, j.status);

    const progress = $("job-progress");
    if (!progress.firstChild) progress.append(el("p", { class: "job-message" }), progressBar("Progress of " + jobTitle(j)));
    progress.querySelector(".job-message").textContent = j.progress_message || "\u00a0";
    setProgress(progress.querySelector(".progress-row"), j);

    const wait = $("job-countdown");
    wait.hidden = j.status !== "retrying" || !j.next_attempt_at;
    if (!wait.hidden) {
      wait.dataset.countdown = j.next_attempt_at;
      wait.textContent = countdownText(j.next_attempt_at);
    } else {
      delete wait.dataset.countdown;
    }
    $("job-error").hidden = !j.error;
    $("job-error").textContent = j.error ? (j.status === "failed" ? "Failed: " : "Last error: ") + j.error : "";

    const facts = [
      ["Job id", j.id],
      ["Type", j.type],
      ["Store", j.store_id],
      ["Priority", j.priority],
      ["Attempts", `${j.attempts} of ${j.max_attempts}`],
      ["Created", timeElement(j.created_at)],
      ["Started", timeElement(j.started_at)],
      ["Finished", timeElement(j.finished_at)],
      ["Waited in queue", j.started_at ? formatDuration(Date.parse(j.started_at) - Date.parse(j.created_at)) : "–"],
      [j.finished_at ? "Took" : "Running for", formatDuration(ranFor(j))],
    ];
    $("job-facts").replaceChildren(...facts.map(([name, value]) => el("div", {}, el("dt", {}, name), el("dd", {}, value))));

    const cancellable = isActive(j);
    $("cancel-job").hidden = !cancellable;
    $("cancel-job").disabled = !!j.cancel_requested;
    $("cancel-job").textContent = j.cancel_requested ? "Cancelling…" : "Cancel job";
    const retryable = j.status === "failed" || j.status === "cancelled";
    $("retry-job").hidden = !retryable;
    $("retry-from-start").hidden = !retryable;

    showJSON($("job-payload"), j.payload, "No payload.");
    showJSON($("job-result"), j.result, isActive(j) ? "No result yet: the job has not finished." : "No result.");
  }

  function showJSON(node, value, empty) {
    const text = value === undefined || value === null ? empty : JSON.stringify(value, null, 2);
    if (node.textContent !== text) node.textContent = text;
  }

  // The timeline tells the job's story: each attempt, why it ended, how
  // long the retry waited, where it resumed.
  function showTimeline(lines) {
    const items = [];
    let failedAt = null;
    for (const e of lines) {
      const shape = TIMELINE[e.event];
      if (!shape) continue;
      const extra = [];
      if (shape.kind === "start" && failedAt && e.event !== "continued") {
        extra.push(`after waiting ${formatDuration(Date.parse(e.at) - failedAt)}`);
        failedAt = null;
      }
      if (e.event === "retry_scheduled") failedAt = Date.parse(e.at);
      if (e.worker && shape.kind === "start") extra.push(`on ${e.worker}`);
      items.push(el("li", { class: "kind-" + shape.kind },
        el("span", { class: "timeline-title" }, shape.title(e)),
        el("span", { class: "timeline-when" }, timeElement(e.at)),
        el("p", { class: "timeline-message" }, sentence(localTimes(e.message)) + (extra.length ? ` (${extra.join(", ")})` : ""))));
    }
    if (items.length === 0) items.push(el("li", {}, "Nothing has happened yet."));
    const timeline = $("timeline");
    // Rebuilt only when an event was added, so nothing moves in between.
    if (timeline.dataset.count !== String(items.length)) {
      timeline.dataset.count = String(items.length);
      timeline.replaceChildren(...items);
    }
  }

  function showLog() {
    const level = $("log-level").value;
    const shown = entries.filter((e) => LOG_LEVELS.indexOf(e.level) >= LOG_LEVELS.indexOf(level));
    const body = $("log-lines");
    if (shownLevel !== level) {
      body.replaceChildren();
      shownLevel = level;
    }
    // Logs only grow: add the new lines.
    for (const e of shown.slice(body.children.length)) {
      body.append(el("tr", {},
        el("td", {}, el("time", { datetime: e.at, title: e.at }, formatTime(e.at))),
        el("td", { class: "level-" + e.level }, e.level),
        el("td", {}, e.event || ""),
        el("td", {}, localTimes(e.message), e.attrs ? el("span", { class: "muted" }, " " + Object.entries(e.attrs).map(([k, v]) => `${k}=${v}`).join(" ")) : null),
        el("td", { class: "num" }, e.attempt)));
    }
    $("logs-empty").hidden = shown.length > 0;
  }
  $("log-level").addEventListener("change", showLog);

  async function act(button, path, body, done) {
    button.disabled = true;
    try {
      const out = await api(base + path, { method: "POST", body });
      const text = done(out.job);
      $("action-result").textContent = text;
    } catch (err) {
      $("action-result").textContent = describeError(err);
    } finally {
      button.disabled = false;
    }
    poller.now();
  }
  $("cancel-job").addEventListener("click", (event) => act(event.currentTarget, "/cancel", undefined, (j) =>
    j.status === "cancelled" ? "Cancelled." : "Cancel requested: the job stops at its next progress update."));
  $("retry-job").addEventListener("click", (event) => act(event.currentTarget, "/retry", {}, () =>
    "Retrying with fresh attempts, from its last checkpoint."));
  $("retry-from-start").addEventListener("click", (event) => act(event.currentTarget, "/retry", { from_start: true }, () =>
    "Retrying from the start with fresh attempts."));

  poller.now();
});
