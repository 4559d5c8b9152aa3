/* micromall default theme: "My orders" (/orders/). Lists the orders placed from this browser
   (the reference and token that cart.js keeps in localStorage "micromall:orders:<base path>")
   with their live status from the order service, and finds an order placed elsewhere by its
   reference and email (POST <endpoint>/lookup), which gives this browser its own token. */
(function () {
  "use strict";
  var M = window.micromall;
  var page = document.querySelector("[data-orders-page]");
  if (!M || !page) return;
  var cfg = M.config;
  var T = JSON.parse(document.getElementById("orders-text").textContent);
  var KEY = "micromall:orders:" + cfg.base;
  var api = cfg.endpoint.replace(/\/+$/, "");
  var $ = function (s, r) { return (r || document).querySelector(s); };

  function remembered() {
    var list = null;
    try { list = JSON.parse(localStorage.getItem(KEY)); } catch (e) { /* blocked */ }
    return (Array.isArray(list) ? list : []).filter(function (o) { return o && typeof o.reference === "string"; });
  }
  function date(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleDateString(cfg.language, { dateStyle: "long" });
  }
  var money = M.money;

  function row(o) {
    var li = $("[data-orders-template]").content.firstElementChild.cloneNode(true);
    var slot = function (n) { return $('[data-slot="' + n + '"]', li); };
    li.setAttribute("data-order-ref", o.reference);
    slot("ref").textContent = o.reference;
    slot("ref").href = cfg.order + "?ref=" + encodeURIComponent(o.reference);
    slot("status").hidden = true;
    slot("meta").textContent = T.placed.replace("{date}", date(o.created));
    if (cfg.handler !== "http" || !o.token) return li;
    fetch(api + "/" + encodeURIComponent(o.reference), { headers: { "X-Order-Token": o.token }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        slot("status").textContent = d ? T.status[d.status] || d.status : T.unknown;
        slot("status").setAttribute("data-status", d ? d.status : "");
        slot("status").hidden = false;
        if (d) slot("meta").textContent = T.placed.replace("{date}", date(d.created_at || o.created)) + " · " + T.total.replace("{amount}", money(d.total, d.currency));
      }, function () {
        slot("status").textContent = T.unknown;
        slot("status").hidden = false;
      });
    return li;
  }

  var orders = remembered();
  var list = $("[data-orders-list]");
  orders.forEach(function (o) { list.appendChild(row(o)); });
  $("[data-orders-empty]").hidden = orders.length > 0;

  var form = $("[data-lookup-form]");
  if (!form) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var error = $("[data-lookup-error]");
    var ref = form.elements.reference.value.trim().toUpperCase();
    var email = form.elements.email.value.trim();
    error.textContent = "";
    if (!ref || !email) { error.textContent = T.missing; return; }
    fetch(api + "/lookup", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ reference: ref, email: email }) })
      .then(function (r) {
        if (r.status === 429) throw new Error("busy");
        return r.json().then(function (d) { return r.ok ? d : null; });
      })
      .then(function (d) {
        if (!d || !d.token) { error.textContent = T.notFound; return; }
        var kept = remembered().filter(function (o) { return o.reference !== d.reference; });
        kept.unshift({ reference: d.reference, token: d.token, created: d.created_at || new Date().toISOString() });
        try { localStorage.setItem(KEY, JSON.stringify(kept.slice(0, 50))); } catch (e) { /* storage refused */ }
        location.href = cfg.order + "?ref=" + encodeURIComponent(d.reference);
      }, function (e) { error.textContent = e && e.message === "busy" ? T.busy : T.network; });
  });
})();
