"""Sending e-mail over SMTP, with timeouts, telling a permanent refusal from a passing one.

SMTP says it in the reply code: 5xx is permanent ("550 no such user"), 4xx is
temporary ("451 try again later"). A server that is down, slow or hangs up is
temporary too. A refused login is a configuration fault: temporary, so that the
messages go out once an operator fixes the password, within the outbox's bounded
retries.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal, Protocol

from connectors.delivery import Permanent, Transient

Security = Literal["none", "starttls", "tls"]


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over; raise :class:`~connectors.delivery.DeliveryError`."""


@dataclass(frozen=True)
class SmtpMailer:
    """An SMTP submission server. ``security``: ``tls`` (implicit, port 465),
    ``starttls`` (port 587) or ``none`` (a relay on the local network, the demo)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    security: Security = "none"
    timeout_s: float = 15.0

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refusal("recipient refused", *next(iter(exc.recipients.values()))) from None
        except smtplib.SMTPSenderRefused as exc:
            raise _refusal("sender refused", exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise Transient(f"SMTP login refused: {_text(exc.smtp_code, exc.smtp_error)}") from None
        except smtplib.SMTPDataError as exc:  # the content, or the recipient after DATA
            raise _refusal("message refused", exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPResponseException as exc:  # greeting, HELO, STARTTLS: the server's
            raise Transient(f"SMTP server: {_text(exc.smtp_code, exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:  # down, timed out, hung up, TLS
            raise Transient(f"SMTP server {self.host}:{self.port}: {_describe(exc)}") from None
        if refused:  # one recipient per message, so this is that one
            raise _refusal("recipient refused", *next(iter(refused.values())))

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)


def _refusal(what: str, code: int, error: bytes | str) -> Permanent | Transient:
    reason = f"SMTP {what}: {_text(code, error)}"
    return Permanent(reason) if 500 <= code < 600 else Transient(reason)


def _text(code: int, error: bytes | str) -> str:
    if isinstance(error, bytes):
        error = error.decode("utf-8", "replace")
    return f"{code} {' '.join(error.split())}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
