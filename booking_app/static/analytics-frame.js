// The first script of the analytics frame (/analys, booking_app/tracking.py), before the
// tenant's own. The frame is sandboxed into an opaque origin: the tenant's script sees
// none of our pages, only the page views our page tells it about by postMessage (the
// page kind and its route template, nothing personal). It gets them as
//   window.addEventListener("opus:pageview", (e) => e.detail)   // {page, path}
// and, for a script that starts late, in window.opusPageViews.
(function () {
  "use strict";
  var views = [];
  window.opusPageViews = views;
  window.addEventListener("message", function (event) {
    if (event.source !== window.parent) return;
    var data = event.data;
    if (!data || data.type !== "opus:pageview") return;
    if (typeof data.page !== "string" || typeof data.path !== "string") return;
    var view = { page: data.page.slice(0, 40), path: data.path.slice(0, 60) };
    views.push(view);
    window.dispatchEvent(new CustomEvent("opus:pageview", { detail: view }));
  });
})();
