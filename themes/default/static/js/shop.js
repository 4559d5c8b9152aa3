/* micromall default theme: every page. Browsing works without this file.
   - Cart: add to cart (product pages and cards), quantity steppers, the item count in the
     navigation, kept in sync across tabs. The cart is localStorage "micromall:cart:<base path>";
     product.js (product pages and promoter kits) and cart.js (cart, checkout and order pages)
     use the functions exported as window.micromall.
   - Attribution: ?ref=CODE (a promoter's link) and ?store=ID (a store poster) on any page are
     kept in localStorage "micromall:attribution:<base path>" for 30 days, the last one seen
     winning; checkout.js sends them with the order as `ref` and `source_store`. */
(function () {
  "use strict";

  /* ---- Cart ------------------------------------------------------------ */
  var config = {};
  try {
    config = JSON.parse(document.getElementById("micromall-config").textContent);
  } catch (e) { /* a theme without the config: the cart still counts, under "/" */ }
  var text = config.t || {};
  var CART_KEY = "micromall:cart:" + (config.base || "/");

  function validItem(item) {
    return item && typeof item.product === "string" && (item.variant === null || typeof item.variant === "string") &&
      item.quantity === Math.floor(item.quantity) && item.quantity >= 1 && item.quantity <= 99;
  }

  function loadCart() {
    var cart = null;
    try {
      cart = JSON.parse(localStorage.getItem(CART_KEY));
    } catch (e) { /* storage blocked, or not JSON: an empty cart */ }
    if (!cart || !Array.isArray(cart.items)) cart = { items: [], shipping: null, store: null };
    cart.items = cart.items.filter(validItem);
    return cart;
  }

  // Throws when the browser refuses storage; the count is shown either way.
  function saveCart(cart) {
    showCount(cart);
    localStorage.setItem(CART_KEY, JSON.stringify(cart));
  }

  function showCount(cart) {
    var n = 0;
    for (var i = 0; i < cart.items.length; i++) n += cart.items[i].quantity;
    var badges = document.querySelectorAll("[data-cart-count]");
    for (var j = 0; j < badges.length; j++) {
      badges[j].textContent = n > 99 ? "99+" : String(n);
      badges[j].hidden = n === 0;
    }
  }

  var toastBox = null;
  var toastTimer = 0;

  // A short message at the bottom of the screen, read out by screen readers. `link`: [href, text].
  function toast(message, link) {
    if (!toastBox) return;
    clearTimeout(toastTimer);
    toastBox.textContent = message;
    if (link) {
      var a = document.createElement("a");
      a.href = link[0];
      a.textContent = link[1];
      toastBox.appendChild(document.createTextNode(" "));
      toastBox.appendChild(a);
    }
    toastBox.classList.add("is-shown");
    toastTimer = setTimeout(function hide() {
      if (toastBox.contains(document.activeElement) || toastBox.matches(":hover")) {
        toastTimer = setTimeout(hide, 2000);
      } else {
        toastBox.classList.remove("is-shown");
      }
    }, 5000);
  }

  function clampQuantity(input) {
    var n = parseInt(input.value, 10);
    var max = parseInt(input.getAttribute("max"), 10) || 99;
    n = isNaN(n) || n < 1 ? 1 : Math.min(n, max);
    if (input.value !== String(n)) input.value = n;
    return n;
  }

  // Money is integer minor units, written by the same rules as the templates' `money` filter
  // (Babel): the locale's pattern, symbol and spacing, and the currency's own decimals. The
  // amount reaches Intl as an exact decimal string, never as a float.
  var formatters = {};
  function money(minor, currency) {
    currency = currency || config.currency;
    var f = formatters[currency];
    if (!f) {
      var probe = new Intl.NumberFormat(config.language, { style: "currency", currency: currency, numberingSystem: "latn" });
      var digits = currency === config.currency && typeof config.digits === "number" ? config.digits : probe.resolvedOptions().maximumFractionDigits;
      f = formatters[currency] = { digits: digits, nf: new Intl.NumberFormat(config.language,
        { style: "currency", currency: currency, numberingSystem: "latn", minimumFractionDigits: digits, maximumFractionDigits: digits }) };
    }
    var text = String(Math.abs(minor));
    if (f.digits) {
      while (text.length <= f.digits) text = "0" + text;
      text = text.slice(0, -f.digits) + "." + text.slice(-f.digits);
    }
    return f.nf.format((minor < 0 ? "-" : "") + text);
  }

  function fmt(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (m, key) {
      return key in values ? values[key] : m;
    });
  }

  function addToCart(button) {
    var box = button.closest("[data-buy-box]");
    var quantityInput = box ? box.querySelector("[data-quantity]") : null;
    var quantity = quantityInput ? clampQuantity(quantityInput) : 1;
    var variant = button.getAttribute("data-variant") || null;
    var title = button.getAttribute("data-title") || "";
    var price = parseInt(button.getAttribute("data-price"), 10);
    if (variant && box) {
      var radios = box.querySelectorAll("input[name=variant]");
      for (var i = 0; i < radios.length; i++) {
        if (radios[i].value !== variant) continue;
        price = parseInt(radios[i].getAttribute("data-price"), 10);
        title += " · " + radios[i].getAttribute("data-title");
      }
    }
    var cart = loadCart();
    var line = null;
    for (var j = 0; j < cart.items.length; j++) {
      if (cart.items[j].product === button.getAttribute("data-product") && cart.items[j].variant === variant) {
        line = cart.items[j];
      }
    }
    if (line) {
      line.quantity = Math.min(99, line.quantity + quantity);
    } else {
      line = { product: button.getAttribute("data-product"), variant: variant, quantity: quantity, added: new Date().toISOString() };
      cart.items.push(line);
    }
    // what the buyer saw on this page; the cart page tells them if catalog.json says otherwise
    line.price = price;
    line.title = title;
    try {
      saveCart(cart);
    } catch (e) {
      toast(text.noStorage);
      return;
    }
    toast(fmt(text.addedItem, { title: title, n: quantity }), [config.cart, text.viewCart]);
    if (!button.hasAttribute("data-label")) button.setAttribute("data-label", button.innerHTML);
    button.classList.add("is-added");
    button.textContent = text.added;
    clearTimeout(button.micromallTimer);
    button.micromallTimer = setTimeout(function () {
      button.innerHTML = button.getAttribute("data-label");
      button.classList.remove("is-added");
    }, 2000);
  }

  function initCart() {
    showCount(loadCart());
    if (document.querySelector("[data-add-to-cart], [data-share], [data-kit]")) {
      toastBox = document.createElement("div");
      toastBox.className = "toast";
      toastBox.setAttribute("role", "status");
      document.body.appendChild(toastBox);
    }
    document.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target : null;
      if (!target) return;
      var button = target.closest("[data-add-to-cart]");
      if (button && !button.disabled) {
        addToCart(button);
        return;
      }
      var step = target.closest("[data-stepper] [data-step]");
      var input = step ? step.closest("[data-stepper]").querySelector("input") : null;
      if (input && !input.disabled) {
        var before = input.value;
        input.value = (parseInt(input.value, 10) || 0) + parseInt(step.getAttribute("data-step"), 10);
        if (clampQuantity(input) !== parseInt(before, 10)) {
          input.dispatchEvent(new Event("change", { bubbles: true }));
        }
      }
    });
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("[data-stepper] input")) clampQuantity(event.target);
    }, true);
    // another tab changed the cart, or the page came back from the back/forward cache
    window.addEventListener("storage", function (event) {
      if (event.key === CART_KEY || event.key === null) showCount(loadCart());
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) showCount(loadCart());
    });
  }

  /* ---- Attribution ----------------------------------------------------- */
  // Each of ref and store is its own last touch: a store poster does not forget a promoter's link.
  var ATTRIBUTION = "micromall:attribution:" + (config.base || "/");
  var CODE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;  // as generator/promoters.py and the order service check
  var NAMES = ["ref", "store"];
  var valid = function (v) { return typeof v === "string" && v.length <= 40 && CODE.test(v); };

  // {ref, store}: each {code, at} seen in the last 30 days
  function readAttribution() {
    var kept = {};
    try { kept = JSON.parse(localStorage.getItem(ATTRIBUTION)) || {}; } catch (e) { /* blocked or not JSON */ }
    var out = {};
    NAMES.forEach(function (n) {
      var e = kept[n];
      if (e && valid(e.code) && e.at >= Date.now() - 2592e6) out[n] = e;
    });
    return out;
  }

  function keepAttribution() {
    // the order page's ?ref= is the order's reference, not a promoter's code
    if (config.order && location.pathname === config.order) return;
    var params = new URLSearchParams(location.search);
    var kept = readAttribution();
    var seen = false;
    NAMES.forEach(function (n) {
      var code = (params.get(n) || "").trim();
      if (valid(code)) { kept[n] = { code: code, at: Date.now() }; seen = true; }
    });
    try {
      if (seen) localStorage.setItem(ATTRIBUTION, JSON.stringify(kept));
    } catch (e) { /* storage blocked: the order goes without attribution */ }
  }

  function attribution() {
    var a = readAttribution();
    return { ref: a.ref ? a.ref.code : null, source_store: a.store ? a.store.code : null };
  }

  // The lowest price of the windows open now; the service's rule (percent rounds half up).
  function salePrice(cat, id, price) {
    var now = Date.now();
    return (cat.promotions || []).reduce(function (best, p) {
      if (now < Date.parse(p.starts) || now >= Date.parse(p.ends) || (p.products && p.products.indexOf(id) < 0)) return best;
      var sale = p.percent ? price - Math.round(price * p.percent / 100) : Math.max(0, price - (p.amount || 0));
      return Math.min(best, sale);
    }, price);
  }

  window.micromall = {
    config: config, key: CART_KEY, loadCart: loadCart, saveCart: saveCart, toast: toast, fmt: fmt, money: money,
    clampQuantity: clampQuantity, salePrice: salePrice, attribution: attribution,
  };

  function init() {
    keepAttribution();
    initCart();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
