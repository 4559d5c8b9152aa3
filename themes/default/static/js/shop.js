/* micromall default theme: progressive enhancement. Browsing works without this file.
   - Gallery: a thumbnail shows its image in the main picture instead of opening the file.
   - Variant picker: choosing a variant shows its price, stock note and picture.
   - Cart: add to cart (product pages and cards), quantity steppers, the item count in the
     navigation, kept in sync across tabs. The cart is localStorage "micromall:cart:<base path>";
     cart.js (cart, checkout and order pages) uses the functions exported as window.micromall.
   - Share (product pages): the system share sheet, or else copying the link; copying the
     share text. Without this file the QR code and the poster links still work. */
(function () {
  "use strict";

  function showImage(gallery, src, width, height) {
    var main = gallery.querySelector("[data-gallery-main]");
    if (!main || !src) return;
    if (main.getAttribute("src") !== src) {
      main.setAttribute("src", src);
      if (width) main.setAttribute("width", width);
      if (height) main.setAttribute("height", height);
    }
    var thumbs = gallery.querySelectorAll("[data-gallery-thumb]");
    for (var i = 0; i < thumbs.length; i++) {
      if (thumbs[i].getAttribute("href") === src) {
        thumbs[i].setAttribute("aria-current", "true");
      } else {
        thumbs[i].removeAttribute("aria-current");
      }
    }
  }

  function initGallery(gallery) {
    gallery.addEventListener("click", function (event) {
      var thumb = event.target.closest ? event.target.closest("[data-gallery-thumb]") : null;
      if (!thumb || !gallery.contains(thumb)) return;
      // let modified clicks (new tab, download) through
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      showImage(gallery, thumb.getAttribute("href"), thumb.getAttribute("data-width"), thumb.getAttribute("data-height"));
    });
  }

  function fill(target, template, slot) {
    if (!target || !template || !template.content) return;
    var source = template.content.querySelector('[data-slot="' + slot + '"]');
    if (!source) return;
    while (target.firstChild) target.removeChild(target.firstChild);
    var nodes = source.childNodes;
    for (var i = 0; i < nodes.length; i++) target.appendChild(nodes[i].cloneNode(true));
  }

  function initPicker(picker) {
    var scope = picker.closest("[data-buy-box]") || document;
    var priceDisplay = scope.querySelector("[data-price-display]");
    var stockDisplay = scope.querySelector("[data-stock-display]");
    var button = scope.querySelector("[data-add-to-cart]");
    var gallery = document.querySelector("[data-gallery]");
    var main = gallery ? gallery.querySelector("[data-gallery-main]") : null;
    var first = main ? [main.getAttribute("src"), main.getAttribute("width"), main.getAttribute("height")] : null;
    var shownByVariant = false;

    function apply(input, withImage) {
      var template = null;
      var templates = picker.querySelectorAll("template[data-variant-info]");
      for (var i = 0; i < templates.length; i++) {
        if (templates[i].getAttribute("data-variant-info") === input.value) template = templates[i];
      }
      fill(priceDisplay, template, "price");
      fill(stockDisplay, template, "stock");
      if (button) {
        button.setAttribute("data-variant", input.value);
      }
      var quantity = scope.querySelector("[data-quantity]");
      if (quantity) {
        quantity.max = Math.min(99, parseInt(input.getAttribute("data-stock"), 10) || 99);
        clampQuantity(quantity);
      }
      if (!withImage || !gallery) return;
      if (input.hasAttribute("data-image")) {
        showImage(gallery, input.getAttribute("data-image"),
          input.getAttribute("data-image-width"), input.getAttribute("data-image-height"));
        shownByVariant = true;
      } else if (shownByVariant) {
        // back from a variant's own picture to the product's first one
        if (first) showImage(gallery, first[0], first[1], first[2]);
        shownByVariant = false;
      }
    }

    picker.addEventListener("change", function (event) {
      var input = event.target;
      if (input && input.type === "radio" && input.checked) apply(input, true);
    });

    // a link may name a variant (?variant=100g, as the product feed does)
    var wanted = new URLSearchParams(location.search).get("variant");
    var named = wanted && picker.querySelector('input[type=radio][value="' + CSS.escape(wanted) + '"]:not([disabled])');
    if (named) named.checked = true;
    // the browser may restore another choice on back/forward navigation: show what is checked
    var checked = picker.querySelector("input[type=radio]:checked");
    if (checked && !checked.defaultChecked) apply(checked, true);
  }

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
    if (document.querySelector("[data-add-to-cart], [data-share]")) {
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

  /* ---- Share ----------------------------------------------------------- */
  function copyText(value, done, failed) {
    function fallback() {
      var area = document.createElement("textarea");
      area.value = value;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { /* not allowed here */ }
      document.body.removeChild(area);
      (ok ? done : failed)();
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(done, fallback);
    } else {
      fallback();
    }
  }

  function initShare(box) {
    var buttons = box.querySelector("[data-share-buttons]");
    if (buttons) buttons.hidden = false;
    function say(name) { return function () { toast(box.getAttribute(name)); }; }
    box.addEventListener("click", function (event) {
      var target = event.target.closest ? event.target : null;
      var url = box.getAttribute("data-share-url");
      if (target && target.closest("[data-share-button]")) {
        if (navigator.share) {
          // the buyer may cancel the share sheet: nothing to do then
          navigator.share({ title: box.getAttribute("data-share-title"), url: url }).catch(function () {});
        } else {
          copyText(url, say("data-copied-link"), say("data-copy-failed"));
        }
      } else if (target && target.closest("[data-copy-share-text]")) {
        copyText(box.getAttribute("data-share-text"), say("data-copied-text"), say("data-copy-failed"));
      }
    });
  }

  window.micromall = { config: config, key: CART_KEY, loadCart: loadCart, saveCart: saveCart, toast: toast, fmt: fmt, money: money };

  function init() {
    initCart();
    var galleries = document.querySelectorAll("[data-gallery]");
    for (var i = 0; i < galleries.length; i++) initGallery(galleries[i]);
    var pickers = document.querySelectorAll("[data-variant-picker]");
    for (var j = 0; j < pickers.length; j++) initPicker(pickers[j]);
    var shares = document.querySelectorAll("[data-share]");
    for (var k = 0; k < shares.length; k++) initShare(shares[k]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
