// Live updates of the exercise page. The server announces every change of
// the exercise on a server-sent event stream; on each announcement the page
// loads itself again and swaps in the fresh live part, so that what a
// person sees is always what the server renders for them (the same checks,
// the same escaping) and a refresh without script shows the same state.
// What someone is typing is never replaced: a form with unsaved input, or
// the focus, is kept as it is, and says when its group saved a newer draft.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing
// announced while the connection was down is missed.
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root || !root.getAttribute("data-events") || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var state = document.getElementById("live-state");
  var announcer = document.getElementById("live-announce");
  var timer = null, busy = false, again = false;

  function say(text) { if (state) { state.textContent = text; } }
  function announce(text) { if (announcer) { announcer.textContent = text; } }

  // The clock runs in the page between announcements.
  var loadedAt = Date.now();
  function offset(ms) {
    var s = Math.floor(ms / 1000), out = "";
    if (s <= 0) { return "0m"; }
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    if (d) { out += d + "d"; }
    if (h) { out += h + "h"; }
    if (m) { out += m + "m"; }
    if (s) { out += s + "s"; }
    return out;
  }
  function tick() {
    var c = document.getElementById("exercise-clock");
    if (!c || c.getAttribute("data-running") !== "true") { return; }
    var ms = Number(c.getAttribute("data-ms")) + (Date.now() - loadedAt) * Number(c.getAttribute("data-speed"));
    c.textContent = "T+" + offset(ms);
  }
  setInterval(tick, 1000);
  Array.prototype.forEach.call(document.querySelectorAll(".refresh-hint"), function (el) { el.hidden = true; });

  // A page shown again after refused input carries what was typed as the
  // fields' initial values: those forms count as being edited.
  if (document.getElementById("form-problem")) {
    Array.prototype.forEach.call(root.querySelectorAll("form[id]"), function (form) {
      var typed = Array.prototype.some.call(form.querySelectorAll("textarea, input:not([type]), input[type=text], input[type=email]"),
        function (el) { return el.value !== ""; });
      if (typed) { form.setAttribute("data-keep", "1"); }
    });
  }

  function dirty(form) {
    if (form.getAttribute("data-keep")) { return true; }
    return Array.prototype.some.call(form.elements, function (el) {
      if (el.type === "hidden" || el.type === "submit") { return false; }
      if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
      if (el.tagName === "SELECT") {
        return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      return el.value !== el.defaultValue;
    });
  }

  function swap(doc) {
    var fresh = doc.getElementById("live");
    if (!fresh) {
      // Not the exercise page: the session ended (the sign-in page came
      // back) or the person no longer takes part.
      say("Updates stopped: reload the page (you may have to sign in again).");
      es.close();
      return;
    }
    var active = document.activeElement;
    var sel = null;
    if (active && typeof active.selectionStart === "number") {
      sel = [active.selectionStart, active.selectionEnd];
    }
    // Forms being edited stay as they are.
    Array.prototype.forEach.call(root.querySelectorAll("form[id]"), function (form) {
      if (!dirty(form) && !form.contains(active)) { return; }
      var other = doc.getElementById(form.id);
      if (!other) { return; }
      var mine = form.querySelector("input[name=version]");
      var theirs = other.querySelector("input[name=version]");
      if (mine && theirs && mine.value !== theirs.value) {
        var note = form.querySelector(".stale-note");
        if (!note) {
          note = document.createElement("p");
          note.className = "stale-note alert";
          form.appendChild(note);
        }
        note.textContent = "Your group saved a newer draft meanwhile. Saving yours shows both texts; nothing is overwritten.";
      }
      other.replaceWith(form);
    });
    // Opened details stay open.
    Array.prototype.forEach.call(root.querySelectorAll("details[id][open]"), function (d) {
      var other = fresh.querySelector("#" + CSS.escape(d.id));
      if (other) { other.open = true; }
    });
    var seen = {};
    Array.prototype.forEach.call(root.querySelectorAll(".released[id]"), function (el) { seen[el.id] = true; });
    var added = [];
    Array.prototype.forEach.call(fresh.querySelectorAll(".released[id]"), function (el) {
      if (!seen[el.id]) {
        var h = el.querySelector("h3");
        added.push(h ? h.textContent : el.id);
      }
    });
    root.replaceWith(fresh);
    root = fresh;
    loadedAt = Date.now();
    if (active && active.id && document.getElementById(active.id) === active) {
      active.focus();
      if (sel) { try { active.setSelectionRange(sel[0], sel[1]); } catch (e) { /* not a text field */ } }
    }
    Array.prototype.forEach.call(root.querySelectorAll(".refresh-hint"), function (el) { el.hidden = true; });
    tick();
    if (added.length) { announce("New inject: " + added.join("; ")); }
  }

  function refresh() {
    timer = null;
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.text();
      })
      .then(function (html) { swap(new DOMParser().parseFromString(html, "text/html")); })
      .catch(function () { say("Could not load the latest state; refresh the page."); })
      .then(function () {
        busy = false;
        if (again) { again = false; schedule(); }
      });
  }
  function schedule() { if (!timer) { timer = setTimeout(refresh, 100); } }

  var es = new EventSource(root.getAttribute("data-events") + "?after=" + encodeURIComponent(root.getAttribute("data-after")));
  es.onopen = function () { say("Live: updates appear without reloading."); };
  es.onerror = function () { say("Reconnecting…"); };
  es.onmessage = function (m) {
    var d = {};
    try { d = JSON.parse(m.data); } catch (e) { return; }
    if (d.kind) { schedule(); }
  };
}());
