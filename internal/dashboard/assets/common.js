// What every dashboard page shares: the viewer's token, calls to the JSON
// API, polling that backs off while the API is unreachable, and how a job is
// shown (its name in words, status colours, progress, times).

export const config = JSON.parse(document.getElementById("dashboard-config").textContent);

export const $ = (id) => document.getElementById(id);

// el builds an element: el("a", {href: "/", class: "x"}, "text", child).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

// ---- The token -------------------------------------------------------------

// The token lives in this tab's sessionStorage only. A link may carry it in
// its fragment (#token=…), which browsers never send to a server; it is
// moved to storage and taken out of the address bar at once.
const TOKEN_KEY = "jobs.dashboard.token";

function takeTokenFromAddress() {
  const params = new URLSearchParams(location.hash.slice(1));
  const given = params.get("token");
  if (!given) return;
  sessionStorage.setItem(TOKEN_KEY, given.trim());
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
}

export const token = () => sessionStorage.getItem(TOKEN_KEY) || "";

// claims reads the token's claims to decide what to show. The API checks
// the token itself; nothing here is trusted for access.
export function claims() {
  try {
    const part = token().split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

export function isOperator(c = claims()) {
  const scopes = [c.scope, c.scp].flat().filter(Boolean).join(" ").split(/\s+/);
  return scopes.includes("jobs:admin");
}

function showSignIn(message) {
  $("main").hidden = true;
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("sign-in-message").textContent = message || "";
  $("token-input").focus();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  stopAllPolling();
  showSignIn(message);
}

// boot shows the sign-in form until there is a token, then runs the page.
export function boot(start) {
  takeTokenFromAddress();
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const given = $("token-input").value.trim();
    if (!given) return;
    sessionStorage.setItem(TOKEN_KEY, given);
    location.reload();
  });
  $("sign-out").addEventListener("click", () => signOut("Signed out. The token was removed from this tab."));
  if (!token()) {
    showSignIn();
    return;
  }
  const c = claims();
  $("who").textContent = isOperator(c) ? "Operator" : c.store_id ? "Store " + c.store_id : "";
  $("sign-out").hidden = false;
  $("main").hidden = false;
  start(c);
}

// ---- The API ---------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
  // Worth trying again later: the API was unreachable or had a problem.
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  // JSON is what the page reads: a route that could redirect (an image's
  // signed URL) answers with JSON instead.
  const headers = { Authorization: "Bearer " + token(), Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unreachable", "API unreachable");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON: a proxy's error page; the status tells enough
  }
  if (!response.ok) {
    const err = new ApiError(response.status, data?.error?.code || "http_" + response.status,
      data?.error?.message || `the API answered ${response.status}`, data);
    if (response.status === 401) {
      signOut("The API refused this token: it may have expired. Paste a new one.");
    }
    throw err;
  }
  return data;
}

// listJobs follows next_cursor: a filtered page may be short while more exist.
export async function listJobs(query, { pages = 5 } = {}) {
  const jobs = [];
  let cursor = "";
  for (let i = 0; i < pages; i++) {
    const page = await api("/api/background-jobs?" + query + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""));
    jobs.push(...page.jobs);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return jobs;
}

// ---- Polling ---------------------------------------------------------------

const pollers = new Set();
function stopAllPolling() {
  for (const p of pollers) p.stop();
}

// A Poller calls refresh, which resolves to whether anything is live (a job
// pending, running or retrying). While it is, it calls again after
// interval; when nothing is, it stops until now() is called (the Refresh
// button, an action on the page, the tab becoming visible again). While the
// API is unreachable it retries with a growing wait and says so.
export class Poller {
  constructor(refresh, { interval = 1000 } = {}) {
    this.refresh = refresh;
    this.interval = interval;
    this.timer = 0;
    this.failures = 0;
    this.inFlight = false;
    this.again = false;
    this.stopped = false;
    pollers.add(this);
    $("refresh").addEventListener("click", () => this.now());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.now();
    });
  }

  now() {
    this.stopped = false;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.tick();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  async tick() {
    clearTimeout(this.timer);
    this.inFlight = true;
    let live = false;
    let failure = null;
    try {
      live = await this.refresh();
    } catch (err) {
      failure = err;
    }
    this.inFlight = false;
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.tick();
      return;
    }
    if (failure) {
      if (!(failure instanceof ApiError) || !failure.retryable) {
        if (failure instanceof ApiError && failure.status === 401) return;
        console.error(failure);
        setLiveState(false, "Could not show this page: " + failure.message);
        return;
      }
      this.failures++;
      const wait = Math.min(30000, 1000 * 2 ** (this.failures - 1));
      connectionLost(failure, Date.now() + wait);
      this.timer = setTimeout(() => this.tick(), wait);
      return;
    }
    this.failures = 0;
    connectionRestored();
    setLiveState(live);
    if (live) this.timer = setTimeout(() => this.tick(), this.interval);
  }
}

let retryAt = 0;
let retryReason = "";

function connectionLost(err, at) {
  retryAt = at;
  retryReason = err.status === 0 ? "API unreachable" : `The API answered ${err.status}`;
  showRetry();
}

function showRetry() {
  const banner = $("connection");
  if (!retryAt) return;
  const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
  banner.textContent = seconds > 0 ? `${retryReason}, retrying in ${seconds} s…` : `${retryReason}, retrying…`;
  banner.hidden = false;
}

function connectionRestored() {
  retryAt = 0;
  $("connection").hidden = true;
}

function setLiveState(live, problem) {
  const state = $("live-state");
  const at = timeOfDay(new Date());
  state.dataset.live = live ? "true" : "false";
  if (problem) state.textContent = problem;
  else if (live) state.textContent = `Live: updated at ${at}`;
  else state.textContent = `Up to date at ${at}. Nothing is active, so updates are paused.`;
}

// announce tells screen readers about a change they cannot see happen.
export function announce(text) {
  $("announcer").textContent = text;
}

// ---- The clock -------------------------------------------------------------

// Once a second the countdowns on the page ("next attempt in 25 s") and the
// retry banner are brought up to date. This is local: it asks the API nothing.
setInterval(() => {
  showRetry();
  for (const node of document.querySelectorAll("[data-countdown]")) {
    node.textContent = countdownText(node.dataset.countdown);
  }
}, 1000);

// ---- How jobs are shown ----------------------------------------------------

const ACRONYMS = { ui: "UI", ai: "AI", api: "API", pim: "PIM", csv: "CSV", sku: "SKU", url: "URL", id: "ID", seo: "SEO", ebay: "eBay" };

// typeInWords: "amazon:export:products" → "Amazon Export Products".
export function typeInWords(type) {
  return type.split(/[:_\-.\s]+/).filter(Boolean)
    .map((w) => ACRONYMS[w.toLowerCase()] || w[0].toUpperCase() + w.slice(1)).join(" ");
}

// The end of a job id is its random part: short, and distinct in a list.
export const shortId = (id) => id.replace(/-/g, "").slice(-6);

export const jobTitle = (job) => `${typeInWords(job.type)} #${shortId(job.id)}`;

export const jobURL = (job) => "/dashboard/jobs/" + encodeURIComponent(job.id);

export const ACTIVE = ["pending", "running", "retrying"];
export const isActive = (job) => ACTIVE.includes(job.status);

const STATUS_LABELS = {
  pending: "Pending", running: "Running", retrying: "Retrying",
  completed: "Completed", failed: "Failed", cancelled: "Cancelled",
};

export function statusBadge(status) {
  const badge = el("span", { class: "status" });
  setStatus(badge, status);
  return badge;
}

export function setStatus(badge, status) {
  if (badge.dataset.status === status) return;
  badge.dataset.status = status;
  badge.className = "status status-" + status;
  badge.replaceChildren(el("span", { class: "status-icon", "aria-hidden": "true" }), STATUS_LABELS[status] || status);
}

// progressBar is a bar and its percent; the bar's width never changes the
// layout (it is a transform), and the percent has a fixed width.
export function progressBar(label) {
  const fill = el("span", { class: "progress-fill" });
  const bar = el("span", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": label }, fill);
  const percent = el("span", { class: "percent num" });
  return el("span", { class: "progress-row" }, bar, percent);
}

export function setProgress(row, job) {
  const bar = row.querySelector(".progress");
  const value = Math.max(0, Math.min(100, job.progress || 0));
  if (bar.getAttribute("aria-valuenow") === String(value) && row.dataset.status === job.status) return;
  row.dataset.status = job.status;
  bar.setAttribute("aria-valuenow", String(value));
  bar.setAttribute("aria-valuetext", `${value}%${job.progress_message ? ": " + job.progress_message : ""}`);
  bar.className = "progress progress-" + job.status;
  row.querySelector(".progress-fill").style.transform = `scaleX(${value / 100})`;
  row.querySelector(".percent").textContent = value + "%";
}

// countdownText: "next attempt in 25 s" until the time, then "starting".
export function countdownText(iso) {
  const seconds = Math.ceil((Date.parse(iso) - Date.now()) / 1000);
  return seconds > 0 ? `next attempt in ${formatSeconds(seconds)}` : "next attempt starting…";
}

function formatSeconds(seconds) {
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 90) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

// countdown is an element that counts down to iso on the page's clock.
export function countdown(iso) {
  return el("span", { class: "countdown num", "data-countdown": iso }, countdownText(iso));
}

// formatDuration: 850 ms, 7.2 s, 4 min 10 s, 2 h 5 min.
export function formatDuration(ms) {
  if (ms == null || !isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s`;
  return formatSeconds(Math.round(ms / 1000));
}

// ranFor is how long a job ran (or has been running).
export function ranFor(job) {
  if (!job.started_at) return null;
  const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
  return end - Date.parse(job.started_at);
}

// Times are shown in the viewer's time zone; the element keeps the exact
// time (UTC) for a tooltip and machines.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const clock = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
const sameDay = (a, b) => a.toDateString() === b.toDateString();

export const timeOfDay = (date) => clock.format(date);

// dayAndTime names a time ahead with its day, in the viewer's time zone:
// "Tue, 1 Dec, 02:00".
const dayClock = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
export const dayAndTime = (date) => dayClock.format(date);

export function formatTime(iso) {
  const date = new Date(iso);
  return sameDay(date, new Date()) ? clock.format(date) : dateTime.format(date);
}

// localTimes rewrites the UTC times a server message quotes ("retry in 5s,
// at 2026-11-29T09:11:10.031Z") in the viewer's time zone.
export function localTimes(text) {
  return text.replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b/g, (iso) => formatTime(iso));
}

// sentence starts a server message with a capital, for the timeline.
export const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1);

export function timeElement(iso) {
  if (!iso) return el("span", { class: "muted" }, "–");
  return el("time", { datetime: iso, title: dateTime.format(new Date(iso)) + " (" + iso + ")" }, formatTime(iso));
}

// syncList makes container's children show items in order, one node per
// key, updating nodes in place: focus and scroll stay where they are and
// rows do not flicker on every poll.
export function syncList(container, items, key, create, update) {
  const existing = new Map([...container.children].map((node) => [node.dataset.key, node]));
  const wanted = items.map((item) => {
    const k = key(item);
    let node = existing.get(k);
    if (!node) {
      node = create(item);
      node.dataset.key = k;
    }
    existing.delete(k);
    update(node, item);
    return node;
  });
  for (const node of existing.values()) node.remove();
  wanted.forEach((node, i) => {
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
  });
}

// describeError puts an API error into a sentence for the page.
export function describeError(err) {
  if (!(err instanceof ApiError)) return String(err.message || err);
  if (err.status === 0) return "The API is unreachable; try again in a moment.";
  return err.message.charAt(0).toUpperCase() + err.message.slice(1) + ".";
}

// ---- The Marketplace Hub ---------------------------------------------------

// Jobs of a marketplace: the imports and exports, which change what the
// hub shows (the catalog, listings, credits, a connection found invalid).
const MARKETPLACE_JOB = /^(shopify|akeneo|amazon|ebay):/;

// onMarketplaceJobEnded calls refresh when the store view shows that a
// marketplace's job has ended (a new card in its recent activity) and when
// the viewer clicks Refresh. The hub asks the API nothing in between: what
// it shows changes only with those jobs, or the viewer's own actions.
export function onMarketplaceJobEnded(refresh) {
  const titles = config.job_types.filter((t) => MARKETPLACE_JOB.test(t.type)).map((t) => typeInWords(t.type) + " #");
  onJobEnded(() => titles, refresh);
}

// onJobEnded calls refresh when the store view shows that a job has ended
// whose title starts with one of titles() ("Dev Simulate #"; asked each
// time, so the list may change), and when the viewer clicks Refresh.
export function onJobEnded(titles, refresh) {
  const ofTitles = (node) => {
    const title = node.querySelector?.(".job-title")?.textContent || "";
    return titles().some((start) => title.startsWith(start));
  };
  const recent = $("recent-jobs");
  const seen = new WeakSet();
  new MutationObserver((records) => {
    // A card moved within the list is removed and added back: not new.
    const added = records.flatMap((r) => [...r.addedNodes]).filter((node) => node.isConnected && !seen.has(node));
    for (const node of recent.children) seen.add(node);
    // Until the page has shown its first refresh, the list fills with what
    // had ended before the page opened (setLiveState marks that refresh).
    if (!("live" in $("live-state").dataset)) return;
    if (added.some(ofTitles)) refresh();
  }).observe(recent, { childList: true });
  $("refresh").addEventListener("click", refresh);
}

// oneAtATime wraps an async refresh: called while it runs, it runs once
// more when it ends, so that the last call always sees the latest state.
export function oneAtATime(refresh) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await refresh();
        } catch (err) {
          console.error(err);
        }
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = null;
    }
  };
  return run;
}
