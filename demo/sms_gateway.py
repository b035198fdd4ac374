"""A stand-in for the SMS gateway (46elks' API shape) on loopback, for the demo and tests.

    POST /a1/sms   basic auth; form from, to, message[, whendelivered]
      200 {"id": "s…", "status": "created", "parts": N, …}
      400 "Invalid from" / "Invalid to number" / "Missing message"; 401 without the password
    GET  /             the messages it took, as a page
    GET  /messages.json  the same as JSON

After taking a message it POSTs the delivery report (``id``, ``status``, ``delivered``)
to ``whendelivered``, as the real gateway does once the phone has it. Tests can make
it fail (:meth:`SmsGatewayStandIn.fail_next`), refuse numbers, or report a failed
delivery. Run it alone with ``python -m demo.sms_gateway --port 8026``.
"""

from __future__ import annotations

import argparse
import base64
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from connectors.notifications.sms_length import sms_length
from connectors.sms import valid_number, valid_sender
from demo.loopback import close, hold_stop_signals, serve_in_thread, wait_for_stop_signal

MAX_BODY = 64 * 1024


@dataclass
class ReceivedSms:
    id: str
    sender: str
    to: str
    message: str
    parts: int
    encoding: str
    received_at: str
    callback_url: str | None
    report: str = ""  # what became of the delivery report


@dataclass
class SmsGatewayStandIn:
    """The stand-in server. ``start()`` serves it on a thread; ``port=0`` picks one."""

    host: str = "127.0.0.1"
    port: int = 0
    username: str = "demo"
    password: str = "demo"
    report_delay_s: float = 0.2
    refused_numbers: set[str] = field(default_factory=set)  # answered 400
    undeliverable_numbers: set[str] = field(default_factory=set)  # reported "failed"
    received: list[ReceivedSms] = field(default_factory=list)
    requests: int = 0  # every POST to the API, taken or not

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[tuple[int, float]] = []  # (status or 0 for a hang, seconds)
        self._reports: list[threading.Thread] = []
        self._server: ThreadingHTTPServer | None = None

    # -- control (tests) -----------------------------------------------------------------

    def fail_next(self, times: int, status: int = 503, hang_s: float = 0.0) -> None:
        """Answer the next ``times`` API calls with ``status`` (or, with ``hang_s``,
        answer nothing for that long: a client with a shorter timeout gives up)."""
        with self._lock:
            self._failures.extend([(status, hang_s)] * times)

    def wait_for_reports(self, timeout_s: float = 10.0) -> None:
        """Until every delivery report so far has been posted (or given up)."""
        for thread in list(self._reports):
            thread.join(timeout_s)

    # -- serving -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SmsGatewayStandIn:
        self._server = serve_in_thread(self.host, self.port, _handler(self))
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            close(self._server)
            self._server = None

    def __enter__(self) -> SmsGatewayStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the API -------------------------------------------------------------------------

    def _authorised(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header is not None and hmac.compare_digest(header, f"Basic {expected}")

    def _take(self, form: dict[str, str]) -> tuple[int, str]:
        with self._lock:
            self.requests += 1
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, hang_s = failure
            if hang_s:
                time.sleep(hang_s)
            return status, "Service unavailable, try again later"
        sender, to, text = form.get("from", ""), form.get("to", ""), form.get("message", "")
        if not valid_sender(sender):
            return 400, "Invalid from"
        if not valid_number(to) or to in self.refused_numbers:
            return 400, f"Invalid to number: {to}"  # as real gateways do: the number echoed
        if not text:
            return 400, "Missing message"
        length = sms_length(text)
        sms = ReceivedSms(
            id="s" + secrets.token_hex(16),
            sender=sender,
            to=to,
            message=text,
            parts=length.segments,
            encoding=length.encoding,
            received_at=datetime.now(UTC).isoformat(timespec="seconds"),
            callback_url=form.get("whendelivered") or None,
        )
        with self._lock:
            self.received.append(sms)
        if sms.callback_url:
            thread = threading.Thread(target=self._report, args=(sms,), daemon=True)
            self._reports.append(thread)
            thread.start()
        answer = {
            "status": "created",
            "direction": "outgoing",
            "from": sender,
            "to": to,
            "created": sms.received_at,
            "parts": sms.parts,
            "message": text,
            "id": sms.id,
        }
        return 200, json.dumps(answer)

    def _report(self, sms: ReceivedSms) -> None:
        time.sleep(self.report_delay_s)
        status = "failed" if sms.to in self.undeliverable_numbers else "delivered"
        form = {"id": sms.id, "status": status, "delivered": datetime.now(UTC).isoformat()}
        url, headers = _loopback(sms.callback_url or "")
        try:
            response = httpx.post(url, data=form, headers=headers, timeout=10)
            sms.report = f"{status}: callback answered {response.status_code}"
        except httpx.HTTPError as exc:
            sms.report = f"{status}: callback failed ({type(exc).__name__})"

    def page(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (s.received_at, s.sender, s.to, s.parts, s.encoding, s.report)
            )
            + f"<td><pre>{html.escape(s.message)}</pre></td></tr>"
            for s in reversed(self.received)
        )
        return (
            '<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8">'
            "<title>SMS (stand-in)</title><style>body{font-family:sans-serif}"
            "td{border-top:1px solid #ccc;padding:.3em;vertical-align:top}"
            "pre{white-space:pre-wrap;margin:0}</style></head><body>"
            f"<h1>SMS som gatewayen tagit emot ({len(self.received)})</h1>"
            "<table><tr><th>Mottaget</th><th>Från</th><th>Till</th><th>Delar</th>"
            "<th>Kodning</th><th>Leveransrapport</th><th>Meddelande</th></tr>"
            f"{rows}</table></body></html>"
        )


def _loopback(url: str) -> tuple[str, dict[str, str]]:
    """``*.localhost`` names do not resolve everywhere: connect to 127.0.0.1 and keep
    the name in the Host header (the booking app picks the tenant by it)."""
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    if hostname == "localhost" or hostname.endswith(".localhost"):
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}
    return url, {}


def _handler(gateway: SmsGatewayStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if urlsplit(self.path).path.rstrip("/").lower() != "/a1/sms":
                return self._send(404, "Not found")
            if not gateway._authorised(self.headers.get("Authorization")):
                return self._send(401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="sms"'})
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return self._send(413, "Too large")
            body = self.rfile.read(length).decode("utf-8", "replace")
            form = dict(parse_qsl(body, keep_blank_values=True))
            status, text = gateway._take(form)
            kind = "application/json" if status == 200 else "text/plain; charset=utf-8"
            self._send(status, text, {"Content-Type": kind})

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/messages.json":
                data = json.dumps([asdict(s) for s in gateway.received], ensure_ascii=False)
                return self._send(200, data, {"Content-Type": "application/json"})
            if path == "/":
                return self._send(200, gateway.page(), {"Content-Type": "text/html; charset=utf-8"})
            self._send(404, "Not found")

        def _send(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            headers = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            # The page shows what patients were sent: as text, never run.
            self.send_header(
                "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"
            )
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the page shows what came in

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SMS gateway stand-in (46elks API shape)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo")
    args = parser.parse_args(argv)
    hold_stop_signals()
    gateway = SmsGatewayStandIn(args.host, args.port, args.username, args.password).start()
    print(f"SMS gateway stand-in: API {gateway.url}/a1/sms, messages {gateway.url}/", flush=True)
    wait_for_stop_signal()
    gateway.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
