// The store view's ways to start a job: one-click buttons for the jobs a
// store owner starts most, and the "Start a job" form. In the form a store
// owner chooses each job type's options in words: what an import brings in
// and since when; which products an export sends and whether the AI
// optimizes them, with the credits that takes and the store's balance; the
// language a translation is into. A type without such options (dev:simulate
// in local runs) takes them as JSON, and so does every type for an
// operator, who starts jobs for any store. The form also creates a
// recurring schedule of the job (every day or every week at a time, in a
// time zone), which the Schedules section lists (schedules.js).
import {
  $, el, config, api, ApiError, describeError, jobTitle, jobURL, typeInWords, onMarketplaceJobEnded, oneAtATime, dayAndTime,
} from "./common.js";

// EXAMPLE_OPTIONS are the JSON options a type starts with; anything else
// starts with {}. An export must say which products it takes.
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

// TYPE_LABELS name the job types in a store owner's form, which lists them
// in this order; other types follow, by their name. The Schedules section
// names a schedule's type the same way (scheduleTitle).
const TYPE_LABELS = {
  "shopify:import:all": "Import from Shopify: products and collections",
  "shopify:import:products": "Import from Shopify: products",
  "shopify:import:collections": "Import from Shopify: collections",
  "akeneo:import:all": "Import from Akeneo: products and categories",
  "akeneo:import:products": "Import from Akeneo: products",
  "akeneo:import:categories": "Import from Akeneo: categories",
  "amazon:export:products": "Export products to Amazon",
  "ebay:export:products": "Export products to eBay",
  "translation:ui-labels:bulk": "Translate the UI labels",
};

// typeLabel is a job type as the store owner's form names it.
const typeLabel = (type) => TYPE_LABELS[type] || typeInWords(type);

// scheduleTitle is a schedule's name, or its type's when it has none.
export const scheduleTitle = (schedule) => schedule.name || typeLabel(schedule.type);

// REPEATS are the "When" choices that create a schedule rather than a
// job, by the schedule's "every".
const REPEATS = { day: "day", week: "week" };

// SCHEDULE_FIELDS are the form's controls for the fields a schedule's 400
// names, so that the problem's control takes the focus.
const SCHEDULE_FIELDS = {
  type: "start-type", store_id: "start-store", priority: "start-priority",
  every: "start-when", at: "start-time", weekday: "start-weekday", time_zone: "start-zone",
};

// LANGUAGES are the languages a store's UI is most often translated into,
// by Amazon Translate's codes.
const LANGUAGES = [
  ["de", "German"], ["fr", "French"], ["es", "Spanish"], ["it", "Italian"], ["nl", "Dutch"],
  ["pt", "Portuguese (Brazil)"], ["pt-PT", "Portuguese (Portugal)"], ["pl", "Polish"], ["sv", "Swedish"],
  ["da", "Danish"], ["fi", "Finnish"], ["no", "Norwegian"], ["cs", "Czech"], ["tr", "Turkish"],
  ["ja", "Japanese"], ["ko", "Korean"], ["zh", "Chinese (Simplified)"], ["zh-TW", "Chinese (Traditional)"],
  ["en", "English"],
];

// CATALOG_PAGES bounds the pages of 100 products an export's options read
// to count and list the products: as many as an export may name one by
// one. A bigger catalog's counts say "at least".
const CATALOG_PAGES = 10;

// MAX_CHOSEN is the most products an export names one by one.
const MAX_CHOSEN = 1000;

// setUpStartForm sets up the one-click jobs and the form for the types
// this viewer may start. It returns start, which creates a job and says
// how it went: the store view starts the jobs a failed one offers with it.
// started is told when a job started, scheduled when a schedule was created.
export function setUpStartForm(operator, storeID, started, scheduled) {
  const types = config.job_types.filter((t) => operator || !t.system);
  const toggle = $("start-toggle");
  const form = $("start-form");
  const typeSelect = $("start-type");
  const payload = $("start-payload");
  const options = $("start-options");
  const result = $("start-result");

  // start creates the job and says how it went, with a link either way.
  const start = async (body, button) => {
    button.disabled = true;
    try {
      const created = await api("/api/background-jobs", { method: "POST", body });
      const link = el("a", { href: jobURL(created.job) }, jobTitle(created.job));
      if (created.job.run_at) {
        result.replaceChildren("Scheduled ", link, ` to start ${dayAndTime(new Date(created.job.run_at))}. It shows below, and starts even if this page is closed.`);
      } else {
        result.replaceChildren("Started ", link, ". Its progress shows below.");
      }
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

  // schedule creates a recurring schedule and says when it first runs.
  const schedule = async (body, button) => {
    button.disabled = true;
    try {
      const created = (await api("/api/schedules", { method: "POST", body })).schedule;
      const next = created.next_run_at ? `; next run ${dayAndTime(new Date(created.next_run_at))}` : "";
      result.replaceChildren("Scheduled ", el("a", { href: "#schedule-" + created.id }, scheduleTitle(created)),
        ` ${created.description}${next}. It runs even if this page is closed.`);
      scheduled();
    } catch (err) {
      result.textContent = "Could not create the schedule: " + describeError(err) + fieldProblems(err);
      const named = err instanceof ApiError ? err.body?.error?.fields?.[0]?.field || "" : "";
      const control = $(SCHEDULE_FIELDS[named] || (named.startsWith("payload") && !payload.closest("[hidden]") ? "start-payload" : ""));
      control?.focus();
    } finally {
      button.disabled = false;
    }
  };

  if (types.length === 0) {
    toggle.hidden = true;
    return start;
  }
  if (operator) {
    for (const t of types) typeSelect.append(el("option", { value: t.type }, `${typeInWords(t.type)} (${t.type})`));
    if (types.some((t) => t.type === "dev:simulate")) typeSelect.value = "dev:simulate";
    $("start-store-field").hidden = false;
    $("start-store").value = storeID;
  } else {
    const known = Object.keys(TYPE_LABELS);
    const order = (t) => (known.includes(t.type) ? known.indexOf(t.type) : known.length);
    for (const t of [...types].sort((a, b) => order(a) - order(b))) {
      typeSelect.append(el("option", { value: t.type }, TYPE_LABELS[t.type] || `${typeInWords(t.type)} (${t.type})`));
    }
    // Operators start jobs for a named store through the form.
    for (const quick of QUICK_STARTS.filter((q) => types.some((t) => t.type === q.type))) {
      const button = el("button", { type: "button", class: "quick", "data-type": quick.type }, quick.label);
      button.addEventListener("click", () => start({ type: quick.type, payload: quick.payload }, button));
      $("quick-start").append(button);
    }
  }

  // editor is the chosen type's options in words, or null for JSON.
  let editor = null;
  const showOptions = () => {
    editor?.close?.();
    editor = operator ? null : editorFor(typeSelect.value);
    options.replaceChildren(...(editor ? editor.fields : []));
    options.hidden = !editor;
    $("start-payload-field").hidden = !!editor;
    payload.value = JSON.stringify(EXAMPLE_OPTIONS[typeSelect.value] || {});
    if (!form.hidden) editor?.open?.();
  };
  showOptions();
  typeSelect.addEventListener("change", showOptions);

  toggle.addEventListener("click", () => {
    const open = form.hidden;
    form.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      editor?.open?.();
      typeSelect.focus();
    }
  });
  // What an export's options show changes with the jobs that end, and
  // the viewer may ask again.
  const reread = () => {
    if (!form.hidden) editor?.open?.();
  };
  onMarketplaceJobEnded(reread);

  // "At a time" shows the time picker, set to tonight's 02:00 the first
  // time: the guide's advice is to export during off-hours. "Every day at"
  // and "Every week on" show the time of day (02:00 for the same reason),
  // the weekday, and the time zone the time is in: the browser's, which
  // the viewer may change (a store's nights are where its shoppers sleep).
  $("start-when").addEventListener("change", () => {
    const when = $("start-when").value;
    const picker = $("start-at");
    picker.hidden = when !== "at";
    if (!picker.hidden && !picker.value) {
      const night = new Date();
      night.setDate(night.getDate() + (night.getHours() >= 2 ? 1 : 0));
      night.setHours(2, 0, 0, 0);
      picker.value = localInputValue(night);
    }
    const repeats = when in REPEATS;
    $("start-weekday-field").hidden = when !== "week";
    $("start-time-field").hidden = !repeats;
    $("start-zone-field").hidden = !repeats;
    if (repeats && !$("start-zone").value) {
      $("start-zone").value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      // The zones to choose from are listed once, when first needed.
      const zones = Intl.supportedValuesOf?.("timeZone") || [];
      $("start-zones").replaceChildren(...zones.map((zone) => el("option", { value: zone })));
    }
    $("start-submit").textContent = repeats ? "Create schedule" : "Start job";
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let given;
    if (editor) {
      const read = editor.read();
      if (read.problem) {
        result.textContent = read.problem;
        read.focus?.focus();
        return;
      }
      given = read.payload;
    } else {
      try {
        given = JSON.parse(payload.value.trim() || "{}");
      } catch {
        given = null;
      }
      if (given === null || typeof given !== "object" || Array.isArray(given)) {
        result.textContent = "Options must be a JSON object, such as {}.";
        payload.focus();
        return;
      }
    }
    const body = { type: typeSelect.value, priority: $("start-priority").value, payload: given };
    const every = REPEATS[$("start-when").value];
    if (every) {
      // The time is the wall clock of the time zone, every day or week:
      // the API keeps it there across daylight saving changes.
      body.every = every;
      body.at = $("start-time").value;
      if (every === "week") body.weekday = $("start-weekday").value;
      body.time_zone = $("start-zone").value.trim();
      if (!/^\d\d:\d\d$/.test(body.at)) {
        result.textContent = `Choose the time of day to run the job at, every ${every === "week" ? "week" : "day"}.`;
        $("start-time").focus();
        return;
      }
      if (!body.time_zone) {
        result.textContent = "Name the time zone the time is in, such as Europe/Berlin.";
        $("start-zone").focus();
        return;
      }
    } else if ($("start-when").value === "at") {
      // The picker's time is the viewer's local time; the API takes an
      // instant, so it goes with its offset (as UTC).
      const at = new Date($("start-at").value);
      if (!$("start-at").value || Number.isNaN(at.getTime()) || at <= new Date()) {
        result.textContent = "Choose a time in the future to start the job at.";
        $("start-at").focus();
        return;
      }
      body.run_at = at.toISOString();
    }
    if (operator) {
      const type = types.find((t) => t.type === body.type);
      body.store_id = type?.system ? "platform" : $("start-store").value.trim();
      if (!body.store_id) {
        result.textContent = `Name the store to ${every ? "schedule" : "start"} the job for.`;
        $("start-store").focus();
        return;
      }
    }
    if (every) await schedule(body, $("start-submit"));
    else await start(body, $("start-submit"));
  });
  return start;
}

// fieldProblems adds what an API error says of each field it names, when
// its message does not say it already.
function fieldProblems(err) {
  if (!(err instanceof ApiError)) return "";
  const fields = err.body?.error?.fields || [];
  return fields.filter((f) => f.message && !err.message.includes(f.message))
    .map((f) => ` ${f.field}: ${f.message}`).join("");
}

// editorFor is a job type's options in words, or null when the form takes
// them as JSON. An editor has its fields, read (the payload they make, or
// the problem that keeps them from making one) and, for an export, open
// (read the catalog and credits again) and close.
function editorFor(type) {
  if (/^(shopify|akeneo):import:/.test(type)) return importEditor(type);
  if (type === "amazon:export:products") return exportEditor("Amazon");
  if (type === "ebay:export:products") return exportEditor("eBay");
  if (type === "translation:ui-labels:bulk") return translationEditor();
  return null;
}

// field is a labelled control, with a hint under it.
function field(id, label, control, hint) {
  return el("div", { class: "field" }, el("label", { for: id }, label), control,
    hint ? el("p", { class: "hint", id: id + "-hint" }, hint) : null);
}

// choice is a radio button or checkbox with its label, and what it opens.
function choice(input, label, ...rest) {
  return el("div", { class: "choice" }, input, el("label", { for: input.id }, label), ...rest);
}

function importEditor(type) {
  // Akeneo's category tree is read whole: it has no "changed since".
  if (type === "akeneo:import:categories") {
    return { fields: [el("p", { class: "hint" }, "Imports the PIM's whole category tree.")], read: () => ({ payload: {} }) };
  }
  const what = /:all$/.test(type) ? "everything" : type.endsWith("products") ? "every product" : "every collection";
  const since = el("input", { type: "date", id: "start-since", "aria-describedby": "start-since-hint" });
  return {
    fields: [field("start-since", "Only what changed since (optional)", since, `Leave it empty to import ${what}.`)],
    read: () => {
      if (!since.value) return { payload: {} };
      // The day starts at midnight where the viewer is.
      const [year, month, day] = since.value.split("-").map(Number);
      const start = new Date(year, month - 1, day);
      if (Number.isNaN(start.getTime())) return { problem: "Give the date to import changes since, or leave it empty.", focus: since };
      return { payload: { since: start.toISOString().replace(/\.\d+Z$/, "Z") } };
    },
  };
}

function translationEditor() {
  const language = el("select", { id: "start-language" },
    ...LANGUAGES.map(([code, name]) => el("option", { value: code }, `${name} (${code})`)));
  const onlyMissing = el("input", { type: "radio", name: "labels", id: "start-labels-missing", value: "missing", checked: true });
  const every = el("input", { type: "radio", name: "labels", id: "start-labels-all", value: "all" });
  return {
    fields: [
      field("start-language", "Translate into", language),
      el("fieldset", { class: "options-group" }, el("legend", {}, "Labels to translate"),
        choice(onlyMissing, "Only those without a translation, or whose text changed since"),
        choice(every, "All of them again (this replaces your own corrections)")),
    ],
    read: () => ({ payload: { target_language: language.value, only_missing: onlyMissing.checked } }),
  };
}

// exportData is what an export's options show: the catalog, to choose and
// count its products, and the store's AI credits. They are read when the
// options show (the form opens, the type is chosen), and again when a
// marketplace job ends or the viewer clicks Refresh while they show: an
// idle page asks nothing.
const exportData = {
  catalog: null, // { products, complete, collections, categories }, or { error }
  credits: null, // { balance, credits_per_product }, or { error }
  showing: null, // the export editor's update, told when they change
};

const readExportData = oneAtATime(async () => {
  const [catalog, credits] = await Promise.allSettled([readCatalog(), api("/api/credits")]);
  exportData.catalog = catalog.status === "fulfilled" ? catalog.value : { error: catalog.reason };
  exportData.credits = credits.status === "fulfilled" ? credits.value : { error: credits.reason };
  exportData.showing?.();
});

// readCatalog reads what an export chooses from: the products (up to
// CATALOG_PAGES pages), the collections and the categories.
async function readCatalog() {
  const [products, collections, categories] = await Promise.all([
    readPages("/api/catalog/products", "products", CATALOG_PAGES),
    readPages("/api/catalog/collections", "collections", 5),
    readPages("/api/catalog/categories", "categories", 5),
  ]);
  return {
    products: products.items.map((p) => ({ id: p.id, title: p.title, sku: p.sku, collections: p.collections || [], categories: p.categories || [] })),
    complete: products.complete,
    collections: collections.items,
    categories: categories.items,
  };
}

async function readPages(path, key, pages) {
  const items = [];
  let cursor = "";
  for (let i = 0; i < pages; i++) {
    const page = await api(`${path}?limit=100${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
    items.push(...page[key]);
    cursor = page.next_cursor;
    if (!cursor) return { items, complete: true };
  }
  return { items, complete: false };
}

// exportEditor is an export's options: which products (all, a collection,
// a category or chosen ones), AI optimization, and the credits that takes
// against the store's balance.
function exportEditor(marketplace) {
  const radio = (value) => el("input", { type: "radio", name: "selection", id: "start-selection-" + value, value, checked: value === "all" });
  const selection = { all: radio("all"), collection: radio("collection"), category: radio("category"), products: radio("products") };
  const collection = el("select", { id: "start-collection", "aria-label": "Collection" });
  const category = el("select", { id: "start-category", "aria-label": "Category" });
  const find = el("input", { type: "search", id: "start-products-find", placeholder: "Find by title or SKU", "aria-label": "Find products" });
  const picker = el("ul", { id: "start-products", class: "product-picker", "aria-label": "Products to export" });
  const pickedCount = el("p", { class: "hint", id: "start-products-count", "aria-live": "polite" });
  const pickerBox = el("div", { class: "picker", hidden: true }, find, picker, pickedCount);
  const allCount = el("span", { class: "muted" });
  const ai = el("input", { type: "checkbox", id: "start-ai", checked: true });
  const estimate = el("p", { id: "start-credits", class: "credits-estimate", "aria-live": "polite" });
  const picked = new Set(); // the chosen products' ids, kept when the catalog is read again

  const how = () => Object.keys(selection).find((k) => selection[k].checked);
  for (const input of Object.values(selection)) input.addEventListener("change", () => update());
  // Choosing a collection or category chooses to export by it.
  collection.addEventListener("change", () => {
    selection.collection.checked = true;
    update();
  });
  category.addEventListener("change", () => {
    selection.category.checked = true;
    update();
  });
  ai.addEventListener("change", () => update());
  find.addEventListener("input", () => {
    const words = find.value.trim().toLowerCase();
    for (const item of picker.children) item.hidden = !!words && !item.dataset.search.includes(words);
  });
  picker.addEventListener("change", (event) => {
    if (event.target.checked) picked.add(event.target.value);
    else picked.delete(event.target.value);
    update();
  });

  // fill shows the catalog as read: the collections and categories with
  // how many products each takes, and the products to choose from.
  let filled = null;
  const fill = (catalog) => {
    if (filled === catalog) return;
    filled = catalog;
    const count = (test) => catalog.products.filter(test).length;
    const more = catalog.complete ? "" : "+";
    const products = (n) => `${n}${more} product${n === 1 && !more ? "" : "s"}`;
    allCount.textContent = ` (${products(catalog.products.length)})`;
    refill(collection, catalog.collections.map((c) => [c.id, `${c.title || c.handle || c.id} (${products(count((p) => p.collections.includes(c.id)))})`]), "no collections imported");
    refill(category, catalog.categories.map((c) => [c.code, `${categoryName(c)} (${products(count((p) => p.categories.includes(c.code)))})`]), "no categories imported");
    selection.collection.disabled = collection.disabled;
    selection.category.disabled = category.disabled;
    picker.replaceChildren(...catalog.products.map((p) => {
      const box = el("input", { type: "checkbox", id: "start-product-" + p.id, value: p.id, checked: picked.has(p.id) });
      const item = el("li", {}, choice(box, p.title || "Untitled product", p.sku ? el("code", { class: "muted" }, p.sku) : null));
      item.dataset.search = `${p.title || ""} ${p.sku || ""}`.toLowerCase();
      return item;
    }));
    // A product no longer in the catalog is no longer chosen.
    for (const id of picked) if (!catalog.products.some((p) => p.id === id)) picked.delete(id);
    find.dispatchEvent(new Event("input"));
  };

  // chosen is how many products the choice takes, and whether that is at
  // least as many (a catalog bigger than the pages read): null until read.
  const chosen = () => {
    const catalog = exportData.catalog;
    if (!catalog || catalog.error) return null;
    switch (how()) {
      case "collection":
        return { n: catalog.products.filter((p) => p.collections.includes(collection.value)).length, atLeast: !catalog.complete };
      case "category":
        return { n: catalog.products.filter((p) => p.categories.includes(category.value)).length, atLeast: !catalog.complete };
      case "products":
        return { n: picked.size, atLeast: false };
      default:
        return { n: catalog.products.length, atLeast: !catalog.complete };
    }
  };

  const update = () => {
    const { catalog, credits } = exportData;
    if (catalog && !catalog.error) fill(catalog);
    pickerBox.hidden = how() !== "products";
    pickedCount.textContent = `${picked.size} chosen`;
    estimate.replaceChildren(...estimateText(catalog, credits, chosen(), ai.checked));
    estimate.dataset.state = estimateState(credits, chosen(), ai.checked);
  };
  update();

  return {
    fields: [
      el("fieldset", { class: "options-group" }, el("legend", {}, `Products to export to ${marketplace}`),
        choice(selection.all, "All products", allCount),
        choice(selection.collection, "A collection", collection),
        choice(selection.category, "A category", category),
        choice(selection.products, "Chosen products"),
        pickerBox),
      el("div", { class: "options-group" },
        choice(ai, "Optimize titles, descriptions and bullet points with AI (paid in AI credits)"),
        estimate),
    ],
    open: () => {
      exportData.showing = update;
      readExportData();
    },
    close: () => {
      if (exportData.showing === update) exportData.showing = null;
    },
    read: () => {
      const payload = { ai_optimize: ai.checked };
      switch (how()) {
        case "collection":
          if (!collection.value) return { problem: "Choose the collection to export.", focus: collection };
          return { payload: { collection: collection.value, ...payload } };
        case "category":
          if (!category.value) return { problem: "Choose the category to export.", focus: category };
          return { payload: { category: category.value, ...payload } };
        case "products":
          if (picked.size === 0) return { problem: "Choose the products to export.", focus: find };
          if (picked.size > MAX_CHOSEN) return { problem: `Choose at most ${MAX_CHOSEN} products, or export a collection, a category or all of them.`, focus: find };
          return { payload: { product_ids: [...picked], ...payload } };
        default:
          return { payload: { all: true, ...payload } };
      }
    },
  };
}

// refill replaces a select's options, keeping the chosen one when it is
// still there; with none, the select is disabled and says so.
function refill(select, options, none) {
  const was = select.value;
  if (options.length === 0) {
    select.replaceChildren(el("option", { value: "" }, none));
    select.disabled = true;
    return;
  }
  select.replaceChildren(...options.map(([value, label]) => el("option", { value }, label)));
  select.disabled = false;
  if (options.some(([value]) => value === was)) select.value = was;
}

// categoryName is a category's label in English, or another, or its code.
function categoryName(category) {
  const labels = category.labels || {};
  return labels.en_US || labels.en_GB || Object.values(labels)[0] || category.code;
}

const plural = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;

// estimateText says what the export will cost in AI credits, against the
// balance: up to products × credits per product (a product unchanged since
// its last export costs none).
function estimateText(catalog, credits, chosen, optimize) {
  const balance = !credits ? [] : credits.error ? [`Your AI credits could not be read: ${describeError(credits.error)}`]
    : ["Your balance: ", el("strong", { class: "num" }, credits.balance.toLocaleString()), "."];
  if (!optimize) return ["Without AI optimization the export uses no AI credits. ", ...balance];
  if (catalog?.error) return [`The products could not be counted: ${describeError(catalog.error)} `, ...balance];
  if (!chosen || !credits) return ["Counting the products and reading your AI credits…"];
  if (chosen.n === 0) return ["No products chosen yet. ", ...balance];
  const products = `${chosen.n.toLocaleString()}${chosen.atLeast ? " or more" : ""} product${chosen.n === 1 && !chosen.atLeast ? "" : "s"}`;
  if (credits.error) return [`${products} chosen. `, ...balance];
  const per = credits.credits_per_product;
  const needed = chosen.n * per;
  const parts = [`Needs ${chosen.atLeast ? "at least" : "up to"} `, el("strong", { class: "num" }, plural(needed, "AI credit")),
    ` (${products} × ${plural(per, "credit")}; a product unchanged since its last export costs none). `, ...balance];
  if (credits.balance < needed) {
    parts.push(" ", el("span", { class: "credits-short" },
      `That is ${plural(needed - credits.balance, "credit")} short: the export stops when the credits run out, after sending the products paid for. ` +
      "Buy more credits, or export without AI optimization."));
  }
  return parts;
}

// estimateState is the estimate's state for the page's styles and tests:
// short when the balance cannot pay for the products chosen.
function estimateState(credits, chosen, optimize) {
  if (!optimize) return "no-ai";
  if (!credits || credits.error || !chosen) return "unknown";
  return credits.balance < chosen.n * credits.credits_per_product ? "short" : "enough";
}

// localInputValue is a time as a datetime-local input shows it: the
// viewer's local time, to the minute.
function localInputValue(t) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
}
