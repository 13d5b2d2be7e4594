// The layout's behaviour on every page: on a phone the navigation folds
// behind a Menu button (without script it stays a list of links that
// wraps), and a table that scrolls sideways can be reached and scrolled
// with the keyboard.
(function () {
  "use strict";
  // A scrolling table is a region that takes the focus, named after its
  // caption or the heading above it, so that keyboard users can scroll it.
  var wraps = document.querySelectorAll(".table-wrap");
  for (var i = 0; i < wraps.length; i++) {
    var wrap = wraps[i];
    if (wrap.scrollWidth <= wrap.clientWidth || wrap.hasAttribute("tabindex")) { continue; }
    wrap.setAttribute("tabindex", "0");
    wrap.setAttribute("role", "region");
    var cap = wrap.querySelector("caption");
    var name = cap ? cap.textContent : "";
    if (!name) {
      var sec = wrap.closest("section, .card, article");
      var h = sec ? sec.querySelector("h1, h2, h3") : null;
      name = h ? h.textContent : "Table";
    }
    wrap.setAttribute("aria-label", name.trim() + " (scrolls sideways)");
  }
  var button = document.getElementById("menu-button");
  var nav = document.getElementById("nav-main");
  if (!button || !nav) { return; }
  document.documentElement.classList.add("js-menu");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("open", open);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && nav.classList.contains("open")) {
      nav.classList.remove("open");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });
})();
