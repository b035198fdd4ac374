// The booking widget (booking_app/widget.py): one tag on a clinic's own website draws
// the booking steps in a frame from the tenant's booking site, sized to its content.
//   <script src="https://<tenant host>/widget.js" data-clinic="UPP1" data-treatment="1"
//           data-lang="sv" async></script>
(function () {
  var tag = document.currentScript;
  if (!tag) return;
  var site = new URL(tag.src).origin;
  var query = new URLSearchParams();
  ["clinic", "treatment", "lang"].forEach(function (name) {
    if (tag.dataset[name]) query.set(name, tag.dataset[name]);
  });
  var frame = document.createElement("iframe");
  frame.src = site + "/inbaddad?" + query.toString();
  frame.title = tag.dataset.title || "Boka tid";
  frame.loading = "lazy";
  frame.style.cssText = "display:block;width:100%;min-height:32rem;border:0;";
  tag.parentNode.insertBefore(frame, tag.nextSibling);
  window.addEventListener("message", function (event) {
    // Only our frame's page, only a height.
    if (event.origin !== site || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (data && data.type === "opus-online:height" && data.height > 0) {
      frame.style.height = Math.min(Math.ceil(data.height), 20000) + "px";
    }
  });
})();
