"""A stand-in for a clinic chain's own website, on an origin of its own, for the demo and
tests: one page that lists the treatments with a browser ``fetch`` to the public API
(a publishable key, CORS) and embeds the booking widget with one ``<script>`` tag.

    python -m demo.clinic_site --port 8031 --booking-url http://tandmottagningen.localhost:8000 \\
        --api-key oo_pub_...

It is what a clinic's web agency would paste into the clinic's site (see the README's
*Booking from the clinic's own website*), nothing of the product itself.
"""

from __future__ import annotations

import argparse
import html
import json
from http.server import BaseHTTPRequestHandler

from demo.loopback import hold_stop_signals, serve_in_thread, wait_for_stop_signal

DEMO_CLINIC_SITE_PORT = 8031

PAGE = """<!doctype html>
<html lang="sv">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tandmottagningen – vår egen webbplats</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
           padding: 0 1rem; color: #1b1b1b; }}
    header {{ border-bottom: 4px solid #1F5F8B; margin-bottom: 1.5rem; }}
  </style>
</head>
<body>
  <header><h1>Tandmottagningen</h1><p>Klinikens egen webbplats (exempel)</p></header>
  <h2>Våra behandlingar</h2>
  <ul id="treatments" aria-live="polite"><li>Hämtar …</li></ul>
  <h2>Boka tid</h2>
  <script src="{booking_url}/widget.js" {widget_attributes} async></script>
  <script src="/treatments.js" data-booking-url="{booking_url}" data-api-key="{api_key}"></script>
</body>
</html>
"""

TREATMENTS_JS = """// The clinic's own script: the treatments, from the API with a publishable key.
(function () {
  var me = document.currentScript;
  var list = document.getElementById("treatments");
  fetch(me.dataset.bookingUrl + "/api/public/v1/treatments", {
    headers: { apiKey: me.dataset.apiKey },
  })
    .then(function (answer) {
      if (!answer.ok) throw new Error("HTTP " + answer.status);
      return answer.json();
    })
    .then(function (treatments) {
      list.textContent = "";
      treatments.forEach(function (treatment) {
        var item = document.createElement("li");
        item.textContent = treatment.Name;
        list.appendChild(item);
      });
      document.body.dataset.treatments = String(treatments.length);
    })
    .catch(function (error) {
      list.textContent = "Kunde inte hämta behandlingarna.";
      document.body.dataset.treatments = "error: " + error.message;
    });
})();
"""


def handler_for(
    booking_url: str, api_key: str, widget: dict[str, str] | None = None
) -> type[BaseHTTPRequestHandler]:
    """``widget``: the widget tag's data attributes (``clinic``, ``treatment``, ``lang``)."""
    attributes = " ".join(
        f'data-{name}="{html.escape(value)}"' for name, value in (widget or {"lang": "sv"}).items()
    )
    page = PAGE.format(
        booking_url=html.escape(booking_url.rstrip("/")),
        api_key=html.escape(api_key),
        widget_attributes=attributes,
    ).encode()
    script = TREATMENTS_JS.encode()

    class ClinicSite(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/":
                self._send(page, "text/html; charset=utf-8")
            elif path == "/treatments.js":
                self._send(script, "text/javascript; charset=utf-8")
            else:
                self._send(b"not found", "text/plain", status=404)

        def _send(self, body: bytes, kind: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the demo's console is for the product

    return ClinicSite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEMO_CLINIC_SITE_PORT)
    parser.add_argument("--booking-url", required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    hold_stop_signals()
    serve_in_thread(args.host, args.port, handler_for(args.booking_url, args.api_key))
    print(json.dumps({"clinic_site": f"http://localhost:{args.port}/"}), flush=True)
    wait_for_stop_signal()


if __name__ == "__main__":
    main()
