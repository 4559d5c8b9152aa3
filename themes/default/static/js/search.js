/* micromall search: instant results over search.json, offline, for English and Chinese alike.
   Matching is by substring on normalised text (no word splitting is needed for Chinese);
   every word of the query must match; title matches rank first. */
(function () {
  "use strict";
  var form = document.querySelector("[data-search-form]");
  if (!form || !window.fetch) return;
  var input = form.querySelector("input[name=q]");
  var list = document.querySelector("[data-search-results]");
  var status = document.querySelector("[data-search-status]");
  var template = document.querySelector("[data-search-template]");
  var kinds = document.querySelector("[data-search-kinds]").dataset;
  var docs = null;

  function norm(text) {
    return String(text).normalize("NFKD").toLowerCase().replace(/[\u0300-\u036f]/g, "");
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function rank(query) {
    var terms = norm(query).split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    var hits = [];
    docs.forEach(function (doc, order) {
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var t = terms[i];
        if (doc.n.indexOf(t) === 0) score += 4;
        else if (doc.n.indexOf(t) > 0) score += 3;
        else if (doc.x.indexOf(t) >= 0) score += 1;
        else return; // every term must match somewhere
      }
      if (doc.k === "product") score += 0.5;
      hits.push({ doc: doc, score: score, order: order });
    });
    return hits.sort(function (a, b) { return b.score - a.score || a.order - b.order; }).slice(0, 50);
  }

  function show() {
    var query = input.value.trim();
    list.textContent = "";
    if (!query || !docs) { status.textContent = ""; return; }
    var hits = rank(query);
    hits.forEach(function (hit) {
      var doc = hit.doc;
      var item = template.content.firstElementChild.cloneNode(true);
      item.querySelector("a").href = doc.u;
      var img = item.querySelector("img");
      if (doc.i) img.src = doc.i; else img.remove();
      item.querySelector("[data-slot=title]").textContent = doc.t;
      item.querySelector("[data-slot=kind]").textContent = kinds[doc.k] || "";
      item.querySelector("[data-slot=price]").textContent = doc.o ? kinds.soldOut : doc.p;
      item.querySelector("[data-slot=summary]").textContent = doc.s;
      list.appendChild(item);
    });
    var plural = new Intl.PluralRules(document.documentElement.lang || undefined).select(hits.length);
    var text = !hits.length ? form.dataset.textNone : plural === "one" ? form.dataset.textOne : form.dataset.textOther;
    status.textContent = fill(text, { q: query, n: hits.length });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    history.replaceState(null, "", "?q=" + encodeURIComponent(input.value.trim()));
    show();
  });
  input.addEventListener("input", show);
  input.value = new URLSearchParams(location.search).get("q") || "";
  fetch(form.dataset.index).then(function (r) { return r.json(); }).then(function (data) {
    docs = data.docs;
    show();
  }).catch(function () { status.textContent = ""; });
  if (!input.value) input.focus();
})();
