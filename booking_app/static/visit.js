// First-party visit counting (booking_app/tracking.py). No cookie, no storage, no
// identifier: one small POST per page view, to this site only. The page, not this
// script, says what it is (data-page; data-path, a route template, never the URL;
// data-key, the server's signature of the two).
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me) return;
  // Do Not Track and Global Privacy Control: nothing is sent at all.
  if (navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl) {
    return;
  }
  // The tenant's analytics script (Avancerat) runs in a sandboxed frame of its own
  // (an opaque origin: it cannot read or act on our pages); it learns of this page
  // view from us, and of nothing else.
  if (me.dataset.frame) {
    var frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "allow-scripts");
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.setAttribute("aria-hidden", "true");
    frame.setAttribute("tabindex", "-1");
    frame.title = "";
    frame.hidden = true;
    frame.addEventListener("load", function () {
      var view = { type: "opus:pageview", page: me.dataset.page, path: me.dataset.path };
      // "*": an opaque origin has no name to address it by; the message is not secret.
      frame.contentWindow.postMessage(view, "*");
    });
    frame.src = me.dataset.frame;
    (document.body || document.documentElement).appendChild(frame);
  }
  var body = { p: me.dataset.page, u: me.dataset.path, k: me.dataset.key };
  if (document.referrer) body.r = document.referrer.slice(0, 500);
  var source = new URLSearchParams(location.search).get("utm_source");
  if (source) body.s = source.slice(0, 100);
  var data = JSON.stringify(body);
  // text/plain: a "simple" request, so neither sendBeacon nor fetch needs a preflight.
  if (navigator.sendBeacon && navigator.sendBeacon("/besok", new Blob([data], { type: "text/plain" }))) {
    return;
  }
  if (window.fetch) {
    fetch("/besok", {
      method: "POST",
      body: data,
      keepalive: true,
      credentials: "omit",
      headers: { "Content-Type": "text/plain" },
    }).catch(function () {});
  }
})();
