// Autosave of the answer form: each question's form is saved when a level
// or "not applicable" is chosen, or when its comment or reason loses focus.
// The server keeps a version per answer: a stale save is refused (409)
// and the page says so instead of overwriting someone else's answer.
// Each question's Save button posts the same form, with or without script.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-autosave]");
  Array.prototype.forEach.call(forms, function (form) {
    var state = form.querySelector(".save-state");
    var version = form.querySelector("input[name=version]");
    var pending = false;
    function say(text, error) {
      state.textContent = text;
      state.className = "save-state" + (error ? " error" : "");
    }
    function save() {
      if (pending) { return; }
      pending = true;
      say("Saving…", false);
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        body: new URLSearchParams(new FormData(form))
      }).then(function (r) {
        return r.json().then(function (body) { return { status: r.status, body: body }; });
      }).then(function (res) {
        pending = false;
        if (res.status === 200) {
          version.value = res.body.version;
          say("Saved at " + new Date(res.body.saved).toLocaleTimeString(), false);
          return;
        }
        say(res.body.error || "Not saved.", true);
      }).catch(function () {
        pending = false;
        say("Not saved: the connection failed. Try again.", true);
      });
    }
    Array.prototype.forEach.call(form.querySelectorAll("input[type=radio], input[type=checkbox]"), function (el) {
      el.addEventListener("change", function () {
        var reason = form.querySelector("input[name=na_reason]");
        var na = form.querySelector("input[name=level][value=na]");
        // "Not applicable" needs its reason first; saving waits for it.
        if (na && na.checked && reason && reason.value.trim() === "") {
          say("Say why the question does not apply, then leave the field to save.", false);
          reason.focus();
          return;
        }
        save();
      });
    });
    Array.prototype.forEach.call(form.querySelectorAll("textarea, input[name=na_reason]"), function (el) {
      el.addEventListener("change", save);
    });
  });
})();
