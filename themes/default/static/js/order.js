/* micromall default theme: the order page: the orders placed on this device and their status. Uses the functions cart.js
   shares as window.micromall.cart (loaded before this file). */
(function () {
  "use strict";
  const K = window.micromall && window.micromall.cart;
  if (!K) return;
  const { T, page, cfg, fmt, $, show, put, el, KEYS, get, money, remembered, summaryLine } = K;

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

  const root = $("[data-order-page]");
  if (root) initOrderPage(root);
})();
