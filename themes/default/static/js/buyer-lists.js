/* micromall default theme: the lists of the buyer's favorites and recently viewed products
   ([data-product-list] in partials/product_list.html and partials/recent.html), filled from
   catalog.json in this browser. Loaded after buyer.js (whose stored ids it reads) only on the
   pages that have such lists (home, cart, favorites), so that a product page does not carry it. */
(function () {
  "use strict";
  var m = window.micromall;
  var buyer = m.buyer;
  var KEY = buyer.key;
  var catalog = null;

  function money(minor) {
    return m.money(minor, catalog.currency);
  }

  function card(tpl, p) {
    var li = tpl.content.firstElementChild.cloneNode(true);
    var slot = function (n) { return li.querySelector('[data-slot="' + n + '"]'); };
    slot("link").href = p.url;
    slot("link").textContent = p.title;
    if (p.image) { slot("img").src = p.image; slot("img").alt = p.title; } else slot("img").remove();
    var price = m.salePrice(catalog, p.id, p.price);
    slot("price").textContent = money(price);
    if (price !== p.price) {
      var s = document.createElement("s");
      s.className = "price__compare";
      s.textContent = money(p.price);
      slot("price").append(" ", s);
    }
    var fav = li.querySelector("[data-fav]");
    fav.setAttribute("data-fav", p.id);
    fav.setAttribute("aria-label", fav.getAttribute("data-label").replace("{title}", p.title));
    return li;
  }

  function fill(list) {
    var kind = list.getAttribute("data-product-list");
    var current = document.querySelector("[data-product-id]");
    var want = buyer.ids(KEY[kind]).filter(function (id) { return !current || current.getAttribute("data-product-id") !== id; });
    var byId = {};
    catalog.products.forEach(function (p) { byId[p.id] = p; });
    var tpl = list.parentNode.querySelector("[data-card-template]");
    list.textContent = "";
    want.forEach(function (id) { if (byId[id]) list.appendChild(card(tpl, byId[id])); });
    var n = list.children.length;
    var section = list.closest("[data-recent]");
    if (section) section.hidden = n === 0;
    var empty = document.querySelector("[data-favorites-empty]");
    if (kind === "favorites" && empty) empty.hidden = n > 0;
  }

  function fillAll() {
    var lists = document.querySelectorAll("[data-product-list]");
    if (!lists.length) return;
    var load = catalog ? Promise.resolve() : fetch(m.config.catalog, { cache: "no-cache" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (c) { catalog = c; });
    load.then(function () {
      lists.forEach(fill);
      buyer.showHearts();
      var err = document.querySelector("[data-favorites-page] [data-load-error]");
      if (err) err.hidden = true;
    }, function () {
      var err = document.querySelector("[data-favorites-page] [data-load-error]");
      if (err) err.hidden = false;
    });
  }

  function init() {
    fillAll();
    document.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("[data-favorites-page] [data-retry]")) fillAll();
    });
    window.addEventListener("storage", function (event) {
      if ((event.key === KEY.favorites || event.key === null) && document.querySelector("[data-favorites-page]")) fillAll();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
