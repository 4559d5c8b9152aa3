/* micromall default theme: the checkout page: the form, placing the order with the order service (handler "http") or
   composing a message the buyer sends ("message"). Uses the functions cart.js
   shares as window.micromall.cart (loaded before this file). */
(function () {
  "use strict";
  const K = window.micromall && window.micromall.cart;
  if (!K) return;
  const { T, field, page, cfg, fmt, $, show, put, el, KEYS, get, set, money, loadCatalog, find, refresh, start, CHECKS, fieldError, remembered, emptyCart, newKey, summaryLine, rerender } = K;

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
      // a mixed cart: the notice above the button says what to change first (a group_buy_alone
      // refusal, when catalog.json changed since, shows the service's sentence like any other)
      submit.disabled = !!state.mixed;
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
        ...(window.micromall.attribution ? window.micromall.attribution() : {}),
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
        if (!coupon) loadCatalog().then(rerender, () => {});
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


  const root = $("[data-checkout-page]");
  if (root) initCheckoutPage(root);
})();
