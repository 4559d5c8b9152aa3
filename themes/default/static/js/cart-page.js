/* micromall default theme: the cart page. Uses the functions cart.js
   shares as window.micromall.cart (loaded before this file). */
(function () {
  "use strict";
  const K = window.micromall && window.micromall.cart;
  if (!K) return;
  const { T, fmt, $, show, el, money, refresh, updateCart, start } = K;

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
      show($("[data-checkout-link]", root), !r.mixed); // the notice above says what to change first
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


  const root = $("[data-cart-page]");
  if (root) initCartPage(root);
})();
