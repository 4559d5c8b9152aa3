/* micromall default theme: the buyer's own things, kept in this browser only (nothing is sent).
   - Favorites: the heart buttons [data-fav] toggle a product in localStorage
     "micromall:favorites:<base path>"; the favorites page lists them from catalog.json
     (buyer-lists.js, loaded only on the pages with such lists).
   - Recently viewed: a product page records its id (last 12) in "micromall:recent:<base path>";
     [data-recent] sections (home, cart, favorites) list them (buyer-lists.js).
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
    document.addEventListener("click", function (event) {
      var b = event.target.closest && event.target.closest("[data-fav]");
      if (b) {
        event.preventDefault();
        toggle(b.getAttribute("data-fav"));
      }
    });
    window.addEventListener("storage", function (event) {
      if (event.key === KEY.favorites || event.key === null) showHearts();
    });
  }

  // for buyer-lists.js (shop.js, loaded first, made window.micromall)
  if (window.micromall) window.micromall.buyer = { key: KEY, ids: ids, showHearts: showHearts };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
