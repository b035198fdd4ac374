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
