"""Sending SMS through a gateway's HTTP API in the shape of 46elks, a common Swedish one.

    POST <url>   (basic auth)   from=<sender id>&to=<E.164>&message=<text>[&whendelivered=<url>]
    → 200 {"id": "s…", "status": "created", "parts": 1, …}

The gateway later POSTs a delivery report (``id``, ``status`` = delivered | failed,
``delivered``) to the ``whendelivered`` URL. The outbox only needs :class:`SmsGateway`,
so the demo's stand-in (``demo/sms_gateway.py``) or another gateway swaps in.

Status codes: 5xx, 429, timeouts and connection errors are temporary; so are 401/402
(credentials, credit: the operator's to fix, after which the waiting messages go
out). Any other 4xx is the gateway refusing this message (a bad number): permanent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import httpx

from connectors.delivery import Permanent, Transient

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9]{1,11}")
_TEMPORARY = {401, 402, 408, 425, 429}


def valid_number(number: str) -> bool:
    """A mobile number in E.164 (``+46701234567``)."""
    return bool(E164.fullmatch(number))


def valid_sender(sender: str) -> bool:
    """An SMS sender id: up to 11 ASCII letters and digits, at least one a letter
    (all digits would read as a number), or a phone number in E.164."""
    return bool(_ALPHANUMERIC_SENDER.fullmatch(sender) or E164.fullmatch(sender))


@dataclass(frozen=True)
class Sms:
    sender: str
    to: str
    text: str
    callback_url: str | None = None  # where the gateway reports delivery


class SmsGateway(Protocol):
    def send(self, sms: Sms) -> str | None:
        """Hand ``sms`` to the gateway and return its id for the message; raise
        :class:`~connectors.delivery.DeliveryError`."""


@dataclass(frozen=True)
class ElksGateway:
    """The 46elks-style HTTP API at ``url`` (``https://api.46elks.com/a1/sms``)."""

    url: str
    username: str
    password: str
    timeout_s: float = 10.0

    def send(self, sms: Sms) -> str | None:
        if not valid_number(sms.to):
            raise Permanent("not a mobile number in E.164 form")
        if not valid_sender(sms.sender):
            raise Permanent(f"SMS sender id {sms.sender!r} is not allowed")
        form = {"from": sms.sender, "to": sms.to, "message": sms.text}
        if sms.callback_url:
            form["whendelivered"] = sms.callback_url
        try:
            response = httpx.post(
                self.url, data=form, auth=(self.username, self.password), timeout=self.timeout_s
            )
        except httpx.TimeoutException:
            raise Transient("SMS gateway timed out") from None
        except httpx.HTTPError as exc:
            raise Transient(f"SMS gateway unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 500 or response.status_code in _TEMPORARY:
            raise Transient(_said(response))
        if response.status_code >= 400:
            raise Permanent(_said(response))
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        # Taken: without an id we lose only the delivery report, not the message.
        message_id = answer.get("id") if isinstance(answer, dict) else None
        return str(message_id)[:64] if message_id else None


def _said(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:200]
    return f"SMS gateway answered {response.status_code}" + (f": {text}" if text else "")
