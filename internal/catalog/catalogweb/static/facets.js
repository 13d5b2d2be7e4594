// Catalogue facets apply as they are ticked: the form is sent on each
// change, and the box just ticked gets the focus back on the new page so
// that keyboard users keep their place. Without script, "Apply filters"
// sends the form.
(function () {
  "use strict";
  var form = document.getElementById("catalogue-search");
  if (!form) { return; }
  var apply = form.querySelector("[data-without-script]");
  if (apply) { apply.hidden = true; }
  var key = "dfslab-facet-focus";
  try {
    var last = window.sessionStorage.getItem(key);
    window.sessionStorage.removeItem(key);
    if (last) {
      var box = form.querySelector('input[type=checkbox][name="' + last.split("=")[0] + '"][value="' + last.split("=")[1] + '"]');
      if (box) { box.focus(); }
    }
  } catch (e) { /* storage refused: no focus restore */ }
  form.addEventListener("change", function (ev) {
    var t = ev.target;
    if (!t || t.type !== "checkbox") { return; }
    try { window.sessionStorage.setItem(key, t.name + "=" + t.value); } catch (e) { /* ignore */ }
    form.submit();
  });
})();
