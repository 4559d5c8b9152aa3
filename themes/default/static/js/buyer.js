/* micromall default theme: the buyer's own things, kept in this browser only (nothing is sent).
   - Favorites: the heart buttons [data-fav] toggle a product in localStorage
     "micromall:favorites:<base path>"; the favorites page lists them from catalog.json.
   - Recently viewed: a product page records its id (last 12) in "micromall:recent:<base path>";
     [data-recent] sections (home, cart, favorites) list them.
   - Sale windows: [data-window="<start>/<end>"] elements show by this device's clock:
     data-when="on" inside the window, "off" outside it, "until" before its end (banners).
     shop.js's micromall.salePrice(catalog, productId, price) applies catalog.json's windows the
     same way (for display; the order service charges by its own clock).
   Group buys' live progress is product.js's. */
(function () {
  "use strict";
  var cfg = (window.micromall && window.micromall.config) || {};
  var base = cfg.base || "/";
  var KEY = { favorites: "micromall:favorites:" + base, recent: "micromall:recent:" + base };
  var catalog = null;

  function ids(key) {
    var list = null;
    try { list = JSON.parse(localStorage.getItem(key)); } catch (e) { /* blocked or not JSON */ }
    return Array.isArray(list) ? list.filter(function (x) { return typeof x === "string"; }) : [];
  }
  function keep(key, list) {
    try { localStorage.setItem(key, JSON.stringify(list)); } catch (e) { /* storage refused */ }
  }

  function showHearts() {
    var favs = ids(KEY.favorites);
    document.querySelectorAll("[data-fav]").forEach(function (b) {
      b.setAttribute("aria-pressed", String(favs.indexOf(b.getAttribute("data-fav")) >= 0));
      b.hidden = false;
    });
  }

  function toggle(id) {
    var favs = ids(KEY.favorites);
    var at = favs.indexOf(id);
    if (at >= 0) favs.splice(at, 1); else favs.unshift(id);
    keep(KEY.favorites, favs);
    showHearts();
  }

  function money(minor) {
    return window.micromall.money(minor, catalog.currency);
  }

  function card(tpl, p) {
    var li = tpl.content.firstElementChild.cloneNode(true);
    var slot = function (n) { return li.querySelector('[data-slot="' + n + '"]'); };
    slot("link").href = p.url;
    slot("link").textContent = p.title;
    if (p.image) { slot("img").src = p.image; slot("img").alt = p.title; } else slot("img").remove();
    var price = window.micromall.salePrice(catalog, p.id, p.price);
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
    var want = ids(KEY[kind]).filter(function (id) { return !current || current.getAttribute("data-product-id") !== id; });
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
    var load = catalog ? Promise.resolve() : fetch(cfg.catalog, { cache: "no-cache" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (c) { catalog = c; });
    load.then(function () {
      lists.forEach(fill);
      showHearts();
      var err = document.querySelector("[data-favorites-page] [data-load-error]");
      if (err) err.hidden = true;
    }, function () {
      var err = document.querySelector("[data-favorites-page] [data-load-error]");
      if (err) err.hidden = false;
    });
  }

  function windows() {
    var now = Date.now();
    document.querySelectorAll("[data-window]").forEach(function (el) {
      var w = el.getAttribute("data-window").split("/");
      var when = el.getAttribute("data-when");
      var end = Date.parse(w[1]);
      var open = now >= Date.parse(w[0]) && now < end;
      el.hidden = when === "until" ? now >= end : (when === "on") !== open;
    });
  }

  function init() {
    windows();
    document.addEventListener("change", windows);
    var product = document.querySelector("[data-product-id]");
    if (product) {
      var id = product.getAttribute("data-product-id");
      keep(KEY.recent, [id].concat(ids(KEY.recent).filter(function (x) { return x !== id; })).slice(0, 12));
    }
    showHearts();
    fillAll();
    document.addEventListener("click", function (event) {
      var b = event.target.closest && event.target.closest("[data-fav]");
      if (b) {
        event.preventDefault();
        toggle(b.getAttribute("data-fav"));
      }
      if (event.target.closest && event.target.closest("[data-favorites-page] [data-retry]")) fillAll();
    });
    window.addEventListener("storage", function (event) {
      if (event.key === KEY.favorites || event.key === null) { showHearts(); if (document.querySelector("[data-favorites-page]")) fillAll(); }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
