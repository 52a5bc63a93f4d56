// The Marketplace Hub's connections: the store's connection to each
// marketplace (connected, with the account it names; invalid, with the
// marketplace's reason and since when; not connected), a form to connect or
// re-configure one, and Disconnect. The API checks credentials with the
// marketplace before it saves them; a secret goes to it once and is never
// shown again (the API returns none, and the form is emptied once saved).
// Above them, the store's AI credits.
import {
  $, el, api, announce, describeError, timeElement, onMarketplaceJobEnded, oneAtATime,
} from "./common.js";

// MARKETPLACES are the marketplaces in the hub's order, each with the
// fields of its credentials (PUT /api/marketplace/connections/{name}).
// Secret fields are never filled in again; the others are, from the
// account the connection names, to re-configure it.
const MARKETPLACES = [
  {
    name: "shopify", title: "Shopify", fields: [
      { name: "shop_domain", label: "Shop domain", placeholder: "acme.myshopify.com" },
      { name: "access_token", label: "Admin API access token", secret: true },
    ],
  },
  {
    name: "akeneo", title: "Akeneo", fields: [
      { name: "base_url", label: "PIM address", type: "url", placeholder: "https://acme.cloud.akeneo.com" },
      { name: "client_id", label: "Client ID" },
      { name: "client_secret", label: "Client secret", secret: true },
      { name: "username", label: "API user" },
      { name: "password", label: "API user's password", secret: true },
    ],
  },
  {
    name: "amazon", title: "Amazon", fields: [
      { name: "client_id", label: "LWA client ID" },
      { name: "client_secret", label: "LWA client secret", secret: true },
      { name: "refresh_token", label: "Refresh token", secret: true },
      { name: "seller_id", label: "Seller ID" },
      { name: "marketplace_ids", label: "Marketplace IDs (separated by commas)", placeholder: "ATVPDKIKX0DER", list: true },
      { name: "region", label: "Region", choices: [["na", "North America (na)"], ["eu", "Europe (eu)"], ["fe", "Far East (fe)"]] },
    ],
  },
  {
    name: "ebay", title: "eBay", fields: [
      { name: "client_id", label: "Client ID (App ID)" },
      { name: "client_secret", label: "Client secret (Cert ID)", secret: true },
      { name: "refresh_token", label: "Refresh token", secret: true },
      { name: "marketplace_id", label: "Marketplace", placeholder: "EBAY_US" },
      { name: "content_language", label: "Content language", placeholder: "en-US" },
    ],
    // Optional to connect; an export needs every one of them.
    listingSettings: [
      { name: "merchant_location_key", label: "Inventory location key" },
      { name: "fulfillment_policy_id", label: "Fulfillment policy ID" },
      { name: "payment_policy_id", label: "Payment policy ID" },
      { name: "return_policy_id", label: "Return policy ID" },
      { name: "category_id", label: "Category ID" },
    ],
  },
];

const STATE_LABELS = { connected: "Connected", invalid: "Invalid", not_connected: "Not connected" };

// formOpeners open each marketplace's form, by name, once the hub shows.
const formOpeners = new Map();

// openConnectionForm opens a marketplace's form in the hub, as its
// Re-configure button does: where a job that failed with "Invalid
// credentials" leads. It reports whether the hub shows that marketplace.
export function openConnectionForm(name) {
  const open = formOpeners.get(name);
  if (open) open();
  return !!open;
}

// setUpConnections shows the hub for the store the page is about: a store
// token's own, or the one an operator names with ?store_id=. An operator's
// every-store view has no hub.
export function setUpConnections(operator, storeID) {
  if (operator && !storeID) return;
  $("hub").hidden = false;
  const scope = storeID ? "?store_id=" + encodeURIComponent(storeID) : "";
  const rows = new Map(MARKETPLACES.map((m) => [m.name, createRow(m)]));
  $("connections").append(...rows.values());

  const refresh = oneAtATime(async () => {
    await Promise.all([showConnections(), showCredits()]);
  });

  async function showConnections() {
    const problem = $("connections-problem");
    try {
      const answer = await api("/api/marketplace/connections" + scope);
      for (const connection of answer.connections) {
        const row = rows.get(connection.marketplace);
        if (row) row.show(connection);
      }
      problem.hidden = true;
    } catch (err) {
      problem.textContent = "Could not show the connections: " + describeError(err);
      problem.hidden = false;
    }
  }

  async function showCredits() {
    const balance = $("credits-balance");
    const note = $("credits-note");
    try {
      const credits = await api("/api/credits" + scope);
      balance.textContent = credits.balance.toLocaleString();
      const per = credits.credits_per_product;
      note.textContent = `· an AI-optimized export costs ${per} credit${per === 1 ? "" : "s"} per product`;
      $("credits").dataset.state = "known";
    } catch (err) {
      balance.textContent = "–";
      note.textContent = "· " + describeError(err);
      $("credits").dataset.state = "unavailable";
    }
  }

  // createRow is one marketplace's row: its state, its actions, the
  // confirmation of a disconnect and the form, hidden until asked for.
  function createRow(marketplace) {
    const { name, title } = marketplace;
    const state = el("span", { class: "connection-state" });
    const account = el("span", { class: "connection-account" });
    const detail = el("p", { class: "connection-detail" });
    const configure = el("button", { type: "button", class: "small configure", "aria-expanded": "false" });
    const disconnect = el("button", { type: "button", class: "small disconnect" }, "Disconnect");
    const confirmDisconnect = el("button", { type: "button", class: "small danger confirm-disconnect" }, `Disconnect ${title}`);
    const keep = el("button", { type: "button", class: "small keep" }, "Keep it");
    const confirmation = el("div", { class: "disconnect-confirm", role: "group", "aria-label": `Disconnect ${title}?`, hidden: true },
      el("span", {}, `Disconnect ${title}? Its jobs are refused until it is connected again, and its credentials are deleted.`),
      el("span", { class: "actions" }, confirmDisconnect, keep));
    const { form, fill } = createForm(marketplace);
    const row = el("li", { class: "connection", "data-marketplace": name },
      el("div", { class: "connection-line" },
        el("span", { class: "connection-name" }, title), state, account,
        el("span", { class: "connection-actions" }, configure, disconnect)),
      detail, confirmation, form);
    let current = { marketplace: name, state: "not_connected" };

    row.show = (connection) => {
      current = connection;
      row.dataset.state = connection.state;
      state.className = "connection-state state-" + connection.state;
      state.textContent = STATE_LABELS[connection.state] || connection.state;
      account.textContent = connection.state === "not_connected" ? "" : accountInWords(name, connection.account || {});
      detail.replaceChildren(...stateDetail(marketplace, connection));
      detail.hidden = detail.childNodes.length === 0;
      configure.textContent = connection.state === "not_connected" ? "Connect" : "Re-configure";
      configure.classList.toggle("primary", connection.state !== "connected");
      disconnect.hidden = connection.state === "not_connected";
      if (disconnect.hidden) confirmation.hidden = true;
    };

    const closeForm = () => {
      form.reset();
      form.querySelector(".connection-error").textContent = "";
      form.hidden = true;
      configure.setAttribute("aria-expanded", "false");
    };
    configure.addEventListener("click", () => {
      if (!form.hidden) {
        closeForm();
        return;
      }
      confirmation.hidden = true;
      fill(current.state === "not_connected" ? {} : current.account || {});
      form.hidden = false;
      configure.setAttribute("aria-expanded", "true");
      form.querySelector("input, select").focus();
    });
    formOpeners.set(name, () => {
      if (form.hidden) configure.click();
      else form.querySelector("input, select").focus();
    });
    form.querySelector(".cancel-form").addEventListener("click", () => {
      closeForm();
      configure.focus();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const submit = form.querySelector('button[type="submit"]');
      const error = form.querySelector(".connection-error");
      submit.disabled = true;
      submit.textContent = `Checking with ${title}…`;
      error.textContent = "";
      try {
        const answer = await api(`/api/marketplace/connections/${name}${scope}`, { method: "PUT", body: credentialsOf(marketplace, form) });
        // Saved: the secrets leave the page.
        closeForm();
        row.show(answer.connection);
        $("hub-result").textContent = `${title} is connected: its credentials were checked and saved.`;
        announce(`${title} is connected.`);
        configure.focus();
      } catch (err) {
        // In the marketplace's words (422), or why it could not be asked
        // (502): nothing was saved, and the form keeps what was typed.
        error.textContent = describeError(err);
      } finally {
        submit.disabled = false;
        submit.textContent = "Check and save";
      }
    });

    disconnect.addEventListener("click", () => {
      closeForm();
      confirmation.hidden = false;
      confirmDisconnect.focus();
    });
    keep.addEventListener("click", () => {
      confirmation.hidden = true;
      disconnect.focus();
    });
    confirmDisconnect.addEventListener("click", async () => {
      confirmDisconnect.disabled = true;
      try {
        const answer = await api(`/api/marketplace/connections/${name}${scope}`, { method: "DELETE" });
        confirmation.hidden = true;
        row.show(answer.connection);
        $("hub-result").textContent = `${title} is disconnected.`;
        announce(`${title} is disconnected.`);
        configure.focus();
      } catch (err) {
        $("hub-result").textContent = `Could not disconnect ${title}: ${describeError(err)}`;
      } finally {
        confirmDisconnect.disabled = false;
      }
    });
    return row;
  }

  onMarketplaceJobEnded(refresh);
  refresh();
}

// createForm is a marketplace's credentials form; fill sets its fields
// from a connection's account (never a secret: the account holds none).
function createForm(marketplace) {
  const id = (field) => `connect-${marketplace.name}-${field.name}`;
  const input = (field, required) => {
    const attributes = { id: id(field), name: field.name, autocomplete: "off", spellcheck: "false", required };
    if (field.choices) {
      return el("select", attributes, ...field.choices.map(([value, label]) => el("option", { value }, label)));
    }
    // A new password: the browser offers no saved password for it.
    if (field.secret) Object.assign(attributes, { type: "password", autocomplete: "new-password" });
    else Object.assign(attributes, { type: field.type || "text", placeholder: field.placeholder });
    return el("input", attributes);
  };
  const fieldElement = (field, required) => el("div", { class: "field" },
    el("label", { for: id(field) }, field.label), input(field, required));
  const settings = marketplace.listingSettings || [];
  const form = el("form", { class: "connection-form", hidden: true, "aria-label": `${marketplace.title} credentials` },
    ...marketplace.fields.map((f) => fieldElement(f, true)),
    settings.length ? el("fieldset", { class: "field-wide listing-settings" },
      el("legend", {}, "Listing settings: optional to connect, needed to export"),
      ...settings.map((f) => fieldElement(f, false))) : null,
    el("div", { class: "field-actions field-wide" },
      el("button", { type: "submit", class: "primary" }, "Check and save"),
      el("button", { type: "button", class: "cancel-form" }, "Cancel")),
    el("p", { class: "connection-error error-text field-wide", role: "alert" }));
  const fill = (account) => {
    form.reset();
    for (const field of [...marketplace.fields, ...settings]) {
      const value = account[field.name];
      if (field.secret || value === undefined) continue;
      form.elements[field.name].value = Array.isArray(value) ? value.join(", ") : value;
    }
  };
  return { form, fill };
}

// credentialsOf reads a form into the body the API takes: a list field as
// a list, and the optional fields only when given.
function credentialsOf(marketplace, form) {
  const body = {};
  for (const field of marketplace.fields) {
    const value = form.elements[field.name].value.trim();
    body[field.name] = field.list ? value.split(/[\s,]+/).filter(Boolean) : value;
  }
  for (const field of marketplace.listingSettings || []) {
    const value = form.elements[field.name].value.trim();
    if (value) body[field.name] = value;
  }
  return body;
}

// accountInWords names the account a connection is to, without a secret.
function accountInWords(name, account) {
  switch (name) {
    case "shopify":
      return account.shop_domain || "";
    case "akeneo":
      return [account.username, account.base_url].filter(Boolean).join(" at ");
    case "amazon":
      return [account.seller_id && "Seller " + account.seller_id, (account.marketplace_ids || []).join(", "), account.region]
        .filter(Boolean).join(" · ");
    case "ebay":
      return [account.marketplace_id, account.content_language].filter(Boolean).join(" · ");
    default:
      return "";
  }
}

// stateDetail says what a connection's state means for the store: since
// when it works, or why the marketplace refuses it and what to do.
function stateDetail(marketplace, connection) {
  if (connection.state === "invalid") {
    return [el("span", { class: "error-text" },
      `${marketplace.title} has rejected the credentials since `, timeElement(connection.invalid_since),
      `: ${connection.reason || "no reason given"}.`), " Re-configure the connection with new credentials; until then its jobs are refused."];
  }
  if (connection.state !== "connected") return [];
  const parts = ["Connected since ", timeElement(connection.connected_at)];
  const missing = (marketplace.listingSettings || []).filter((f) => !(connection.account || {})[f.name]);
  if (missing.length) {
    parts.push(" · ", el("span", { class: "retry-text" }, "Exports need its listing settings: " + missing.map((f) => f.label.toLowerCase()).join(", ")));
  }
  return parts;
}
