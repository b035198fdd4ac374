"""Who an anonymous client is, for the limits on holds and codes
(:mod:`connectors.store.client_limits`), and how hard its proof of work is.

The client is the request's address and the browser's id cookie, each as a keyed
hash with the app's secret: the store can count them but cannot read an address.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy.orm import Session

from booking_app import captcha, csrf
from connectors.store.client_limits import Client, active_holds, codes_since


def _key(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def client_of(request: Request, secret: bytes) -> Client:
    """The request's client (behind a proxy, uvicorn's ``--proxy-headers`` gives the
    real address)."""
    address = request.client.host if request.client else ""
    cookie = csrf.browser_id(request)
    return Client(
        _key(secret, "address", address), _key(secret, "cookie", cookie) if cookie else None
    )


def captcha_bits(session: Session, client: Client, now: datetime) -> int:
    """The proof of work's difficulty for this client: the base for one hold and no
    codes, two bits (four times the work) more for each further active hold and each
    code sent in the last hour, up to :data:`captcha.MAX_BITS`."""
    holds = active_holds(session, client, now)
    codes = codes_since(session, client, now - timedelta(hours=1))
    extra = 2 * (max(0, holds - 1) + codes)
    return min(captcha.DIFFICULTY_BITS + extra, captcha.MAX_BITS)
