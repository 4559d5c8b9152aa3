/* micromall default theme: what the cart, checkout and order pages share (loaded there only,
   after shop.js, whose window.micromall keeps the cart; each page then loads its own script:
   cart-page.js, checkout.js or order.js, which take these functions from window.micromall.cart). Prices come from catalog.json, and every change to what
   the buyer saw is shown as a notice. Checkout POSTs the order to the order service (handler
   "http") or composes a message that the buyer sends by email, WhatsApp or WeChat ("message"). */
(function () {
  "use strict";
  const M = window.micromall;
  const data = document.getElementById("micromall-text");
  if (!M || !data) return;
  const cfg = M.config;
  const page = JSON.parse(data.textContent);
  const T = Object.assign({}, cfg.t, page.t);
  const field = (label, value) => fmt(T.field, { label: label, value: value });
  const plural = new Intl.PluralRules(cfg.language);
  const fmt = M.fmt;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const show = (node, on) => { if (node) node.hidden = !on; };
  const put = (sel, text, root) => { const node = $(sel, root); if (node) node.textContent = text; };
  const el = (tag, cls, text) => {
    const node = document.createElement(tag);
    node.className = cls || "";
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const KEYS = { orders: "micromall:orders:", attempt: "micromall:attempt:", last: "micromall:last-order:" };
  Object.keys(KEYS).forEach((k) => { KEYS[k] += cfg.base; });
  const get = (store, key) => { try { return JSON.parse(store.getItem(key)); } catch (e) { return null; } };
  const set = (store, key, value) => {
    try {
      if (value === null) store.removeItem(key);
      else store.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage refused */ }
  };
  const save = (cart) => { try { M.saveCart(cart); } catch (e) { /* the page still shows it */ } };
  let catalog = null;

  const money = M.money; // (minor units, currency = the shop's): the same rules as the templates

  async function loadCatalog() {
    const res = await fetch(cfg.catalog, { cache: "no-cache" });
    if (!res.ok) throw new Error(res.status);
    catalog = await res.json();
  }

  const find = (id, vid) => {
    const p = catalog.products.find((x) => x.id === id);
    const v = p && vid !== null ? p.variants.find((x) => x.id === vid) : null;
    return { p: p, v: v, title: p ? p.title + (v ? " · " + v.title : "") : id };
  };

  // The stored cart joined with catalog.json: removed, sold-out, short and repriced lines are
  // changed in `cart`, each change told to the buyer (a notice) before the cart is stored.
  function refresh() {
    const cart = M.loadCart();
    const lines = [];
    const notes = [];
    cart.items = cart.items.filter((item) => {
      const f = find(item.product, item.variant);
      const src = f.v || f.p;
      if (!f.p || f.v === undefined || (!f.v && f.p.variants.length)) {
        notes.push(fmt(T.removed, { title: item.title || item.product }));
        return false;
      }
      if (src.stock === 0) return !notes.push(fmt(T.soldOut, { title: f.title }));
      if (src.stock !== null && item.quantity > src.stock) {
        item.quantity = src.stock;
        notes.push(fmt(T.lowered, { title: f.title, n: src.stock }));
      }
      // a sale window open on this device's clock: the service charges by its own
      const price = M.salePrice(catalog, f.p.id, src.price);
      if (typeof item.price === "number" && item.price !== price && item.price !== src.price) {
        notes.push(fmt(T.repriced, { title: f.title, old: money(item.price), new: money(price) }));
      }
      item.price = price;
      item.title = f.title;
      lines.push(Object.assign(f, { item: item, price: price, regular: src.price, stock: src.stock, total: price * item.quantity }));
      return true;
    });
    notes.forEach((note) => $("[data-notices]").appendChild(el("p", "notice", note)).setAttribute("data-notice", ""));

    const subtotal = lines.reduce((sum, l) => sum + l.total, 0);
    const cost = (m) => (!m || (m.free_over !== null && subtotal >= m.free_over) ? 0 : m.price);
    const method = catalog.shipping.find((m) => m.id === cart.shipping) || catalog.shipping[0] || null;
    const pickup = !!(method && method.pickup);
    if (method) cart.shipping = method.id;
    save(cart);

    document.querySelectorAll("input[name=shipping]").forEach((radio) => {
      const m = catalog.shipping.find((x) => x.id === radio.value);
      radio.checked = method !== null && radio.value === method.id;
      if (m) put(".choice__price", cost(m) ? money(cost(m)) : T.free, radio.parentNode);
    });
    const select = $("select[name=store]");
    if (select) {
      select.value = cart.store || "";
      put("[data-store-address]", select.value ? select.selectedOptions[0].getAttribute("data-address") : "");
    }
    const address = $("#f-address");
    if (address) address.required = !pickup;
    show($("[data-store-field]"), pickup);
    show($("[data-address-field]"), !pickup);
    const count = lines.reduce((n, l) => n + l.item.quantity, 0);
    put("[data-cart-items]", fmt(T.items[plural.select(count)] || T.items.other, { n: count }));
    put("[data-cart-subtotal]", money(subtotal));
    put("[data-cart-shipping]", cost(method) ? money(cost(method)) : T.free);
    put("[data-cart-total]", money(subtotal + cost(method)));
    // a group-buy pre-order is an order of its own (the order service refuses it beside anything
    // else, docs/orders.md): name it, so the cart and checkout can say so before the buyer tries
    const group = lines.find((l) => l.p.group_buy);
    const mixed = group && lines.some((l) => l.p.id !== group.p.id) ? fmt(T.groupBuyAlone, { title: group.p.title }) : "";
    put("[data-cart-mixed]", mixed);
    show($("[data-cart-mixed]"), !!mixed);
    return { cart: cart, lines: lines, method: method, pickup: pickup, subtotal: subtotal, shipping: cost(method), total: subtotal + cost(method), mixed: mixed };
  }

  let render = null;

  function updateCart(change) {
    const cart = M.loadCart();
    change(cart);
    save(cart);
    render();
  }

  // The cart and checkout pages: load catalog.json, then render; follow other tabs and the delivery choice.
  async function start(renderPage) {
    render = render || renderPage;
    try {
      await loadCatalog();
    } catch (e) {
      const empty = !M.loadCart().items.length;
      show($("[data-cart-empty]"), empty);
      return show($("[data-load-error]"), !empty);
    }
    show($("[data-load-error]"), false);
    render();
  }

  function initShared() {
    $("[data-retry]").addEventListener("click", () => start());
    window.addEventListener("storage", (event) => {
      if (catalog && (event.key === M.key || event.key === null)) render();
    });
    // back to this page from the back/forward cache, e.g. after placing the order: show the cart as it is now
    window.addEventListener("pageshow", (event) => {
      if (catalog && event.persisted) render();
    });
    document.addEventListener("change", (event) => {
      const t = event.target;
      if (!catalog || (t.name !== "shipping" && t.name !== "store")) return;
      updateCart((cart) => { cart[t.name] = t.value || null; });
      if (t.name === "store" && t.value) fieldError(t, "");
    });
  }


  const CHECKS = {
    name: (v) => (v ? "" : T.errName),
    phone: (v) => (/^\+?[\d ()\-.]{5,25}$/.test(v) && v.replace(/\D/g, "").length >= 5 ? "" : T.errPhone),
    email: (v) => (/^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$/.test(v) ? "" : T.errEmail),
    address: (v) => (v ? "" : T.errAddress),
    store: (v) => (v ? "" : T.errStore),
  }; // as strict as the order service, which checks them again

  function fieldError(input, message) {
    put("#" + input.id + "-error", message);
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  // the orders placed on this device: [{reference, token, created}], newest first
  function remembered() {
    const list = get(localStorage, KEYS.orders);
    return (Array.isArray(list) ? list : []).filter((o) => o && typeof o.reference === "string");
  }

  function emptyCart() {
    const cart = M.loadCart();
    cart.items = [];
    save(cart);
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b + 256).toString(16).slice(1)).join("");
  }

  function summaryLine(quantity, title, amount) {
    const li = el("li", "summary-line");
    li.append(el("span", "", quantity + " × " + title), el("span", "summary-line__amount", amount));
    return li;
  }


  M.cart = {
    T: T, page: page, cfg: cfg, fmt: fmt, field: field, $: $, show: show, put: put, el: el, KEYS: KEYS, get: get, set: set,
    save: save, money: money, loadCatalog: loadCatalog, find: find, refresh: refresh, updateCart: updateCart,
    start: start, rerender: () => render(), CHECKS: CHECKS, fieldError: fieldError, remembered: remembered,
    emptyCart: emptyCart, newKey: newKey, summaryLine: summaryLine,
  };
  const root = (name) => $("[data-" + name + "-page]");
  if (root("cart") || root("checkout")) initShared();
})();
