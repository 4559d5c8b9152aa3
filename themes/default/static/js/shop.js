/* micromall default theme: progressive enhancement only. Every page works without this file.
   - Gallery: a thumbnail shows its image in the main picture instead of opening the file.
   - Variant picker: choosing a variant shows its price, stock note and picture. */
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

    // the browser may restore another choice on back/forward navigation: show what is checked
    var checked = picker.querySelector("input[type=radio]:checked");
    if (checked && !checked.defaultChecked) apply(checked, true);
  }

  function init() {
    var galleries = document.querySelectorAll("[data-gallery]");
    for (var i = 0; i < galleries.length; i++) initGallery(galleries[i]);
    var pickers = document.querySelectorAll("[data-variant-picker]");
    for (var j = 0; j < pickers.length; j++) initPicker(pickers[j]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
