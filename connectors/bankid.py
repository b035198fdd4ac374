"""BankID Relying Party API v6.0: ``auth``, ``collect`` and ``cancel``.

A small client rather than ``pybankid``: that library fixes the server's address and
CA to BankID's own (so it cannot talk to the demo's stand-in or a pinned CA file),
reads the wall clock inside its QR function and does not retry. Here:

- mutual TLS: the relying party's certificate and key, and the server checked against
  one pinned CA certificate only (never the system's trust store);
- every call has a timeout; ``collect`` and ``cancel`` (idempotent) are retried a
  bounded number of times on network failures and BankID's 5xx/408 answers, ``auth``
  only when the request never reached the server (a retried ``auth`` could start a
  second order);
- the animated QR code's content is computed here from ``qrStartSecret``, which
  never leaves the server.

The personal number in completion data is personal data: nothing here logs it.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

API_PATH = "/rp/v6.0/"

RETRYABLE_STATUS = frozenset({408, 500, 503})


class BankIDError(Exception):
    """BankID said no, or could not be reached. ``code`` is BankID's ``errorCode``
    (``alreadyInProgress``, ``invalidParameters``, ``requestTimeout``,
    ``maintenance``, ``internalError`` ...) or ``network`` when nobody answered."""

    def __init__(self, code: str, details: str = "") -> None:
        super().__init__(f"{code}: {details}" if details else code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Order:
    """What ``auth`` answers. ``qr_start_secret`` stays on the server."""

    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str


@dataclass(frozen=True)
class User:
    personal_number: str
    name: str
    given_name: str
    surname: str


@dataclass(frozen=True)
class Collected:
    """One ``collect`` answer: ``pending`` (with a hint), ``failed`` (with a hint),
    or ``complete`` (with the user)."""

    status: str
    hint_code: str | None = None
    user: User | None = None


def qr_content(qr_start_token: str, qr_start_secret: str, seconds: int) -> str:
    """The animated QR code's text ``seconds`` whole seconds after the order:
    ``bankid.<token>.<seconds>.<hex HMAC-SHA256(secret, str(seconds))>``."""
    auth_code = hmac.new(
        qr_start_secret.encode(), str(seconds).encode(), hashlib.sha256
    ).hexdigest()
    return f"bankid.{qr_start_token}.{seconds}.{auth_code}"


def autostart_link(auto_start_token: str) -> str:
    """ "BankID på den här enheten": ``redirect=null`` lets the app return to the
    browser the patient came from."""
    return f"bankid:///?autostarttoken={auto_start_token}&redirect=null"


def tls_context(ca_file: Path, cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """Trust exactly ``ca_file`` (BankID's CA, pinned) and present the RP certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    return context


class BankIDClient:
    """One relying party's connection to one BankID server (``base_url`` without the
    API path, e.g. ``https://appapi2.bankid.com``)."""

    def __init__(
        self,
        base_url: str,
        context: ssl.SSLContext,
        *,
        timeout_s: float = 10.0,
        retries: int = 2,
        retry_delay_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + API_PATH,
            verify=context,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            headers={"Content-Type": "application/json"},
        )
        self._retries = retries
        self._retry_delay_s = retry_delay_s
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def auth(self, end_user_ip: str) -> Order:
        body = self._call("auth", {"endUserIp": end_user_ip}, idempotent=False)
        try:
            return Order(
                order_ref=str(body["orderRef"]),
                auto_start_token=str(body["autoStartToken"]),
                qr_start_token=str(body["qrStartToken"]),
                qr_start_secret=str(body["qrStartSecret"]),
            )
        except KeyError as missing:
            raise BankIDError("internalError", f"auth answer lacks {missing}") from None

    def collect(self, order_ref: str) -> Collected:
        body = self._call("collect", {"orderRef": order_ref}, idempotent=True)
        status = body.get("status")
        if status == "complete":
            user = (body.get("completionData") or {}).get("user") or {}
            try:
                return Collected(
                    "complete",
                    user=User(
                        personal_number=str(user["personalNumber"]),
                        name=str(user.get("name", "")),
                        given_name=str(user.get("givenName", "")),
                        surname=str(user.get("surname", "")),
                    ),
                )
            except KeyError:
                raise BankIDError("internalError", "completion without a user") from None
        if status in ("pending", "failed"):
            return Collected(status, hint_code=body.get("hintCode"))
        raise BankIDError("internalError", "collect answer without a known status")

    def cancel(self, order_ref: str) -> None:
        self._call("cancel", {"orderRef": order_ref}, idempotent=True)

    def _call(self, method: str, payload: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            retry = attempt <= self._retries
            try:
                response = self._http.post(method, json=payload)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached BankID: even auth may be sent again.
                if retry:
                    self._sleep(self._retry_delay_s)
                    continue
                raise BankIDError("network", type(exc).__name__) from None
            except httpx.HTTPError as exc:
                if retry and idempotent:
                    self._sleep(self._retry_delay_s)
                    continue
                raise BankIDError("network", type(exc).__name__) from None
            if response.status_code == 200:
                try:
                    body = response.json()
                except ValueError:
                    raise BankIDError("internalError", "answer is not JSON") from None
                if not isinstance(body, dict):
                    raise BankIDError("internalError", "answer is not a JSON object")
                return body
            if response.status_code in RETRYABLE_STATUS and retry and idempotent:
                self._sleep(self._retry_delay_s)
                continue
            raise _error_of(response)


def _error_of(response: httpx.Response) -> BankIDError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("errorCode") or {
        401: "unauthorized",
        403: "unauthorized",
        404: "notFound",
        408: "requestTimeout",
        503: "maintenance",
    }.get(response.status_code, "internalError")
    return BankIDError(str(code), str(body.get("details", ""))[:200])


def client_from_settings(settings: Any) -> BankIDClient | None:
    """The client the settings describe (``OPUS_BANKID_*``), or ``None`` when BankID
    is not configured (then no login can start)."""
    if not settings.bankid_url:
        return None
    context = tls_context(
        Path(settings.bankid_ca_file),
        Path(settings.bankid_cert_file),
        Path(settings.bankid_key_file),
    )
    return BankIDClient(
        settings.bankid_url,
        context,
        timeout_s=settings.bankid_timeout_s,
        retries=settings.bankid_retries,
    )
