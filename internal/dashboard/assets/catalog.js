// The Marketplace Hub's catalog: the products the imports brought in, a
// page at a time, each with its first image, title, SKU, price and number
// of variants. Opened, a product shows its state on each marketplace it is
// exported to; that is asked for then (GET …/products/{id}), not for every
// product of a page.
//
// The images are in a private bucket. An <img> cannot send the token the
// API needs, so the page asks the API for each image's short-lived signed
// URL as JSON and sets it as the image's src (the pages'
// Content-Security-Policy allows images from the bucket's origin).
import {
  $, el, api, describeError, timeElement, syncList, onMarketplaceJobEnded, oneAtATime,
} from "./common.js";

const PAGE_SIZE = 20;

// EXPORT_MARKETPLACES are where products are exported, as a product's
// listings name them.
const EXPORT_MARKETPLACES = [["amazon", "Amazon"], ["ebay", "eBay"]];

// IMAGE_REQUESTS is how many image URLs the page asks for at a time: a
// page of products does not queue twenty requests ahead of the others.
const IMAGE_REQUESTS = 4;

const SOURCES = { shopify: "Shopify", akeneo: "Akeneo" };

// setUpCatalog shows the catalog of the store the page is about: a store
// token's own, or the one an operator names with ?store_id=.
export function setUpCatalog(operator, storeID) {
  if (operator && !storeID) return;
  $("catalog").hidden = false;
  const scope = storeID ? "store_id=" + encodeURIComponent(storeID) : "";
  const withScope = (path) => path + (scope ? (path.includes("?") ? "&" : "?") + scope : "");
  const imageURL = limited(IMAGE_REQUESTS, (key) =>
    api(withScope("/api/catalog/images/" + key.split("/").map(encodeURIComponent).join("/"))));
  let products = [];
  let pages = 0; // pages shown, which a refresh reads again
  let cursor = ""; // where the next page starts; "" when there is none
  let generation = 0; // the refreshes so far: an open product's listings are as old as the one that read them

  // readPages reads the first n pages of the catalog.
  async function readPages(n) {
    const read = [];
    let next = "";
    let count = 0;
    do {
      const page = await api(withScope(`/api/catalog/products?limit=${PAGE_SIZE}${next ? "&cursor=" + encodeURIComponent(next) : ""}`));
      read.push(...page.products);
      next = page.next_cursor;
      count++;
    } while (next && count < n);
    return { read, next, count };
  }

  const refresh = oneAtATime(async () => {
    try {
      const { read, next, count } = await readPages(Math.max(1, pages));
      generation++;
      products = read;
      pages = count;
      cursor = next;
      show();
    } catch (err) {
      problem("Could not show the catalog: " + describeError(err));
    }
  });

  const more = $("catalog-more");
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const page = await api(withScope(`/api/catalog/products?limit=${PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`));
      // A refresh meanwhile may have read this page already.
      const known = new Set(products.map((p) => p.id));
      products = products.concat(page.products.filter((p) => !known.has(p.id)));
      pages++;
      cursor = page.next_cursor;
      show();
    } catch (err) {
      problem("Could not load more products: " + describeError(err));
    } finally {
      more.disabled = false;
    }
  });

  function problem(text) {
    $("catalog-problem").textContent = text;
    $("catalog-problem").hidden = false;
  }

  function show() {
    $("catalog-problem").hidden = true;
    $("catalog-empty").hidden = products.length > 0;
    $("catalog-shown").textContent = products.length === 0 ? "" :
      `${products.length} product${products.length === 1 ? "" : "s"}${cursor ? " shown" : ""}`;
    more.hidden = !cursor;
    syncList($("catalog-products"), products, (p) => p.id, createProduct, updateProduct);
  }

  function createProduct(product) {
    const image = el("img", { alt: "", width: "56", height: "56", decoding: "async", hidden: true });
    image.addEventListener("error", () => {
      image.hidden = true;
    });
    const details = el("details", {},
      el("summary", {},
        el("span", { class: "product-image" }, image),
        el("span", { class: "product-main" },
          el("span", { class: "product-title" }),
          el("span", { class: "product-facts" }))),
      el("div", { class: "product-listings" }));
    // Opened, it shows where the product is exported, asked for then.
    details.addEventListener("toggle", () => {
      if (details.open) showListings(details.closest(".product"));
    });
    const node = el("li", { class: "product" }, details);
    node.dataset.id = product.id;
    return node;
  }

  function updateProduct(node, product) {
    node.querySelector(".product-title").textContent = product.title || "Untitled product";
    node.querySelector(".product-facts").replaceChildren(...facts(product));
    const stored = (product.images || []).find((img) => img.key);
    const image = node.querySelector("img");
    if (stored && node.dataset.image !== stored.key) {
      node.dataset.image = stored.key;
      image.alt = stored.alt || product.title || "";
      imageURL(stored.key).then((answer) => {
        if (node.dataset.image !== stored.key) return;
        image.src = answer.url;
        image.hidden = false;
      }, () => {
        // The placeholder stays: a picture is not worth an error line.
      });
    } else if (!stored) {
      delete node.dataset.image;
      image.hidden = true;
      image.removeAttribute("src");
    }
    // An open product's listings may have changed with the job that ended.
    if (node.querySelector("details").open && Number(node.dataset.generation) < generation) showListings(node);
  }

  async function showListings(node) {
    const box = node.querySelector(".product-listings");
    if (!box.hasChildNodes()) box.append(el("p", { class: "muted" }, "Loading its marketplaces…"));
    node.dataset.generation = generation;
    try {
      const answer = await api(withScope("/api/catalog/products/" + encodeURIComponent(node.dataset.id)));
      const listings = new Map(answer.listings.map((l) => [l.marketplace, l]));
      box.replaceChildren(el("ul", { class: "listings" },
        ...EXPORT_MARKETPLACES.map(([name, title]) => listingElement(name, title, listings.get(name)))));
    } catch (err) {
      box.replaceChildren(el("p", { class: "error-text" }, "Could not show its marketplaces: " + describeError(err)));
    }
  }

  onMarketplaceJobEnded(refresh);
  refresh();
}

// facts are a product's SKU, price, variants and source, in a line.
function facts(product) {
  const variants = (product.variants || []).length;
  const parts = [
    product.sku ? el("span", {}, "SKU ", el("code", { class: "product-sku" }, product.sku)) : el("span", { class: "muted" }, "No SKU"),
    priceOf(product),
    variants ? `${variants} variant${variants === 1 ? "" : "s"}` : "",
    SOURCES[product.source] || product.source,
  ].filter(Boolean);
  return parts.flatMap((part, i) => (i ? [" · ", part] : [part]));
}

// priceOf is a product's price: its variants' (a range when they differ),
// or the source's prices (Akeneo's), in the first currency given.
function priceOf(product) {
  let prices = (product.variants || []).filter((v) => v.price).map((v) => ({ amount: v.price, currency: v.currency || "" }));
  if (prices.length === 0) prices = product.prices || [];
  if (prices.length === 0) return "";
  const currency = prices[0].currency;
  const amounts = prices.filter((p) => p.currency === currency).map((p) => Number(p.amount)).filter(Number.isFinite);
  if (amounts.length === 0) return "";
  const low = Math.min(...amounts);
  const high = Math.max(...amounts);
  const text = low === high ? money(low, currency) : `${money(low, currency)}–${money(high, currency)}`;
  return el("span", { class: "product-price num" }, text);
}

function money(amount, currency) {
  if (currency) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
    } catch {
      return `${amount.toFixed(2)} ${currency}`;
    }
  }
  return amount.toFixed(2);
}

const LISTING_LABELS = { listed: "Listed", invalid: "Invalid", failed: "Failed", never: "Never exported" };

// listingElement is a product's state on a marketplace, as its last export
// left it.
function listingElement(name, title, listing) {
  const status = listing ? listing.status : "never";
  const item = el("li", { class: "listing", "data-marketplace": name, "data-status": status },
    el("span", { class: "listing-name" }, title),
    el("span", { class: "listing-state listing-" + status }, LISTING_LABELS[status] || status));
  if (!listing) return item;
  // A listed product is found on the marketplace by these; a refused one
  // by its issues.
  const ids = status !== "listed" ? [] : name === "amazon"
    ? [listing.asin && "ASIN " + listing.asin, !listing.asin && listing.submission_id && "submission " + listing.submission_id]
    : [listing.listing_id && "listing " + listing.listing_id, !listing.listing_id && listing.offer_id && "offer " + listing.offer_id];
  item.append(el("span", { class: "listing-detail" },
    ...ids.filter(Boolean).flatMap((id) => [el("span", { class: "listing-id" }, id), " · "]),
    "exported ", timeElement(listing.exported_at), listing.ai_optimized ? " · AI-optimized" : ""));
  const issues = listing.issues || [];
  if (issues.length) {
    item.append(el("ul", { class: "issues" }, ...issues.map((issue) => el("li", {
      class: (issue.severity || "").toUpperCase() === "WARNING" ? "issue-warning" : "issue-error",
    }, issue.field ? el("code", {}, issue.field) : null, issue.field ? ": " : null, issue.message))));
  }
  return item;
}

// limited runs call for at most n arguments at a time; the others wait.
function limited(n, call) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= n || waiting.length === 0) return;
    running++;
    const { arg, resolve, reject } = waiting.shift();
    call(arg).then(resolve, reject).finally(() => {
      running--;
      next();
    });
  };
  return (arg) => new Promise((resolve, reject) => {
    waiting.push({ arg, resolve, reject });
    next();
  });
}
