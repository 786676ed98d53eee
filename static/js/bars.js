/*
 * Bar and meter widths (percent bars, score meters, adoption stacks) are written in the
 * page as data-bar-width="<percent>". The Content-Security-Policy forbids style
 * attributes in the markup, but not setting a width from a script file (CSSOM).
 */
(function () {
  "use strict";

  function setWidth(element) {
    var value = parseFloat(element.getAttribute("data-bar-width"));
    if (isFinite(value)) {
      element.style.width = Math.max(0, Math.min(100, value)) + "%";
    }
  }

  function apply(root) {
    if (!root || !root.querySelectorAll) {
      return;
    }
    if (root.hasAttribute && root.hasAttribute("data-bar-width")) {
      setWidth(root);
    }
    root.querySelectorAll("[data-bar-width]").forEach(setWidth);
  }

  apply(document);
  // Content that htmx swaps in later.
  if (window.htmx) {
    window.htmx.onLoad(apply);
  }
})();
