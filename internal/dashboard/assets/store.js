// The store view: a store's active jobs with live progress, its recent
// activity, its recurring schedules (schedules.js), and the ways to start a
// job or schedule one (start.js). A failed job's card says what went wrong
// in words a store owner can act on: the products a marketplace refused and
// why, or where to go when credits ran out or a connection was rejected. An
// operator sees every store here, or one with ?store_id=.
import {
  $, el, boot, api, listJobs, Poller, announce, isOperator, ApiError, describeError,
  jobTitle, jobURL, statusBadge, setStatus, progressBar, setProgress, countdown,
  timeElement, timeOfDay, dayAndTime, formatDuration, ranFor, syncList, typeInWords,
} from "./common.js";
import { setUpConnections, openConnectionForm } from "./connections.js";
import { setUpCatalog } from "./catalog.js";
import { setUpStartForm } from "./start.js";
import { setUpSchedules } from "./schedules.js";

boot((claims) => {
  const operator = isOperator(claims);
  const storeID = new URLSearchParams(location.search).get("store_id") || "";
  const scope = storeID ? "&store_id=" + encodeURIComponent(storeID) : "";
  // Recent activity is by when jobs finished: a long job started before many
  // others is still among the last five to end. That order needs one store;
  // an operator's every-store view shows the newest created finished jobs.
  const recentQuery = operator && !storeID ? "status=completed,failed,cancelled&limit=5" : "order=finished&limit=5" + scope;
  let shown = new Map(); // active job id → title, to announce how each ended
  let explained = new Map(); // active job id → its status, with why it waits or when it ends

  const poller = new Poller(async () => {
    const [status, active, recent] = await Promise.all([
      api("/api/background-jobs/status" + (storeID ? "?store_id=" + encodeURIComponent(storeID) : "")),
      listJobs("status=pending,running,retrying&limit=100" + scope),
      api("/api/background-jobs?" + recentQuery),
    ]);
    explained = await explain(active);
    $("queue-paused").hidden = status.status.is_running;
    showActive(active);
    showRecent(recent.jobs);
    announceEnded(active, recent.jobs);
    return active.length > 0;
  }, { interval: 1000 });
  const refreshSchedules = setUpSchedules(operator, storeID, () => poller.now());
  const start = setUpStartForm(operator, storeID, () => poller.now(), refreshSchedules);

  // explain asks the API why each active job waits, or when it should end
  // (GET …/{id}/status): the first EXPLAINED of them, all of a store's.
  async function explain(jobs) {
    const statuses = new Map();
    await Promise.all(jobs.slice(0, EXPLAINED).map(async (job) => {
      try {
        const answer = await api(`/api/background-jobs/${encodeURIComponent(job.id)}/status`);
        statuses.set(job.id, answer.job);
      } catch (err) {
        // Gone since it was listed: the next refresh drops its card.
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
      }
    }));
    return statuses;
  }

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
      el("div", { class: "job-foot" }, el("p", { class: "job-detail" }), cancel),
      el("div", { class: "job-help" }));
  }

  function updateActive(node, job) {
    setStatus(node.querySelector(".status"), job.status);
    const message = node.querySelector(".job-message");
    message.textContent = job.progress_message || (job.status === "pending" ? "Queued" : "\u00a0");
    message.classList.toggle("muted", !job.progress_message);
    setProgress(node.querySelector(".progress-row"), job);
    const detail = node.querySelector(".job-detail");
    const { waiting, estimate } = explained.get(job.id) || {};
    const key = JSON.stringify([job.status, job.attempts, job.next_attempt_at, job.cancel_requested, waiting, estimate?.message]);
    if (detail.dataset.key !== key) {
      detail.dataset.key = key;
      detail.replaceChildren(...activeDetail(job, waiting, estimate));
    }
    // A retry's failed attempt says what to do, as a failed job does.
    const help = node.querySelector(".job-help");
    const helpKey = job.status === "retrying" ? JSON.stringify([job.attempts, job.error]) : "";
    if (help.dataset.key !== helpKey) {
      help.dataset.key = helpKey;
      help.replaceChildren();
      if (helpKey) showHelp(help, job, false);
    }
    const cancel = node.querySelector(".cancel");
    cancel.disabled = !!job.cancel_requested;
    cancel.textContent = job.cancel_requested ? "Cancelling…" : "Cancel";
  }

  // activeDetail says where an active job stands, in the API's words: why
  // it waits (a retry's wait counts down on the page's clock), or when a
  // running job should end.
  function activeDetail(job, waiting, estimate) {
    const attempt = `attempt ${job.attempts} of ${job.max_attempts}`;
    if (job.status === "retrying") {
      const failed = el("span", { class: "retry-text" }, `Attempt ${job.attempts} failed: ${job.error || "unknown error"}`);
      if (waiting?.reason === "rate_limited") {
        return [failed, " · ", el("span", { class: "waiting-text" }, waitingText(job, waiting)), " · ", countdown(waiting.until)];
      }
      if (waiting && !waiting.until) {
        return [failed, " · ", el("span", { class: "waiting-text" }, "Waiting: " + waitingText(job, waiting))];
      }
      return [failed, " · ", countdown(waiting?.until || job.next_attempt_at)];
    }
    if (job.status === "running" && !waiting) {
      return [job.cancel_requested ? "Stopping at its next progress update · " : "", "Started ", timeElement(job.started_at), " · ", attempt,
        ...(estimate ? [" · ", estimateElement(estimate)] : [])];
    }
    const why = waiting ? "Waiting: " + waitingText(job, waiting) : "Waiting";
    return [el("span", { class: "waiting-text" }, why), " · created ", timeElement(job.created_at)];
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
      el("p", { class: "job-detail" }),
      el("div", { class: "job-help" }));
  }

  function updateRecent(node, job) {
    setStatus(node.querySelector(".status"), job.status);
    const detail = node.querySelector(".job-detail");
    if (detail.dataset.key === job.finished_at) return;
    detail.dataset.key = job.finished_at || "";
    const help = node.querySelector(".job-help");
    help.dataset.key = detail.dataset.key;
    help.replaceChildren();
    if (job.status === "failed") showHelp(help, job, true);
    const when = ["Finished ", timeElement(job.finished_at), " · took ", formatDuration(ranFor(job))];
    if (job.status === "failed") {
      detail.replaceChildren(...when, el("br"), el("span", { class: "error-text" }, `Failed after ${job.attempts} attempt${job.attempts === 1 ? "" : "s"}: ${job.error || "unknown error"}`));
    } else if (job.status === "cancelled") {
      detail.replaceChildren("Cancelled ", timeElement(job.finished_at), job.progress ? ` at ${job.progress}%` : "");
    } else {
      detail.replaceChildren(...when, job.attempts > 1 ? ` · succeeded on attempt ${job.attempts}` : "");
    }
  }

  // showHelp shows what to do about a job's failure under its card: for a
  // job that lists its items, once its result is read (the list of jobs
  // may not carry it), unless the card has moved on meanwhile.
  async function showHelp(help, job, ended) {
    const key = help.dataset.key;
    let result = job.result;
    if (result === undefined && LISTS_ITEMS.test(job.type)) {
      try {
        result = (await api(`/api/background-jobs/${encodeURIComponent(job.id)}`)).job.result;
      } catch {
        result = null; // the card's error says what went wrong
      }
    }
    if (help.dataset.key !== key) return;
    help.replaceChildren(...failureHelp(job, result || {}, ended));
  }

  // failureHelp is what a store owner can do about a failed job (or a
  // failed attempt): the guide's three failures that cannot heal by
  // waiting, each with its way out, and the items the job could not do.
  function failureHelp(job, result, ended) {
    const error = job.error || "";
    const source = job.type.split(":")[0];
    const title = MARKETPLACE_TITLES[source];
    const isExport = /^(amazon|ebay):export:/.test(job.type);
    const parts = [];
    if (error.includes("Insufficient credits:")) {
      const line = [el("strong", {}, "The store ran out of AI credits. "), "Buy more ",
        hubLink(job, "credits", "AI credits"), ` and ${isExport ? "export" : "run it"} again`];
      // Offered once the job has ended: the same export can start then.
      if (isExport && ended && job.payload?.ai_optimize !== false) {
        const without = el("button", { type: "button", class: "small without-ai" }, "Export without AI optimization");
        without.addEventListener("click", () => {
          const body = { type: job.type, priority: job.priority, payload: { ...job.payload, ai_optimize: false } };
          if (operator) body.store_id = job.store_id;
          start(body, without);
        });
        line.push(", or ", without);
      } else {
        line.push(".");
      }
      parts.push(el("p", { class: "help-line credits-help" }, ...line));
    }
    if (error.includes("Invalid credentials:") && title) {
      parts.push(el("p", { class: "help-line credentials-help" },
        el("strong", {}, `${title} rejected the store's credentials. `),
        hubLink(job, "connections", `Re-configure the ${title} connection`, () => openConnectionForm(source)),
        ` with new ones, then ${isExport ? "export" : "import"} again.`));
    }
    const refused = (result.products || []).filter((p) => p.status === "invalid" || p.status === "failed");
    if (refused.length) {
      const total = Math.max(refused.length, (result.invalid || 0) + (result.failed || 0));
      parts.push(itemList("refused", `Products not exported to ${title || "the marketplace"} (${total})`,
        refused.slice(0, LISTED).map(refusedItem), total - Math.min(refused.length, LISTED),
        "Fix them in your store and export again: only those products are sent."));
    }
    const labels = result.failed_labels || [];
    if (labels.length) {
      const total = Math.max(labels.length, result.failed || 0);
      parts.push(itemList("untranslated", `Labels not translated (${total})`,
        labels.slice(0, LISTED).map((l) => el("li", { "data-key": l.key }, el("code", {}, l.key), ": ", l.reason)),
        total - Math.min(labels.length, LISTED),
        "Correct their text and translate again: only the labels still without a translation are sent."));
    }
    return parts;
  }

  // hubLink leads to a part of the Marketplace Hub: on this page, or on the
  // job's store's view from an operator's every-store view, which has none.
  // open, when given, shows that part itself.
  function hubLink(job, id, text, open) {
    const here = !$("hub").hidden;
    const href = here ? "#" + id : `/dashboard/?store_id=${encodeURIComponent(job.store_id)}#${id}`;
    const link = el("a", { href, class: "hub-link" }, text);
    if (here && open) {
      link.addEventListener("click", (event) => {
        if (open()) event.preventDefault();
      });
    }
    return link;
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

  setUpConnections(operator, storeID);
  setUpCatalog(operator, storeID);
  poller.now();
});

// EXPLAINED is how many active jobs the store view asks the API about on
// each refresh: every one a store can have (one per job type), and the
// first of an operator's every-store view.
const EXPLAINED = 20;

// LISTS_ITEMS are the job types whose result lists the items they could
// not do: the exports' refused products, a translation's failed labels.
const LISTS_ITEMS = /^(amazon|ebay):export:|^translation:/;

// LISTED is how many of those a card lists; it says how many more there are.
const LISTED = 10;

const MARKETPLACE_TITLES = { shopify: "Shopify", akeneo: "Akeneo", amazon: "Amazon", ebay: "eBay" };

// itemList is a failed job's items, the first LISTED of them, with how
// many more there are and what to do about them.
function itemList(kind, heading, items, more, advice) {
  return el("div", { class: "help-items " + kind },
    el("p", { class: "help-heading" }, heading),
    el("ul", { class: "help-list" }, ...items),
    more > 0 ? el("p", { class: "help-more" }, `and ${more} more`) : null,
    el("p", { class: "help-line" }, advice));
}

// refusedItem is a product an export refused: its SKU and title, and each
// field that is missing or was rejected, with the reason. Warnings follow
// the errors that refused it only when there are none.
function refusedItem(product) {
  const issues = product.issues || [];
  const errors = issues.filter((i) => (i.severity || "").toUpperCase() !== "WARNING");
  const reasons = (errors.length ? errors : issues).flatMap((issue, i) => [i ? "; " : "",
    ...(issue.field ? [el("code", { class: "issue-field" }, issue.field), ": "] : []), issue.message]);
  return el("li", { "data-product": product.product_id, "data-sku": product.sku || "" },
    product.sku ? el("code", { class: "refused-sku" }, product.sku) : el("span", { class: "muted" }, "No SKU"),
    ...(product.title ? [" ", el("span", { class: "refused-title" }, product.title)] : []),
    ...(reasons.length ? [" — ", ...reasons] : product.status === "failed" ? [" — its text could not be written"] : []));
}

// waitingText is the API's reason a job waits, in its words; a paused type
// is named as the page names it.
function waitingText(job, waiting) {
  if (waiting.reason === "scheduled") return `scheduled for ${dayAndTime(new Date(waiting.until))} (in ${formatDuration(Date.parse(waiting.until) - Date.now())})`;
  if (waiting.reason === "type_paused") return `${typeInWords(job.type)} jobs are paused and start when they resume`;
  return waiting.message;
}

// estimateElement is the API's estimate of a running job's end, with the
// time it should end as a tooltip.
function estimateElement(estimate) {
  const attributes = { class: "estimate" };
  if (estimate.finish_at) attributes.title = "Should end about " + timeOfDay(new Date(estimate.finish_at));
  return el("span", attributes, estimate.message);
}
