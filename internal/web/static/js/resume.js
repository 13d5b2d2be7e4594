// Sends the form the person filled in before confirming it was them
// (step-up): the page holds it as hidden fields; without script, the
// person presses the button.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
})();
