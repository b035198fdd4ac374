"""A stand-in for BankID's Relying Party API v6.0, on loopback, for the demo and tests.

It speaks the same endpoints and JSON as BankID (``/rp/v6.0/auth``, ``/collect``,
``/cancel``), over TLS with a test CA it makes at start (:func:`make_test_pki`), and
it requires the relying party's client certificate, as BankID does. What a person
does with the BankID app is done through test endpoints instead:

- ``POST /test/scan`` ``{"qr": "<QR content>", "action": "complete"}`` checks the
  QR's HMAC against the order's ``qrStartSecret`` (and that it is not from the future
  nor too old), as the app does, then acts on the order;
- ``POST /test/autostart`` ``{"autoStartToken": "...", "action": ...}``: the app opened
  by the autostart link on the same device;
- ``POST /test/order`` ``{"qrStartToken" | "autoStartToken": ..., "action": ...}``:
  act without scanning (``expire``, ``cancel``, ``start``, ``sign``, ``complete``);
- ``POST /test/fail-next`` ``{"method": "auth", "status": 503, "errorCode":
  "maintenance"}`` (or ``"drop": true``: close the connection without an answer);
- ``POST /test/slow-next`` ``{"method": "collect", "seconds": 0.5}``: the next call
  of that method answers as usual, but only after that many seconds (a slow BankID).

``action`` is ``complete`` (the person identified), ``cancel`` (pressed Avbryt:
``userCancel``), ``start`` (app opened: ``started``), ``sign`` (entering the security
code: ``userSign``). ``complete`` may carry ``person`` ({personalNumber, givenName,
surname}); otherwise the server's demo person completes.

For the demo, ``auto_complete_after`` completes every order with the demo person that
many seconds after it started (there is no app to scan with).

    python -m demo.bankid_server --dir data/bankid --port 8443
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import ipaddress
import json
import secrets
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

API = "/rp/v6.0/"
QR_FRESH_S = 30
"""How old a scanned QR code may be: BankID's app refuses one it has not just seen."""


@dataclass(frozen=True)
class Person:
    personal_number: str
    given_name: str
    surname: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"

    def as_user(self) -> dict[str, str]:
        return {
            "personalNumber": self.personal_number,
            "name": self.name,
            "givenName": self.given_name,
            "surname": self.surname,
        }


DEMO_PERSON = Person("191212121212", "Tolvan", "Tolvansson")
"""Skatteverket's test personal number, the one the README books with."""


# -- the test PKI ------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    """PEM files: the CA (the relying party pins it), the server's certificate and
    key, and the relying party's client certificate and key."""

    ca: Path
    server_cert: Path
    server_key: Path
    rp_cert: Path
    rp_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


VALIDITY = timedelta(days=2 * 365)


def make_test_pki(directory: Path) -> Pki:
    """A fresh test CA with a server certificate (127.0.0.1, localhost) and an RP
    client certificate, written to ``directory`` (keys readable by the owner only)."""
    directory.mkdir(parents=True, exist_ok=True)
    # Valid for two years either side of now: OpenSSL checks against the real clock,
    # while a test run may have moved Python's clock months away (tests/clock.py).
    now = datetime.now(UTC)
    valid_from, valid_to = now - VALIDITY, now + VALIDITY
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Opus Online test BankID CA"))
        .issuer_name(_name("Opus Online test BankID CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(common_name: str, usage: x509.ObjectIdentifier, server: bool):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid_from)
            .not_valid_after(valid_to)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    ]
                ),
                critical=False,
            )
        return key, builder.sign(ca_key, hashes.SHA256())

    server_key, server_cert = leaf("localhost", ExtendedKeyUsageOID.SERVER_AUTH, True)
    rp_key, rp_cert = leaf("Opus Online test RP", ExtendedKeyUsageOID.CLIENT_AUTH, False)
    pki = Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server-key.pem",
        rp_cert=directory / "rp.pem",
        rp_key=directory / "rp-key.pem",
    )
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    pki.rp_cert.write_bytes(rp_cert.public_bytes(serialization.Encoding.PEM))
    for path, key in ((pki.server_key, server_key), (pki.rp_key, rp_key)):
        path.touch(mode=0o600)
        path.write_bytes(_key_pem(key))
    return pki


# -- orders ------------------------------------------------------------------------------


@dataclass
class _Order:
    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str
    started: float  # time.monotonic()
    status: str = "pending"
    hint_code: str = "outstandingTransaction"
    person: Person | None = None


@dataclass
class _Failure:
    status: int = 0
    error_code: str = ""
    drop: bool = False
    delay_s: float = 0.0  # a slow answer: wait, then answer (with the failure, if any)


@dataclass
class _State:
    person: Person
    auto_complete_after: float | None
    order_lifetime_s: float
    orders: dict[str, _Order] = field(default_factory=dict)
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def find(self, qr_start_token: str | None = None, auto_start_token: str | None = None):
        for order in self.orders.values():
            if qr_start_token and order.qr_start_token == qr_start_token:
                return order
            if auto_start_token and order.auto_start_token == auto_start_token:
                return order
        return None


def _qr_ok(order: _Order, qr: str) -> bool:
    """What the app checks in a scanned code: this order's token, a time that has
    come and is recent, and the HMAC of that time under the order's secret."""
    parts = qr.split(".")
    if len(parts) != 4 or parts[0] != "bankid" or parts[1] != order.qr_start_token:
        return False
    if not parts[2].isdigit():
        return False
    seconds = int(parts[2])
    elapsed = time.monotonic() - order.started
    if seconds > elapsed + 1 or elapsed - seconds > QR_FRESH_S:
        return False
    expected = hmac.new(order.qr_start_secret.encode(), parts[2].encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts[3])


def _act(order: _Order, action: str, person: Person) -> str | None:
    """Apply a person's action to a pending order; the error code if it cannot be."""
    if order.status != "pending":
        return "invalidParameters"
    if action == "complete":
        order.status, order.hint_code, order.person = "complete", "", person
    elif action == "cancel":
        order.status, order.hint_code = "failed", "userCancel"
    elif action == "expire":
        order.status, order.hint_code = "failed", "expiredTransaction"
    elif action == "start":
        order.hint_code = "started"
    elif action == "sign":
        order.hint_code = "userSign"
    else:
        return "invalidParameters"
    return None


class _Handler(BaseHTTPRequestHandler):
    server_version = "BankIDStandIn/1"
    state: _State  # set on the subclass per server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: bodies carry personal numbers, and tests read their own output

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            self._send(400, {"errorCode": "invalidParameters", "details": "not a JSON object"})
            return
        path = self.path.split("?")[0]
        method = path.removeprefix(API) if path.startswith(API) else None
        if method is not None:
            failure = self._failure(method)
            if failure is not None and failure.delay_s:
                time.sleep(failure.delay_s)
            if failure is not None and (failure.drop or failure.status):
                if failure.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._send(failure.status, {"errorCode": failure.error_code, "details": ""})
                return
        routes = {
            API + "auth": self._auth,
            API + "collect": self._collect,
            API + "cancel": self._cancel,
            "/test/scan": self._scan,
            "/test/autostart": self._autostart,
            "/test/order": self._order_action,
            "/test/fail-next": self._fail_next,
            "/test/slow-next": self._slow_next,
        }
        handler = routes.get(path)
        if handler is None:
            self._send(404, {"errorCode": "notFound", "details": "no such endpoint"})
            return
        with self.state.lock:
            status, answer = handler(body)
        self._send(status, answer)

    def _failure(self, method: str) -> _Failure | None:
        with self.state.lock:
            queue = self.state.failures.get(method)
            return queue.pop(0) if queue else None

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # -- the RP API ------------------------------------------------------------------

    def _auth(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        ip = body.get("endUserIp")
        try:
            ipaddress.ip_address(str(ip))
        except ValueError:
            return 400, {"errorCode": "invalidParameters", "details": "Invalid endUserIp"}
        order = _Order(
            order_ref=str(uuid.uuid4()),
            auto_start_token=str(uuid.uuid4()),
            qr_start_token=str(uuid.uuid4()),
            qr_start_secret=str(uuid.uuid4()),
            started=time.monotonic(),
        )
        self.state.orders[order.order_ref] = order
        return 200, {
            "orderRef": order.order_ref,
            "autoStartToken": order.auto_start_token,
            "qrStartToken": order.qr_start_token,
            "qrStartSecret": order.qr_start_secret,
        }

    def _collect(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = self.state.orders.get(str(body.get("orderRef")))
        if order is None:
            return 400, {"errorCode": "invalidParameters", "details": "No such order"}
        elapsed = time.monotonic() - order.started
        if order.status == "pending":
            auto = self.state.auto_complete_after
            if auto is not None and elapsed >= auto:
                _act(order, "complete", self.state.person)
            elif auto is not None and elapsed >= auto / 2:
                order.hint_code = "userSign"
            elif elapsed >= self.state.order_lifetime_s:
                _act(order, "expire", self.state.person)
        answer: dict[str, Any] = {"orderRef": order.order_ref, "status": order.status}
        if order.status == "complete" and order.person is not None:
            answer["completionData"] = {
                "user": order.person.as_user(),
                "device": {"ipAddress": "127.0.0.1", "uhi": secrets.token_hex(8)},
                "bankIdIssueDate": "2024-01-01",
                "signature": "c3RhbmQtaW4=",
                "ocspResponse": "c3RhbmQtaW4=",
            }
        else:
            answer["hintCode"] = order.hint_code
        return 200, answer

    def _cancel(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = self.state.orders.pop(str(body.get("orderRef")), None)
        if order is None:
            return 400, {"errorCode": "invalidParameters", "details": "No such order"}
        return 200, {}

    # -- the person's side (tests and demo) ------------------------------------------

    def _person(self, body: dict[str, Any]) -> Person:
        given = body.get("person")
        if not isinstance(given, dict):
            return self.state.person
        return Person(
            str(given.get("personalNumber")),
            str(given.get("givenName", "")),
            str(given.get("surname", "")),
        )

    def _scan(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        qr = str(body.get("qr", ""))
        parts = qr.split(".")
        order = self.state.find(qr_start_token=parts[1] if len(parts) == 4 else None)
        if order is None or not _qr_ok(order, qr):
            return 400, {"errorCode": "invalidQr", "details": "the QR code does not check"}
        return self._apply(order, body)

    def _autostart(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = self.state.find(auto_start_token=str(body.get("autoStartToken", "")))
        if order is None:
            return 400, {"errorCode": "invalidParameters", "details": "unknown autostart token"}
        return self._apply(order, body)

    def _order_action(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = self.state.find(
            qr_start_token=body.get("qrStartToken"), auto_start_token=body.get("autoStartToken")
        )
        if order is None:
            return 400, {"errorCode": "invalidParameters", "details": "unknown order"}
        return self._apply(order, body)

    def _apply(self, order: _Order, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        error = _act(order, str(body.get("action", "complete")), self._person(body))
        if error:
            return 400, {"errorCode": error, "details": "the order is not pending"}
        return 200, {"status": order.status, "hintCode": order.hint_code}

    def _fail_next(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        failure = _Failure(
            status=int(body.get("status", 503)),
            error_code=str(body.get("errorCode", "maintenance")),
            drop=bool(body.get("drop", False)),
        )
        self.state.failures.setdefault(str(body.get("method", "auth")), []).append(failure)
        return 200, {}

    def _slow_next(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        slow = _Failure(delay_s=min(float(body.get("seconds", 1.0)), 30.0))
        self.state.failures.setdefault(str(body.get("method", "collect")), []).append(slow)
        return 200, {}


class BankIDStandIn:
    """The stand-in server on ``host`` (loopback), in a thread of this process."""

    def __init__(
        self,
        directory: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        person: Person = DEMO_PERSON,
        auto_complete_after: float | None = None,
        order_lifetime_s: float = 180.0,
    ) -> None:
        self.pki = make_test_pki(directory)
        state = _State(person, auto_complete_after, order_lifetime_s)
        handler = type("Handler", (_Handler,), {"state": state})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.pki.server_cert), str(self.pki.server_key))
        # Mutual TLS, as BankID: no client certificate from our CA, no answer.
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(self.pki.ca))
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"

    def start(self) -> BankIDStandIn:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def serve_forever(self) -> None:
        self._server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("data/bankid"))
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument(
        "--auto-complete-after",
        type=float,
        default=None,
        help="complete every order with the demo person after this many seconds",
    )
    args = parser.parse_args(argv)
    server = BankIDStandIn(args.dir, port=args.port, auto_complete_after=args.auto_complete_after)
    print(f"BankID stand-in at {server.url} (CA {server.pki.ca})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
