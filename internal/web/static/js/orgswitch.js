// The organisation switcher applies a choice as soon as it is made; the
// Switch button stays for browsers without script.
(function () {
  "use strict";
  var form = document.getElementById("org-switch");
  if (!form) { return; }
  var select = form.querySelector("select");
  var button = form.querySelector("button");
  if (button) { button.hidden = true; }
  select.addEventListener("change", function () { form.submit(); });
})();
