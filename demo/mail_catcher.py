"""A local mail catcher for the demo and tests: an SMTP server (aiosmtpd) on loopback
that keeps every message it takes, and a small web page that lists them.

    SMTP  127.0.0.1:2525     takes any mail (no login, no TLS: loopback only)
    web   http://127.0.0.1:8025/            the messages, newest first
          /mail/<n>.html  the HTML part (served with a CSP that runs no script)
          /mail/<n>.ics   the calendar file, if any
          /messages.json

Tests use :class:`MailCatcher` directly, and can make it refuse recipients with an
SMTP reply of their choosing (``refuse["x@example.se"] = "550 5.1.1 No such user"``).
Run it alone with ``python -m demo.mail_catcher``.
"""

from __future__ import annotations

import argparse
import html
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from demo.loopback import hold_stop_signals, serve_in_thread, wait_for_stop_signal


@dataclass
class CaughtMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    received_at: str

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def part(self, content_type: str) -> str | None:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                content = part.get_content()
                return content.decode("utf-8") if isinstance(content, bytes) else content
        return None

    @property
    def text(self) -> str | None:
        return self.part("text/plain")

    @property
    def html(self) -> str | None:
        return self.part("text/html")

    @property
    def calendar(self) -> str | None:
        return self.part("text/calendar")


@dataclass
class MailCatcher:
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    refuse: dict[str, str] = field(default_factory=dict)  # recipient → SMTP reply
    messages: list[CaughtMail] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    # aiosmtpd handler hooks -----------------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.messages.append(
                CaughtMail(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                )
            )
        return "250 Message accepted for delivery"

    # serving ----------------------------------------------------------------------------

    def start(self) -> MailCatcher:
        if self.port == 0:
            self.port = free_port(self.host)
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def to(self, address: str) -> list[CaughtMail]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def page(self) -> str:
        items = []
        for n, mail in reversed(list(enumerate(self.messages))):
            links = f'<a href="/mail/{n}.html">HTML</a>' if mail.html else ""
            if mail.calendar:
                links += f' · <a href="/mail/{n}.ics">kalenderfil</a>'
            items.append(
                "<article>"
                f"<h2>{html.escape(mail.subject)}</h2>"
                f"<p>{html.escape(mail.received_at)} · "
                f"från {html.escape(str(mail.message['From']))}"
                f" · till {html.escape(', '.join(mail.rcpt_tos))} · {links}</p>"
                f"<pre>{html.escape(mail.text or '')}</pre></article>"
            )
        return (
            '<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8">'
            "<title>E-post (mail catcher)</title><style>body{font-family:sans-serif}"
            "article{border-top:1px solid #ccc}pre{white-space:pre-wrap}</style></head><body>"
            f"<h1>E-post som tagits emot ({len(self.messages)})</h1>{''.join(items)}"
            "</body></html>"
        )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def serve_web(catcher: MailCatcher, host: str, port: int) -> ThreadingHTTPServer:
    """The catcher's web page on ``host:port``, served on a thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/":
                return self._send(catcher.page(), "text/html; charset=utf-8")
            if path == "/messages.json":
                data = [
                    {
                        "from": m.mail_from,
                        "to": m.rcpt_tos,
                        "subject": m.subject,
                        "received_at": m.received_at,
                        "text": m.text,
                        "has_calendar": m.calendar is not None,
                    }
                    for m in catcher.messages
                ]
                return self._send(json.dumps(data, ensure_ascii=False), "application/json")
            name, _, suffix = path.removeprefix("/mail/").partition(".")
            if path.startswith("/mail/") and name.isdigit() and int(name) < len(catcher.messages):
                mail = catcher.messages[int(name)]
                content = {"html": mail.html, "ics": mail.calendar}.get(suffix)
                kind = {"html": "text/html", "ics": "text/calendar"}.get(suffix, "")
                if content is not None:
                    return self._send(content, f"{kind}; charset=utf-8")
            self.send_error(404)

        def _send(self, text: str, kind: str) -> None:
            data = text.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            # A caught HTML mail is shown, never run: no scripts, no outside loads.
            self.send_header(
                "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"
            )
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return serve_in_thread(host, port, Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Local mail catcher (SMTP + web page)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=2525)
    parser.add_argument("--web-port", type=int, default=8025)
    args = parser.parse_args(argv)
    hold_stop_signals()
    catcher = MailCatcher(args.host, args.smtp_port).start()
    web = serve_web(catcher, args.host, args.web_port)
    print(
        f"Mail catcher: SMTP {args.host}:{args.smtp_port}, "
        f"mail at http://{args.host}:{args.web_port}/",
        flush=True,
    )
    wait_for_stop_signal()
    web.shutdown()
    catcher.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
