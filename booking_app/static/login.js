/* The BankID page (booking_app/login.py): a new QR code every second, and a collect
   every two seconds until BankID says complete or failed. The server computes the
   codes (the secret stays there); the SVG it sends is parsed as SVG, never as HTML. */
(function () {
  "use strict";

  var root = document.querySelector("[data-bankid]");
  if (!root) return;
  var qrBox = root.querySelector("[data-qr]");
  var statusLine = root.querySelector("[data-status]");
  var form = root.querySelector("[data-collect]");
  var done = false;

  function showQr(svgText) {
    var doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    var svg = doc.documentElement;
    if (svg && svg.nodeName.toLowerCase() === "svg") {
      qrBox.replaceChildren(document.importNode(svg, true));
    }
  }

  function refreshQr() {
    if (done || !qrBox) return;
    fetch(root.getAttribute("data-qr-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.svg) showQr(data.svg); })
      .catch(function () {});
  }

  function collect() {
    if (done) return;
    var body = new URLSearchParams(new FormData(form));
    body.set("js", "1");
    fetch(form.getAttribute("action"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: body
    })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.message) statusLine.textContent = data.message;
        if (data.status === "complete" || data.status === "failed") {
          done = true;
          if (data.status === "failed" && qrBox) qrBox.replaceChildren();
          if (data.redirect) window.location.assign(data.redirect);
        } else {
          window.setTimeout(collect, 2000);
        }
      })
      .catch(function () { window.setTimeout(collect, 2000); });
  }

  var continueButton = root.querySelector("[data-continue]");
  if (continueButton) continueButton.hidden = true;
  if (qrBox) window.setInterval(refreshQr, 1000);
  window.setTimeout(collect, 1000);
})();
