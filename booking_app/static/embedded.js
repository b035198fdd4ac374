// In the booking widget's frame on a clinic's website (booking_app/widget.py): tell the
// page that drew the frame how tall this page is, so the frame fits it. Only the height
// travels, to whichever page framed us; outside a frame this does nothing.
(function () {
  if (window.parent === window) return;
  var sent = 0;
  function report() {
    var height = document.documentElement.scrollHeight;
    if (height === sent) return;
    sent = height;
    window.parent.postMessage({ type: "opus-online:height", height: height }, "*");
  }
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  report();
})();
