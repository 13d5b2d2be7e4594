// The version report: filters apply as soon as one is chosen, and one box
// selects every finding of the page for a bulk decision. Without script
// the Apply button and the boxes of each row do the same.
(function () {
  "use strict";
  var filters = document.querySelector("form[data-autosubmit-change]");
  if (filters) {
    var apply = filters.querySelector("button[type=submit]");
    if (apply) { apply.hidden = true; }
    filters.addEventListener("change", function () { filters.submit(); });
  }
  var all = document.getElementById("select-all");
  var label = document.getElementById("select-all-label");
  if (all) {
    all.hidden = false;
    if (label) { label.hidden = false; }
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll('input[type=checkbox][form="bulk-triage"]');
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = all.checked; }
    });
  }
})();
