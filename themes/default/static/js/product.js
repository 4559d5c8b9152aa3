/* micromall default theme: product pages (loaded there only, after shop.js). Browsing works without it.
   - Gallery: a thumbnail shows its image in the main picture instead of opening the file.
   - Variant picker: choosing a variant shows its price, stock note and picture.
   - Share: the system share sheet, or else copying the link; copying the share text. Without
     this file the QR code and the poster links still work. In chat apps' own browsers (WeChat,
     Weibo, QQ, Instagram, Facebook, Line, TikTok) the poster comes first, with a long-press hint,
     and "micromall:share" is fired on document for a theme's share SDK.
   - Promoter kits (also loaded there): copy buttons for the links and texts. */
(function () {
  "use strict";
  var M = window.micromall;
  if (!M) return;
  var clampQuantity = M.clampQuantity;
  var toast = M.toast;

  // A photo to show in the gallery: its original file (href), the JPEG for src, the WebP
  // srcset of its <picture>, its size. From a thumbnail link (its own picture) or a variant radio.
  function photoOfThumb(thumb) {
    var img = thumb.querySelector("img");
    var source = thumb.querySelector("source");
    return {
      href: thumb.getAttribute("href"), src: img ? img.getAttribute("src") : thumb.getAttribute("href"),
      webp: source ? source.getAttribute("srcset") : null,
      width: thumb.getAttribute("data-width"), height: thumb.getAttribute("data-height")
    };
  }

  function photoOfVariant(gallery, input) {
    var href = input.getAttribute("data-image");
    var thumbs = gallery.querySelectorAll("[data-gallery-thumb]");
    for (var i = 0; i < thumbs.length; i++) {
      if (thumbs[i].getAttribute("href") === href) return photoOfThumb(thumbs[i]);
    }
    return {
      href: href, src: input.getAttribute("data-image-src") || href, webp: input.getAttribute("data-image-webp-srcset"),
      width: input.getAttribute("data-image-width"), height: input.getAttribute("data-image-height")
    };
  }

  function setOrRemove(el, name, value) {
    if (value) el.setAttribute(name, value); else el.removeAttribute(name);
  }

  function showImage(gallery, photo) {
    var main = gallery.querySelector("[data-gallery-main]");
    if (!main || !photo || !photo.href) return;
    if (main.getAttribute("src") !== photo.src) {
      var source = main.parentNode.tagName === "PICTURE" ? main.parentNode.querySelector("source") : null;
      if (source) setOrRemove(source, "srcset", photo.webp);
      main.setAttribute("src", photo.src);
      if (photo.width) main.setAttribute("width", photo.width);
      if (photo.height) main.setAttribute("height", photo.height);
    }
    var thumbs = gallery.querySelectorAll("[data-gallery-thumb]");
    for (var i = 0; i < thumbs.length; i++) {
      if (thumbs[i].getAttribute("href") === photo.href) {
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
      showImage(gallery, photoOfThumb(thumb));
    });
  }

  // the chosen variant's price (its tile's, with the approximate prices the tile hides)
  function fill(target, source) {
    if (!target || !source) return;
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
    var firstThumb = gallery ? gallery.querySelector("[data-gallery-thumb]") : null;
    var firstSource = main && main.parentNode.tagName === "PICTURE" ? main.parentNode.querySelector("source") : null;
    var first = main ? {
      href: firstThumb ? firstThumb.getAttribute("href") : main.getAttribute("src"), src: main.getAttribute("src"),
      webp: firstSource ? firstSource.getAttribute("srcset") : null,
      width: main.getAttribute("width"), height: main.getAttribute("height")
    } : null;
    var shownByVariant = false;

    function apply(input, withImage) {
      fill(priceDisplay, picker.querySelector('[data-variant-info="' + CSS.escape(input.value) + '"]'));
      if (stockDisplay) stockDisplay.textContent = input.getAttribute("data-stock-note") || "";
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
        showImage(gallery, photoOfVariant(gallery, input));
        shownByVariant = true;
      } else if (shownByVariant) {
        // back from a variant's own picture to the product's first one
        if (first) showImage(gallery, first);
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


  /* ---- Share ----------------------------------------------------------- */
  /* ---- Share ----------------------------------------------------------- */
  // Chat and social apps' own browsers: Open Graph previews and downloads are unreliable there.
  var IN_APP = [
    ["wechat", /MicroMessenger/i], ["weibo", /Weibo/i], ["qq", /\bQQ\//i], ["instagram", /Instagram/i],
    ["facebook", /FBAN|FBAV/], ["line", /\bLine\//i], ["tiktok", /TikTok|musical_ly|BytedanceWebview/i]
  ];

  function inAppBrowser(ua) {
    for (var i = 0; i < IN_APP.length; i++) {
      if (IN_APP[i][1].test(ua)) return IN_APP[i][0];
    }
    return null;
  }

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
    var app = inAppBrowser(navigator.userAgent || "");
    var poster = box.querySelector("[data-share-poster]");
    if (app && poster) {
      // poster first: the picture itself (long-press saves it), then the rest of the panel
      poster.hidden = false;
      box.classList.add("share--poster-first");
      box.setAttribute("data-in-app", app);
      var title = box.querySelector(".share__title");
      box.insertBefore(poster, title ? title.nextSibling : box.firstChild);
    }
    // for a theme's platform share SDK (block share_sdk in base.html): everything it needs
    document.dispatchEvent(new CustomEvent("micromall:share", { detail: {
      url: box.getAttribute("data-share-url"), title: box.getAttribute("data-share-title"),
      text: box.getAttribute("data-share-text"), poster: poster ? poster.getAttribute("data-poster-url") : null,
      image: box.getAttribute("data-share-image"), inApp: app, element: box
    } }));
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

  function initKit(kit) {
    var copies = kit.querySelectorAll("[data-copy]");
    for (var i = 0; i < copies.length; i++) copies[i].hidden = false;
    function say(name) { return function () { toast(kit.getAttribute(name)); }; }
    kit.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-copy]") : null;
      var field = button ? document.getElementById(button.getAttribute("data-copy")) : null;
      if (field) copyText(field.value, say("data-copied"), say("data-copy-failed"));
    });
  }

  M.inAppBrowser = inAppBrowser;

  // A group buy: [data-group-buy="<url>"] shows the live progress from the order service.
  function groupBuy(box) {
    fetch(box.getAttribute("data-group-buy"), { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (g) {
        if (!g) return;
        var bar = box.querySelector("[data-group-buy-bar]");
        bar.value = Math.min(g.joined, g.min_orders);
        var text = box.getAttribute("data-joined").replace("{n}", g.joined).replace("{min}", g.min_orders);
        if (g.outcome) text = box.getAttribute("data-" + g.outcome);
        else if (!g.open) text = box.getAttribute("data-ended");
        box.querySelector("[data-group-buy-text]").textContent = text;
        box.querySelector("[data-group-buy-progress]").hidden = false;
        box.setAttribute("data-joined-count", g.joined);
      }, function () { /* no service: the rule stays, without progress */ });
  }

  function init() {
    var galleries = document.querySelectorAll("[data-gallery]");
    for (var i = 0; i < galleries.length; i++) initGallery(galleries[i]);
    var pickers = document.querySelectorAll("[data-variant-picker]");
    for (var j = 0; j < pickers.length; j++) initPicker(pickers[j]);
    var shares = document.querySelectorAll("[data-share]");
    for (var k = 0; k < shares.length; k++) initShare(shares[k]);
    document.querySelectorAll("[data-group-buy]").forEach(groupBuy);
    var kits = document.querySelectorAll("[data-kit]");
    for (var m = 0; m < kits.length; m++) initKit(kits[m]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
