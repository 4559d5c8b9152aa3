/* micromall default theme: the cart, checkout and order pages (loaded there only, after shop.js,
   whose window.micromall keeps the cart). Prices come from catalog.json, and every change to what
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
      // a sale window open on this device's clock (buyer.js): the service charges by its own
      const price = M.salePrice ? M.salePrice(catalog, f.p.id, src.price) : src.price;
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
    return { cart: cart, lines: lines, method: method, pickup: pickup, subtotal: subtotal, shipping: cost(method), total: subtotal + cost(method) };
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

  /* ---- Cart page ---- */
  function initCartPage(root) {
    const list = $("[data-cart-lines]", root);
    const status = $("[data-cart-status]", root);
    const key = (li) => li.getAttribute("data-product") + "/" + li.getAttribute("data-variant");
    const change = (li, how) => updateCart((cart) => {
      cart.items = cart.items.filter((item) => item.product + "/" + item.variant !== key(li) || how(item));
    });

    function line(l) {
      const li = $("[data-line-template]", root).content.firstElementChild.cloneNode(true);
      const slot = (name) => $('[data-slot="' + name + '"]', li);
      li.setAttribute("data-product", l.item.product);
      if (l.item.variant !== null) li.setAttribute("data-variant", l.item.variant);
      li.setAttribute("data-title", l.title);
      slot("link").href = slot("title").href = l.p.url;
      slot("title").textContent = l.p.title;
      const image = (l.v && l.v.image) || l.p.image;
      if (image) slot("img").src = image;
      else slot("img").remove();
      slot("variant").textContent = l.v ? l.v.title : "";
      slot("unit").textContent = fmt(T.each, { price: money(l.price) });
      if (l.regular !== l.price) slot("unit").append(" ", el("s", "price__compare", money(l.regular)));
      slot("total").textContent = money(l.total);
      const quantity = $("[data-line-quantity]", li);
      quantity.value = l.item.quantity;
      quantity.max = Math.min(99, l.stock === null ? 99 : l.stock);
      quantity.setAttribute("aria-label", fmt(T.quantityOf, { title: l.title }));
      $("[data-line-remove]", li).setAttribute("aria-label", fmt(T.removeItem, { title: l.title }));
      return li;
    }

    start(() => {
      // keep the focus on the same control of the same line (or the next line) across the redraw
      const active = document.activeElement;
      const old = list.contains(active) && active.closest("[data-cart-line]");
      const index = Array.prototype.indexOf.call(list.children, old);
      const control = ["[data-line-quantity]", '[data-step="-1"]', '[data-step="1"]', "[data-line-remove]", "[data-slot=title]"].find((s) => old && active.matches(s));
      const r = refresh();
      list.textContent = "";
      r.lines.forEach((l) => list.appendChild(line(l)));
      show($("[data-cart-empty]", root), !r.lines.length);
      show($("[data-cart-body]", root), r.lines.length > 0);
      if (!old) return;
      const same = Array.prototype.find.call(list.children, (li) => key(li) === key(old));
      const next = same ? control && $(control, same) : $("[data-line-remove]", list.children[index] || list.lastElementChild || root) || $("[data-cart-empty] a", root);
      if (next) next.focus();
    });

    list.addEventListener("change", (event) => {
      const li = event.target.matches("[data-line-quantity]") && event.target.closest("[data-cart-line]");
      if (!li) return;
      const n = Math.max(1, Math.min(99, parseInt(event.target.value, 10) || 1));
      change(li, (item) => { item.quantity = n; return true; });
      status.textContent = fmt(T.quantityNow, { title: li.getAttribute("data-title"), n: n });
    });
    list.addEventListener("click", (event) => {
      const li = event.target.closest("[data-line-remove]") && event.target.closest("[data-cart-line]");
      if (!li) return;
      change(li, () => false);
      status.textContent = fmt(T.removedItem, { title: li.getAttribute("data-title") });
    });
  }

  /* ---- Checkout page ---- */
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

  function initCheckoutPage(root) {
    const form = $("#checkout-form", root);
    const submit = $("[data-submit]", form);
    const label = submit.textContent;
    const errorBox = $("[data-form-error]", form);
    const step = $("[data-message-step]", root);
    const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    let state = null;
    let sent = false;
    let reference = "";

    start(() => {
      state = refresh();
      const list = $("[data-summary-lines]", root);
      list.textContent = "";
      state.lines.forEach((l) => list.appendChild(summaryLine(l.item.quantity, l.title, money(l.total))));
      if (sent) return;
      show($("[data-cart-empty]", root), !state.lines.length);
      show($("[data-checkout-body]", root), state.lines.length > 0);
    });

    form.addEventListener("input", (event) => {
      const t = event.target;
      if (t.getAttribute("aria-invalid") && CHECKS[t.name]) fieldError(t, CHECKS[t.name](t.value.trim()));
    });

    function formError(parts, action) {
      errorBox.textContent = "";
      parts.concat(action || []).forEach((part) => {
        if (part) errorBox.appendChild(typeof part === "string" ? el("p", "", part) : part);
      });
      show(errorBox, parts.length > 0);
      if (parts.length) errorBox.focus();
    }

    function button(text, onClick) {
      const b = el("button", "btn btn--small btn--primary", text);
      b.type = "button";
      b.addEventListener("click", onClick);
      return b;
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!state || !state.lines.length) return;
      formError([]);
      const bad = ["name", "phone", "email", state.pickup ? "store" : "address"].filter((name) => {
        const input = form.elements[name];
        if (input) fieldError(input, CHECKS[name](input.value.trim()));
        return input && input.hasAttribute("aria-invalid");
      });
      if (bad.length) return form.elements[bad[0]].focus();
      if (cfg.handler !== "http") return compose();
      place({
        items: state.cart.items.map((i) => ({ product: i.product, variant: i.variant, quantity: i.quantity })),
        shipping: state.method ? state.method.id : null,
        store: state.pickup ? value("store") : null,
        customer: { name: value("name"), phone: value("phone"), email: value("email"), address: state.pickup ? "" : value("address") },
        note: value("note"),
        coupon: value("coupon"),
        expected_total: state.total,
        // a promoter's ?ref= and a store poster's ?store=, kept by shop.js (null when none)
        ...(M.attribution ? M.attribution() : {}),
      });
    });

    /* handler "http": one Idempotency-Key per attempt, kept in sessionStorage for retries of the same body */
    async function place(body, fresh) {
      const json = JSON.stringify(body);
      let attempt = get(sessionStorage, KEYS.attempt);
      if (fresh || !attempt || attempt.body !== json) attempt = { key: newKey(), body: json };
      set(sessionStorage, KEYS.attempt, attempt);
      const retry = (message, renew) => formError([message], button(T.retry, () => place(body, renew)));
      formError([]);
      submit.disabled = true;
      submit.textContent = T.sending;
      let res = null;
      let answer = null;
      try {
        res = await fetch(cfg.endpoint, { method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": attempt.key }, body: json });
        answer = await res.json().catch(() => null);
      } catch (e) { /* network error: res stays null */ }
      if (res && res.status === 201 && answer && answer.reference) return placed(answer); // the button stays busy
      submit.disabled = false;
      submit.textContent = label;
      if (!res || res.status >= 500 || res.status === 429) return retry(res && (res.status === 503 || res.status === 429) ? T.busy : T.network);
      set(sessionStorage, KEYS.attempt, null); // a definite answer ends this attempt: a new submit gets a new key
      const err = (answer && answer.error) || {};
      if (err.code === "idempotency_conflict") return retry(T.failed, true);
      if (err.code === "price_changed" && typeof err.total === "number") {
        // a coupon lowers the total (the page cannot know by how much); else prices changed: show
        // them in the summary too. Either way the buyer confirms the new total, with a new key.
        const coupon = body.coupon && err.total < body.expected_total;
        if (!coupon) loadCatalog().then(render, () => {});
        return formError([fmt(coupon ? T.couponTotal : T.priceChanged, { old: money(body.expected_total), new: money(err.total) })],
          button(T.confirmTotal, () => place(Object.assign({}, body, { expected_total: err.total }), true)));
      }
      if (err.code === "out_of_stock") {
        const list = el("ul");
        (err.items || []).forEach((it) => list.appendChild(el("li", "", fmt(T.available, { title: find(it.product, it.variant || null).title, n: it.available }))));
        const back = el("a", "btn btn--small btn--outline", T.backToCart);
        back.href = cfg.cart;
        return formError([T.outOfStock, list], back);
      }
      // a field of the form: our own sentence for the buyer's details, the service's for the rest
      const input = form.elements[String(err.field).replace("customer.", "")];
      if (input && input.id && !input.closest("[hidden]")) {
        fieldError(input, (CHECKS[input.name] && CHECKS[input.name]("")) || String(err.message).replace(err.field + ": ", ""));
        return input.focus();
      }
      formError([T.failed, err.message]);
    }

    function placed(order) {
      const orders = remembered().filter((o) => o.reference !== order.reference);
      orders.unshift({ reference: order.reference, token: order.token, created: order.created_at || new Date().toISOString() });
      set(localStorage, KEYS.orders, orders.slice(0, 50));
      set(sessionStorage, KEYS.last, order); // the order page shows it at once, even if it cannot reload it
      emptyCart();
      location.href = cfg.order + "?ref=" + encodeURIComponent(order.reference);
    }

    /* handler "message": the buyer sends the order text */
    function compose() {
      reference = reference || "M-" + Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 32]).join("");
      const title = fmt(T.order, { ref: reference }) + " · " + page.shop;
      const store = form.elements.store;
      const out = [title, ""].concat(state.lines.map((l) => field(l.item.quantity + " × " + l.title, money(l.total))), "",
        field(T.subtotal, money(state.subtotal)),
        state.method ? field(T.shipping + " (" + state.method.label + ")", state.shipping ? money(state.shipping) : T.free) : [],
        field(T.total, money(state.total)), "",
        field(T.name, value("name")), field(T.phone, value("phone")), field(T.email, value("email")),
        state.pickup ? field(T.store, store.selectedOptions[0].text + ", " + store.selectedOptions[0].getAttribute("data-address")) : field(T.address, value("address")),
        value("note") ? field(T.note, value("note")) : []);
      const text = out.join("\n");
      $("[data-order-message]", step).value = text;
      const email = $('[data-send="email"]', step);
      if (email) email.href = "mailto:" + page.email + "?subject=" + encodeURIComponent(title) + "&body=" + encodeURIComponent(text.replace(/\n/g, "\r\n"));
      const whatsapp = $('[data-send="whatsapp"]', step);
      if (whatsapp) {
        const to = /^https?:/.test(page.whatsapp) ? page.whatsapp : "https://wa.me/" + page.whatsapp.replace(/\D/g, "");
        whatsapp.href = to + (to.indexOf("?") < 0 ? "?" : "&") + "text=" + encodeURIComponent(text);
      }
      put("[data-send-status]", "", step);
      show($("[data-checkout-body]", root), false);
      show(step, true);
      step.focus();
      step.scrollIntoView();
    }

    if (step) step.addEventListener("click", (event) => {
      const send = event.target.closest("[data-send]");
      if (event.target.closest("[data-edit-order]")) {
        show(step, false);
        show($("[data-checkout-body]", root), true);
        return form.elements.name.focus();
      }
      if (!send) return;
      const wechat = send.getAttribute("data-send") === "wechat";
      if (wechat || send.getAttribute("data-send") === "copy") {
        event.preventDefault();
        copy(wechat);
      }
      if (sent) return;
      // the buyer sends the order now: empty the cart, say how to pay
      sent = true;
      emptyCart();
      show($("[data-sent]", step), true);
      show($("[data-edit-order]", step).parentNode, false);
    });

    function copy(wechat) {
      const area = $("[data-order-message]", step);
      const status = (ok) => put("[data-send-status]", fmt(ok ? (wechat ? T.copied : T.copiedPlain) : (wechat ? T.copyFailed : T.copyFailedPlain), { id: page.wechat }), step);
      const fallback = () => {
        area.focus();
        area.select();
        try { status(document.execCommand("copy")); } catch (e) { status(false); }
      };
      if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(area.value).then(() => status(true), fallback);
      else fallback();
    }
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

  /* ---- Order page ---- */
  function initOrderPage(root) {
    const info = $("[data-order-info]", root);
    const ref = new URLSearchParams(location.search).get("ref");
    const orders = remembered();
    const mine = orders.find((o) => o.reference === ref);
    const last = get(sessionStorage, KEYS.last);
    const just = last && last.reference === ref;
    const date = (iso) => (isNaN(new Date(iso)) ? "" : new Date(iso).toLocaleString(cfg.language, { dateStyle: "long", timeStyle: "short" }));

    orders.forEach((o) => {
      const a = el("a", "", o.reference);
      a.href = cfg.order + "?ref=" + encodeURIComponent(o.reference);
      if (o.reference === ref) a.setAttribute("aria-current", "page");
      const li = el("li", "history-list__item");
      li.append(a, el("span", "history-list__date", date(o.created)));
      $("[data-order-history-list]", root).appendChild(li);
    });
    show($("[data-order-history]", root), orders.length > 0);

    if (just) showOrder(last);
    if (!ref || !mine || !mine.token) {
      info.textContent = just ? "" : ref ? T.noToken : T.noRef;
      return;
    }
    put("[data-load-error-text]", T.loadOrder, root);
    $("[data-retry]", root).addEventListener("click", load);
    load();

    async function load() {
      show($("[data-load-error]", root), false);
      info.textContent = just ? "" : T.loading;
      let res = null;
      try {
        res = await fetch(cfg.endpoint.replace(/\/+$/, "") + "/" + encodeURIComponent(ref), { headers: { "X-Order-Token": mine.token }, cache: "no-store" });
        const order = res.ok ? await res.json() : null;
        if (order && order.reference) {
          info.textContent = "";
          return showOrder(order);
        }
      } catch (e) { /* network error: res stays null or is not ok */ }
      info.textContent = !just && res && res.status === 404 ? T.notFound : "";
      show($("[data-load-error]", root), !just && !(res && res.status === 404));
    }

    function showOrder(o) {
      const cur = o.currency;
      const store = o.store || {};
      put("[data-order-reference]", o.reference);
      put("[data-order-status]", T.status[o.status] || String(o.status || "").replace(/_/g, " "));
      put("[data-order-date]", o.created_at ? fmt(T.placed, { date: date(o.created_at) }) : "");
      const items = $("[data-order-items]", root);
      items.textContent = "";
      (o.items || []).forEach((it) => items.appendChild(summaryLine(it.quantity, it.title, money(it.line_total, cur))));
      put("[data-order-subtotal]", money(o.subtotal, cur));
      put("[data-order-discount]", "−" + money(o.discount || 0, cur));
      show($("[data-order-discount-row]", root), o.discount > 0);
      put("[data-order-shipping-label]", o.shipping ? "(" + o.shipping.label + ")" : "");
      put("[data-order-shipping]", o.shipping_cost ? money(o.shipping_cost, cur) : T.free);
      put("[data-order-total]", money(o.total, cur));

      show($("[data-order-pickup]", root), !!(o.pickup_code || o.store));
      show($("[data-pickup-code]", root), !!o.pickup_code);
      put("[data-pickup-code]", o.pickup_code || "");
      put("[data-order-store-name]", store.name || "");
      put("[data-order-store-address]", store.address || "");
      const hours = $("[data-order-store-hours]", root);
      hours.textContent = "";
      (store.hours || []).forEach((h) => hours.appendChild(el("li", "", h)));

      // what happens next, while the order waits for its payment: the manual handler's instructions
      // are the shop's own (shown formatted, with the QR code); others are plain text or a link
      const pay = ((o.status === "pending_payment" || o.status === "confirmed") && o.payment) || {};
      const url = /^https?:\/\//i.test(pay.redirect_url) ? pay.redirect_url : "";
      const own = $("[data-order-site-payment]", root);
      const manual = !!(own && pay.instructions && pay.handler === "manual");
      const plain = $("[data-order-instructions]", root);
      plain.textContent = "";
      if (!manual && pay.instructions) pay.instructions.split(/\n\s*\n/).forEach((para) => plain.appendChild(el("p", "", para)));
      show(own, manual);
      show(plain, plain.firstChild !== null);
      show($("[data-order-pay]", root), !!url);
      $("[data-order-pay-link]", root).href = url || "#";
      show($("[data-order-next]", root), !!(pay.instructions || url));
      show($("[data-order]", root), true);
    }
  }

  const root = (name) => $("[data-" + name + "-page]");
  if (root("cart") || root("checkout")) initShared();
  if (root("cart")) initCartPage(root("cart"));
  if (root("checkout")) initCheckoutPage(root("checkout"));
  if (root("order")) initOrderPage(root("order"));
})();
