"""A self-hosted proof-of-work check, for bookings confirmed without a code.

The server hands out a challenge signed with the app's secret; the patient's browser
(``/static/captcha.js``) searches for a nonce such that ``sha256(challenge + nonce)``
starts with :data:`DIFFICULTY_BITS` zero bits (a fraction of a second for one
booking, a real cost for a script booking hundreds). No third-party service sees the
patient. The server checks the signature, the expiry, the difficulty, and that the
challenge is for this booking.

One-time use: a challenge names the booking it was issued for, and a booking is
confirmed once (a second submit finds it confirmed and shows the same booking), so a
solved challenge can confirm nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

DIFFICULTY_BITS = 16
"""About 65,000 hashes on average: well under a second in a phone's browser."""
MAX_BITS = 24
"""The most a client's limits raise it to (booking_app.limits): 256 times the base."""
LIFETIME = timedelta(minutes=10)
_NONCE = re.compile(r"[0-9]{1,20}")
_PURPOSE = b"opus-online captcha v1:"


class CaptchaFailed(Exception):
    """``key`` names the message: ``captcha_invalid`` or ``captcha_expired``."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, _PURPOSE + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(secret: bytes, reference: str, now: datetime, bits: int = DIFFICULTY_BITS) -> str:
    """A challenge for the booking ``reference``, valid for :data:`LIFETIME`."""
    expires = int((now + LIFETIME).timestamp())
    payload = f"{reference}.{expires}.{bits}.{secrets.token_urlsafe(12)}"
    return f"{payload}.{_signature(secret, payload)}"


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solves(challenge: str, nonce: str, bits: int) -> bool:
    digest = hashlib.sha256(f"{challenge}{nonce}".encode()).digest()
    return leading_zero_bits(digest) >= bits


def verify(
    secret: bytes,
    challenge: str,
    nonce: str,
    reference: str,
    now: datetime,
    bits: int = DIFFICULTY_BITS,
) -> None:
    """Raise :class:`CaptchaFailed` unless ``nonce`` solves a challenge that we
    issued for ``reference``, not yet expired, at least ``bits`` hard."""
    parts = challenge.split(".")
    if len(parts) != 5 or not _NONCE.fullmatch(nonce or ""):
        raise CaptchaFailed("captcha_invalid")
    for_reference, expires, issued_bits, _salt, signature = parts
    payload = ".".join(parts[:4])
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise CaptchaFailed("captcha_invalid")
    # Signed by us, so these are ours: no parsing of foreign input beyond this point.
    if for_reference != reference or int(issued_bits) < bits:
        raise CaptchaFailed("captcha_invalid")
    if now.timestamp() >= int(expires):
        raise CaptchaFailed("captcha_expired")
    if not solves(challenge, nonce, int(issued_bits)):
        raise CaptchaFailed("captcha_invalid")


def solve(challenge: str, bits: int) -> str:
    """Find a nonce (what the browser does): for tests and the demo's checks."""
    nonce = 0
    while not solves(challenge, str(nonce), bits):
        nonce += 1
    return str(nonce)
