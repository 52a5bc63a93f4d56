// The store view: a store's active jobs with live progress, its recent
// activity, and a form to start a job. An operator sees every store here,
// or one with ?store_id=.
import {
  $, el, config, boot, api, listJobs, Poller, announce, isOperator, ApiError, describeError,
  jobTitle, jobURL, statusBadge, setStatus, progressBar, setProgress, countdown,
  timeElement, formatDuration, ranFor, syncList, typeInWords,
} from "./common.js";

// Options to start with, per job type; anything else starts with {}. An
// export must say which products it takes.
const EXAMPLE_OPTIONS = {
  "dev:simulate": { steps: 20, step_ms: 500 },
  "amazon:export:products": { all: true },
  "ebay:export:products": { all: true },
};

// One-click jobs a store owner starts most, with their options: the full
// imports, and exports of every product, AI-optimized (the exports' default).
const QUICK_STARTS = [
  { type: "shopify:import:all", label: "Import from Shopify", payload: {} },
  { type: "akeneo:import:all", label: "Import from Akeneo", payload: {} },
  { type: "amazon:export:products", label: "Export to Amazon", payload: { all: true } },
  { type: "ebay:export:products", label: "Export to eBay", payload: { all: true } },
];

boot((claims) => {
  const operator = isOperator(claims);
  const storeID = new URLSearchParams(location.search).get("store_id") || "";
  const scope = storeID ? "&store_id=" + encodeURIComponent(storeID) : "";
  // Recent activity is by when jobs finished: a long job started before many
  // others is still among the last five to end. That order needs one store;
  // an operator's every-store view shows the newest created finished jobs.
  const recentQuery = operator && !storeID ? "status=completed,failed,cancelled&limit=5" : "order=finished&limit=5" + scope;
  let shown = new Map(); // active job id → title, to announce how each ended

  let pauses = { all: false, types: [] };

  const poller = new Poller(async () => {
    const [status, active, recent] = await Promise.all([
      api("/api/background-jobs/status" + (storeID ? "?store_id=" + encodeURIComponent(storeID) : "")),
      listJobs("status=pending,running,retrying&limit=100" + scope),
      api("/api/background-jobs?" + recentQuery),
    ]);
    pauses = { all: !status.status.is_running, types: status.status.paused_types || [] };
    $("queue-paused").hidden = !pauses.all;
    showActive(active);
    showRecent(recent.jobs);
    announceEnded(active, recent.jobs);
    return active.length > 0;
  }, { interval: 1000 });

  function showActive(jobs) {
    $("active-count").textContent = jobs.length;
    $("active-empty").hidden = jobs.length > 0;
    syncList($("active-jobs"), jobs, (j) => j.id, createActive, updateActive);
  }

  function createActive(job) {
    const cancel = el("button", { type: "button", class: "small cancel" }, "Cancel");
    cancel.addEventListener("click", () => cancelJob(job, cancel));
    return el("li", { class: "job-card" },
      el("div", { class: "job-line" },
        el("a", { class: "job-title", href: jobURL(job) }, jobTitle(job)),
        operator ? el("span", { class: "muted store-name" }, job.store_id) : null,
        el("span", { class: "priority" }, job.priority),
        statusBadge(job.status)),
      el("p", { class: "job-message" }),
      progressBar("Progress of " + jobTitle(job)),
      el("div", { class: "job-foot" }, el("p", { class: "job-detail" }), cancel));
  }

  function updateActive(node, job) {
    setStatus(node.querySelector(".status"), job.status);
    const message = node.querySelector(".job-message");
    message.textContent = job.progress_message || (job.status === "pending" ? "Queued" : "\u00a0");
    message.classList.toggle("muted", !job.progress_message);
    setProgress(node.querySelector(".progress-row"), job);
    const detail = node.querySelector(".job-detail");
    const paused = pauses.all || pauses.types.includes(job.type);
    const key = [job.status, job.attempts, job.next_attempt_at, job.cancel_requested, paused].join("|");
    if (detail.dataset.key !== key) {
      detail.dataset.key = key;
      detail.replaceChildren(...activeDetail(job, paused));
    }
    const cancel = node.querySelector(".cancel");
    cancel.disabled = !!job.cancel_requested;
    cancel.textContent = job.cancel_requested ? "Cancelling…" : "Cancel";
  }

  function activeDetail(job, paused) {
    const attempt = `attempt ${job.attempts} of ${job.max_attempts}`;
    if (job.status === "retrying") {
      return [el("span", { class: "retry-text" }, `Attempt ${job.attempts} failed: ${job.error || "unknown error"}`), " · ", countdown(job.next_attempt_at)];
    }
    if (job.status === "pending" && paused) {
      return [`Waiting: ${typeInWords(job.type)} jobs are paused and start when they resume · created `, timeElement(job.created_at)];
    }
    if (job.status === "running") {
      return [job.cancel_requested ? "Stopping at its next progress update · " : "", "Started ", timeElement(job.started_at), " · ", attempt];
    }
    return ["Waiting for a worker · created ", timeElement(job.created_at)];
  }

  function showRecent(jobs) {
    $("recent-empty").hidden = jobs.length > 0;
    syncList($("recent-jobs"), jobs, (j) => j.id, createRecent, updateRecent);
  }

  function createRecent(job) {
    return el("li", { class: "job-card recent-card" },
      el("div", { class: "job-line" },
        el("a", { class: "job-title", href: jobURL(job) }, jobTitle(job)),
        operator ? el("span", { class: "muted store-name" }, job.store_id) : null,
        statusBadge(job.status)),
      el("p", { class: "job-detail" }));
  }

  function updateRecent(node, job) {
    setStatus(node.querySelector(".status"), job.status);
    const detail = node.querySelector(".job-detail");
    if (detail.dataset.key === job.finished_at) return;
    detail.dataset.key = job.finished_at || "";
    const when = ["Finished ", timeElement(job.finished_at), " · took ", formatDuration(ranFor(job))];
    if (job.status === "failed") {
      detail.replaceChildren(...when, el("br"), el("span", { class: "error-text" }, `Failed after ${job.attempts} attempt${job.attempts === 1 ? "" : "s"}: ${job.error || "unknown error"}`));
    } else if (job.status === "cancelled") {
      detail.replaceChildren("Cancelled ", timeElement(job.finished_at), job.progress ? ` at ${job.progress}%` : "");
    } else {
      detail.replaceChildren(...when, job.attempts > 1 ? ` · succeeded on attempt ${job.attempts}` : "");
    }
  }

  function announceEnded(active, recent) {
    const now = new Map(active.map((j) => [j.id, jobTitle(j)]));
    for (const [id, title] of shown) {
      if (now.has(id)) continue;
      const ended = recent.find((j) => j.id === id);
      if (ended) announce(`${title} ${ended.status}.`);
    }
    shown = now;
  }

  async function cancelJob(job, button) {
    button.disabled = true;
    try {
      await api(`/api/background-jobs/${encodeURIComponent(job.id)}/cancel`, { method: "POST" });
      announce(`Cancelling ${jobTitle(job)}.`);
    } catch (err) {
      button.disabled = false;
      $("start-result").textContent = `Could not cancel ${jobTitle(job)}: ${describeError(err)}`;
    }
    poller.now();
  }

  setUpStartForm(operator, () => poller.now());
  poller.now();
});

// setUpStartForm fills the "Start a job" form with the types this viewer
// may start and creates the job on submit.
function setUpStartForm(operator, started) {
  const types = config.job_types.filter((t) => operator || !t.system);
  const toggle = $("start-toggle");
  const form = $("start-form");
  const typeSelect = $("start-type");
  const payload = $("start-payload");
  const result = $("start-result");
  if (types.length === 0) {
    toggle.hidden = true;
    return;
  }
  for (const t of types) typeSelect.append(el("option", { value: t.type }, `${typeInWords(t.type)} (${t.type})`));
  if (types.some((t) => t.type === "dev:simulate")) typeSelect.value = "dev:simulate";
  const fillExample = () => {
    payload.value = JSON.stringify(EXAMPLE_OPTIONS[typeSelect.value] || {});
  };
  fillExample();
  typeSelect.addEventListener("change", fillExample);
  $("start-store-field").hidden = !operator;

  toggle.addEventListener("click", () => {
    const open = form.hidden;
    form.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) typeSelect.focus();
  });

  // start creates the job and says how it went, with a link either way.
  const start = async (body, button) => {
    button.disabled = true;
    try {
      const created = await api("/api/background-jobs", { method: "POST", body });
      result.replaceChildren("Started ", el("a", { href: jobURL(created.job) }, jobTitle(created.job)), ". Its progress shows below.");
      started();
    } catch (err) {
      if (err instanceof ApiError && err.code === "job_already_active") {
        const existing = { id: err.body.error.existing_job_id, type: body.type };
        const kind = typeInWords(body.type);
        result.replaceChildren(`This store already runs ${/^[AEIOU]/.test(kind) ? "an" : "a"} ${kind} job: `,
          el("a", { href: jobURL(existing) }, jobTitle(existing)), ". It can start again once that one ends.");
      } else {
        result.textContent = "Could not start the job: " + describeError(err);
      }
    } finally {
      button.disabled = false;
    }
  };

  // Operators start jobs for a named store through the form.
  if (!operator) {
    for (const quick of QUICK_STARTS.filter((q) => types.some((t) => t.type === q.type))) {
      const button = el("button", { type: "button", class: "quick", "data-type": quick.type }, quick.label);
      button.addEventListener("click", () => start({ type: quick.type, payload: quick.payload }, button));
      $("quick-start").append(button);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let options;
    try {
      options = JSON.parse(payload.value.trim() || "{}");
    } catch {
      options = null;
    }
    if (options === null || typeof options !== "object" || Array.isArray(options)) {
      result.textContent = "Options must be a JSON object, such as {}.";
      payload.focus();
      return;
    }
    const body = { type: typeSelect.value, priority: $("start-priority").value, payload: options };
    const chosen = types.find((t) => t.type === body.type);
    if (operator) {
      body.store_id = chosen?.system ? "platform" : $("start-store").value.trim();
      if (!body.store_id) {
        result.textContent = "Name the store to start the job for.";
        $("start-store").focus();
        return;
      }
    }
    await start(body, $("start-submit"));
  });
}
