// WebAuthn ceremonies of dfslab. Forms marked data-webauthn="signin",
// "register" or "verify" get their options from data-begin, run the
// browser ceremony and post the result to data-finish, which answers
// {"redirect": "/path"} or {"error": "message"}. No inline script: the
// page's CSP allows only files served by the platform itself.
"use strict";

(function () {
  function b64urlToBuf(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function bufToB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // The server sends binary fields as base64url strings.
  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    pk.user.id = b64urlToBuf(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64urlToBuf(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = b64urlToBuf(c.id); });
    var opts = { publicKey: pk };
    if (o.mediation) opts.mediation = o.mediation;
    return opts;
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufToB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = bufToB64url(r.authenticatorData);
      out.response.signature = bufToB64url(r.signature);
      if (r.userHandle) out.response.userHandle = bufToB64url(r.userHandle);
    }
    return out;
  }

  // post sends JSON and returns the parsed answer. A shell redirect (for
  // example to the step-up page) is followed by navigating there.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      if (res.redirected && type.indexOf("application/json") !== 0) {
        window.location.assign(res.url);
        return new Promise(function () {});
      }
      if (type.indexOf("application/json") !== 0) {
        throw new Error("The server could not answer. Please try again.");
      }
      return res.json().then(function (data) {
        // A refusal that names a page (step-up) sends the user there.
        if (!res.ok && data.redirect) {
          window.location.assign(data.redirect);
          return new Promise(function () {});
        }
        if (!res.ok) throw new Error(data.error || "The request was refused.");
        return data;
      });
    });
  }

  function fields(form) {
    var body = {};
    ["email", "displayName", "passkeyName"].forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (el && el.value !== undefined) body[name] = el.value;
    });
    if (form.dataset.next) body.next = form.dataset.next;
    return body;
  }

  function showError(form, msg) {
    var el = form.querySelector("[data-webauthn-error]");
    if (el) el.textContent = msg;
  }

  function friendly(err) {
    if (err && err.name === "NotAllowedError") return "The passkey request was cancelled or timed out.";
    if (err && err.name === "InvalidStateError") return "This authenticator already holds a passkey for your account.";
    if (err && err.name === "AbortError") return "";
    return (err && err.message) || "Something went wrong. Please try again.";
  }

  var conditional = null; // AbortController of a pending conditional sign-in

  function run(form, mode, opts) {
    var begin = Object.assign(fields(form), opts || {});
    return post(form.dataset.begin, begin).then(function (o) {
      if (mode === "register") {
        return navigator.credentials.create(creationOptions(o));
      }
      var req = requestOptions(o);
      if (begin.conditional) {
        conditional = new AbortController();
        req.signal = conditional.signal;
      }
      return navigator.credentials.get(req);
    }).then(function (cred) {
      if (!cred) throw new Error("No passkey was chosen.");
      return post(form.dataset.finish, credentialJSON(cred));
    }).then(function (data) {
      window.location.assign(data.redirect || "/");
    });
  }

  function setup(form) {
    var mode = form.dataset.webauthn;
    if (!window.PublicKeyCredential) {
      showError(form, "This browser does not support passkeys.");
      return;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!form.reportValidity()) return;
      if (conditional) { conditional.abort(); conditional = null; }
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      showError(form, "");
      run(form, mode).catch(function (err) {
        showError(form, friendly(err));
      }).finally(function () {
        if (button) button.disabled = false;
      });
    });
    // Conditional UI: offer passkeys in the browser's autofill of the
    // username field, without a click.
    if (mode === "signin" && form.dataset.autofill !== "off" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) return;
        run(form, mode, { conditional: true }).catch(function (err) {
          var msg = friendly(err);
          if (msg && err.name !== "AbortError") showError(form, msg);
        });
      });
    }
  }

  function init() {
    document.querySelectorAll("form[data-webauthn]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
