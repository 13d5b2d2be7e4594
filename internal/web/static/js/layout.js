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

  // Copy, download and print buttons for links, codes and tokens shown
  // once. They need script, so they are hidden until it runs.
  function textOf(id) {
    var el = document.getElementById(id);
    if (!el) { return ""; }
    var items = el.querySelectorAll("li");
    if (items.length) {
      var lines = [];
      for (var k = 0; k < items.length; k++) { lines.push(items[k].textContent.trim()); }
      return lines.join("\n");
    }
    return el.textContent.trim();
  }
  function say(btn, text) {
    var old = btn.textContent;
    btn.textContent = text;
    window.setTimeout(function () { btn.textContent = old; }, 2000);
  }
  var copies = document.querySelectorAll("[data-copy]");
  for (var c = 0; c < copies.length; c++) {
    copies[c].hidden = false;
    copies[c].addEventListener("click", function (ev) {
      var btn = ev.currentTarget;
      if (!navigator.clipboard) { say(btn, "Select the text and copy it"); return; }
      navigator.clipboard.writeText(textOf(btn.getAttribute("data-copy"))).then(
        function () { say(btn, "Copied"); }, function () { say(btn, "Copy failed: select the text"); });
    });
  }
  var downloads = document.querySelectorAll("[data-download]");
  for (var d = 0; d < downloads.length; d++) {
    downloads[d].hidden = false;
    downloads[d].addEventListener("click", function (ev) {
      var btn = ev.currentTarget;
      var blob = new Blob([textOf(btn.getAttribute("data-download")) + "\n"], { type: "text/plain" });
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = btn.getAttribute("data-filename") || "download.txt";
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    });
  }
  var prints = document.querySelectorAll("[data-print]");
  for (var q = 0; q < prints.length; q++) {
    prints[q].hidden = false;
    prints[q].addEventListener("click", function () { window.print(); });
  }
})();
