// Live progress of a scan: polls the scan's status and updates the page;
// once the scan is done, shows the link to the report. Without script,
// the page refreshes itself (meta refresh in <noscript>).
(function () {
  "use strict";
  var box = document.getElementById("scan-status");
  if (!box) { return; }
  var url = box.getAttribute("data-status-url");
  var state = document.getElementById("scan-state");
  var bar = document.getElementById("scan-progress");
  var msg = document.getElementById("scan-message");
  var link = document.getElementById("scan-report");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (s) {
        // An interrupted scan is still "running" until it is queued again.
        var shown = s.interrupted ? "interrupted" : s.state;
        state.textContent = shown;
        state.className = "state state-" + shown;
        bar.value = s.percent;
        bar.textContent = s.percent + "%";
        msg.textContent = s.state === "failed" ? "The scan failed: " + (s.reason || "") : (s.message || "");
        if (s.state === "done" && s.version_url) {
          link.href = s.version_url;
          link.hidden = false;
          link.className = "btn btn-primary";
          return;
        }
        if (s.state !== "failed") { setTimeout(poll, 1000); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
