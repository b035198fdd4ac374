"""Signed links: a short token in a message's link that lets its reader do one thing.

A reminder's "manage your booking" link, a waiting-list offer's "take this time" link:
the patient opens them from an SMS or an e-mail, without logging in, so the link itself
must prove what it may do. The token is ``<subject>.<expiry>.<mac>``:

- ``subject`` is what the link acts on (a booking id, an offer id): ASCII letters,
  digits and ``-_``, never anything personal (the link ends up in SMS gateways' logs,
  browser histories and proxies);
- ``expiry`` is the Unix time after which it no longer works, in base 36;
- ``mac`` is an HMAC-SHA256 (16 bytes, URL-safe base64) over purpose, tenant, subject
  and expiry, with a key derived from the app's secret for links alone. The purpose
  and the tenant are in the MAC but not in the token, so a reminder's token is no offer
  token, and one tenant's token does nothing on another tenant's host.

A token is about 40 characters, which matters in a 160-character SMS. Verification
recomputes the MAC and compares in constant time; a changed character anywhere fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_SUBJECT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TOKEN = re.compile(r"([A-Za-z0-9_-]{1,64})\.([0-9a-z]{1,13})\.([A-Za-z0-9_-]{22})")
_PURPOSE = re.compile(r"[a-z][a-z0-9-]{0,31}")


class LinkInvalid(ValueError):
    """The token is malformed, altered, or made for another purpose or tenant."""


class LinkExpired(LinkInvalid):
    """The token was genuine but its time is over."""


@dataclass(frozen=True)
class SignedLink:
    subject: str
    expires_at: datetime


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _mac(secret: bytes, purpose: str, tenant: str, subject: str, expiry: str) -> str:
    key = hashlib.sha256(b"signed-link\n" + secret).digest()
    message = "\n".join((purpose, tenant, subject, expiry)).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: bytes, *, purpose: str, tenant: str, subject: str, expires_at: datetime) -> str:
    """A token for ``purpose`` on ``subject`` of ``tenant``, valid until ``expires_at``."""
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"purpose {purpose!r}: lower-case letters, digits and '-'")
    if not _SUBJECT.fullmatch(subject):
        raise ValueError("subject: 1-64 of A-Z a-z 0-9 - _")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must carry its time zone")
    expiry = _base36(int(expires_at.timestamp()))
    return f"{subject}.{expiry}.{_mac(secret, purpose, tenant, subject, expiry)}"


def verify(
    secret: bytes, token: str, *, purpose: str, tenant: str, now: datetime | None = None
) -> SignedLink:
    """The link's subject and expiry; :class:`LinkInvalid` for a token that is not ours
    (for this purpose and tenant), :class:`LinkExpired` for one whose time is over."""
    match = _TOKEN.fullmatch(token or "")
    if match is None:
        raise LinkInvalid("malformed token")
    subject, expiry, mac = match.groups()
    if not hmac.compare_digest(mac, _mac(secret, purpose, tenant, subject, expiry)):
        raise LinkInvalid("wrong signature")
    expires_at = datetime.fromtimestamp(int(expiry, 36), UTC)
    if (now or datetime.now(UTC)) >= expires_at:
        raise LinkExpired("expired")
    return SignedLink(subject=subject, expires_at=expires_at)
