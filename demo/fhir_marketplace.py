"""A stand-in for the Boka vård marketplace: a small FHIR R4 server on loopback, for
the demo and the tests.

    /fhir/...            the marketplace's FHIR API; header ``Authorization: Bearer``
      POST /fhir              a transaction Bundle: PUT/DELETE ``Type?identifier=s|v``
                              (conditional), PUT/DELETE ``Type/id``, POST ``Type``; all
                              or nothing; references ``Type?identifier=…`` are resolved
      GET  /fhir/Type?…       search: identifier, status, date=geX, _include=Appointment:slot
      GET|PUT /fhir/Type/id   read, update (the clinic answers an Appointment)
    POST /_patient/book   a test "patient" books a Slot: {"account", "slot" (its
                          identifier value or id), "patient": {"personal_number",
                          "given", "family", "email", "phone"}} → 201 Appointment, or
                          409 when the Slot is not free
    GET  /                what it holds, as a page (no patient data)

Every resource is validated with ``fhir.resources`` (R4B) before it is stored. An
account must be activated before it may write (403 until then); its Organization
(``active``) says so. Tests can make it answer 5xx or 429 (with ``Retry-After``), or
hang past the client's timeout (:meth:`FhirMarketplace.fail_next`). Run it alone with
``python -m demo.fhir_marketplace --port 8027 --account NAME --token TOKEN --active``.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hmac
import html
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from connectors.marketplace.resources import ACCOUNT_SYSTEM, PERSONNUMMER
from demo.loopback import close, hold_stop_signals, serve_in_thread, wait_for_stop_signal

MAX_BODY = 64 * 1024 * 1024
SLOT_STATUSES = {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}


class _Fail(Exception):
    def __init__(self, status: int, message: str, code: str = "processing") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass
class Fault:
    status: int  # 0: no status of its own (a hang, then the real answer)
    retry_after: str | None = None
    hang_s: float = 0.0
    body: str | None = None  # answered as it is (not FHIR, not even JSON)


@dataclass
class Account:
    name: str
    token: str
    active: bool = False
    # (type, id) → resource, and (type, system, value) → id for conditional requests
    resources: dict[tuple[str, str], dict] = field(default_factory=dict)
    index: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def put(self, resource: dict) -> None:
        key = (resource["resourceType"], resource["id"])
        self.remove(key)
        self.resources[key] = resource
        for i in resource.get("identifier") or []:
            self.index[(key[0], i.get("system", ""), i.get("value", ""))] = key[1]

    def remove(self, key: tuple[str, str]) -> None:
        old = self.resources.pop(key, None)
        for i in (old or {}).get("identifier") or []:
            self.index.pop((key[0], i.get("system", ""), i.get("value", "")), None)


@dataclass
class FhirMarketplace:
    """The stand-in. ``start()`` serves it on a thread; ``port=0`` picks one."""

    host: str = "127.0.0.1"
    port: int = 0
    state_file: Path | None = None
    accounts: dict[str, Account] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)  # "POST /fhir" → how many

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._faults: list[Fault | None] = []
        self._server: ThreadingHTTPServer | None = None

    # -- control (tests, the demo) --------------------------------------------------------

    def add_account(self, name: str, token: str, active: bool = False) -> None:
        with self._lock:
            self.accounts[name] = Account(name, token, active)
            self._organisation(self.accounts[name])

    def activate(self, name: str, active: bool = True) -> None:
        with self._lock:
            self.accounts[name].active = active
            self._organisation(self.accounts[name])

    def fail_next(
        self,
        times: int,
        status: int = 503,
        retry_after: str | None = None,
        hang_s: float = 0.0,
        body: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer ``times`` FHIR calls, after ``after`` good ones, with ``status``
        (with ``Retry-After`` for a 429, or ``body`` as it is), or, with ``hang_s`` and
        status 0, wait that long first and then answer as usual (the work is done; a
        client with a shorter timeout has given up)."""
        with self._lock:
            self._faults.extend([None] * after)
            self._faults.extend([Fault(status, retry_after, hang_s, body)] * times)

    def resources(self, account: str, resource_type: str) -> list[dict]:
        with self._lock:
            return [
                copy.deepcopy(r)
                for (kind, _), r in self.accounts[account].resources.items()
                if kind == resource_type
            ]

    def by_identifier(self, account: str, resource_type: str, value: str) -> dict | None:
        for resource in self.resources(account, resource_type):
            if any(i.get("value") == value for i in resource.get("identifier") or []):
                return resource
        return None

    def add_others_slot(self, account: str, like: dict, identifier: dict) -> dict:
        """A free Slot that another publisher (the clinic's other booking system, say)
        put on ``account``: a copy of ``like`` with its own id and ``identifier``."""
        with self._lock:
            slot = copy.deepcopy(like) | {"id": uuid.uuid4().hex[:16], "status": "free"}
            slot["identifier"] = [identifier]
            self.accounts[account].put(slot)
            return copy.deepcopy(slot)

    def book(self, account: str, slot: str, patient: dict) -> dict:
        """A patient books ``slot`` (its identifier value or id): an Appointment, and
        the Slot turns busy. Raises ValueError when the Slot is not there or not free."""
        with self._lock:
            store = self.accounts[account].resources
            found = store.get(("Slot", slot)) or next(
                (
                    r
                    for (kind, _), r in store.items()
                    if kind == "Slot"
                    and any(i.get("value") == slot for i in r.get("identifier") or [])
                ),
                None,
            )
            if found is None:
                raise ValueError("no such slot")
            if found.get("status") != "free":
                raise ValueError("the slot is already booked")
            found["status"] = "busy"
            person = {
                "resourceType": "Patient",
                "id": "patient",
                "identifier": [{"system": PERSONNUMMER, "value": patient["personal_number"]}],
                "name": [{"family": patient.get("family"), "given": [patient.get("given")]}],
                "telecom": [
                    {"system": kind, "value": patient[key]}
                    for kind, key in (("email", "email"), ("phone", "phone"))
                    if patient.get(key)
                ],
            }
            appointment = {
                "resourceType": "Appointment",
                "id": uuid.uuid4().hex[:16],
                "status": "booked",
                "start": found["start"],
                "end": found["end"],
                "slot": [{"reference": f"Slot/{found['id']}"}],
                "contained": [person],
                "participant": [{"actor": {"reference": "#patient"}, "status": "accepted"}],
                "created": datetime.now(UTC).date().isoformat(),
            }
            _validate(appointment)
            self.accounts[account].put(appointment)
            return copy.deepcopy(appointment)

    # -- serving ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def fhir_url(self) -> str:
        return f"{self.url}/fhir"

    def start(self) -> FhirMarketplace:
        if self.state_file is not None and self.state_file.exists():
            self._load()
        self._server = serve_in_thread(self.host, self.port, _handler(self))
        self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            close(self._server)
            self._server = None
        if self.state_file is not None:
            self._save()

    def __enter__(self) -> FhirMarketplace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _save(self) -> None:
        with self._lock:
            data = {
                name: {
                    "token": a.token,
                    "active": a.active,
                    "resources": list(a.resources.values()),
                }
                for name, a in self.accounts.items()
            }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(data))

    def _load(self) -> None:
        data = json.loads(self.state_file.read_text())
        for name, saved in data.items():
            account = self.accounts.get(name) or Account(name, saved["token"], saved["active"])
            for resource in saved["resources"]:
                account.put(resource)
            self._organisation(account)  # the account's state as given now, not as saved
            self.accounts[name] = account

    # -- the FHIR API -------------------------------------------------------------------

    def _organisation(self, account: Account) -> None:
        account.put(
            {
                "resourceType": "Organization",
                "id": "account",
                "identifier": [{"system": ACCOUNT_SYSTEM, "value": account.name}],
                "active": account.active,
                "name": account.name,
            }
        )

    def _account(self, header: str | None) -> Account:
        token = (header or "").removeprefix("Bearer ").strip()
        for account in self.accounts.values():
            if token and hmac.compare_digest(account.token, token):
                return account
        raise _Fail(401, "unknown or missing bearer token", "login")

    def handle(self, method: str, path: str, query: str, auth: str | None, body: bytes):
        """(status, headers, JSON answer) for one FHIR call."""
        with self._lock:
            self.requests[f"{method} {path}"] += 1
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            if fault.hang_s:
                time.sleep(fault.hang_s)
            if fault.body is not None:
                return fault.status, {}, fault.body
            if fault.status:
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return fault.status, headers, _outcome("transient", "please try again later")
        try:
            with self._lock:
                account = self._account(auth)
                parts = [p for p in path.removeprefix("/fhir").split("/") if p]
                if method != "GET" and not account.active:
                    raise _Fail(403, "the account is not activated yet", "forbidden")
                if method == "POST" and not parts:
                    return 200, {}, self._transaction(account, _json(body))
                if method == "GET" and len(parts) == 1:
                    return 200, {}, self._search(account, parts[0], parse_qs(query))
                if method == "GET" and len(parts) == 2:
                    found = account.resources.get((parts[0], parts[1]))
                    if found is None:
                        raise _Fail(404, "not found", "not-found")
                    return 200, {}, found
                if method == "PUT" and len(parts) == 2:
                    resource = _json(body)
                    if resource.get("resourceType") != parts[0] or resource.get("id") != parts[1]:
                        raise _Fail(400, "type and id must match the URL", "invalid")
                    _validate(resource)
                    status = 200 if (parts[0], parts[1]) in account.resources else 201
                    account.put(resource)
                    return status, {}, resource
                raise _Fail(400, f"{method} {path} is not supported here", "not-supported")
        except _Fail as fail:
            return fail.status, {}, _outcome(fail.code, fail.message)

    def _transaction(self, account: Account, bundle: dict) -> dict:
        if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
            raise _Fail(400, "expected a transaction Bundle", "invalid")
        _validate(bundle)
        # Work on a scratch account that sees through to the real one; only a
        # transaction whose every entry succeeded is applied (all or nothing).
        view = _View(account)
        answers = []
        for entry in bundle.get("entry") or []:
            request = entry.get("request") or {}
            method, url = request.get("method"), str(request.get("url", ""))
            kind, _, rest = url.partition("?")
            kind, _, given_id = kind.partition("/")
            if rest:
                matches = view.find(kind, parse_qs(rest))
                if len(matches) > 1:
                    raise _Fail(412, f"{unquote(url)}: more than one match", "multiple-matches")
            else:
                matches = [given_id] if view.get((kind, given_id)) is not None else []
            if method == "DELETE":
                for resource_id in matches:
                    view.delete((kind, resource_id))
                answers.append({"response": {"status": "204 No Content"}})
                continue
            if method not in ("PUT", "POST"):
                raise _Fail(400, f"{method} is not supported in a transaction", "not-supported")
            resource = copy.deepcopy(entry.get("resource") or {})
            if resource.get("resourceType") != kind:
                raise _Fail(400, f"{url}: the resource is not a {kind}", "invalid")
            _resolve(resource, view)
            resource_id = (
                matches[0] if matches and method == "PUT" else given_id or uuid.uuid4().hex[:16]
            )
            resource["id"] = resource_id
            old = view.get((kind, resource_id))
            if kind == "Slot":
                if resource.get("status") not in SLOT_STATUSES:
                    raise _Fail(400, "Slot.status is not a Slot status", "code-invalid")
                if old is not None and old.get("status") == "busy":
                    resource["status"] = "busy"  # booked here: the booking state is ours
            _validate(resource)
            view.put(resource)
            answers.append(
                {
                    "response": {
                        "status": "200 OK" if old is not None else "201 Created",
                        "location": f"{kind}/{resource_id}",
                    }
                }
            )
        view.apply()
        return {"resourceType": "Bundle", "type": "transaction-response", "entry": answers}

    def _search(self, account: Account, kind: str, params: dict[str, list[str]]) -> dict:
        found = [account.resources[(kind, i)] for i in _View(account).find(kind, params)]
        entries = [{"resource": r, "search": {"mode": "match"}} for r in found]
        if kind == "Appointment" and "Appointment:slot" in params.get("_include", []):
            for appointment in found:
                for reference in appointment.get("slot") or []:
                    slot_type, _, slot_id = str(reference.get("reference", "")).partition("/")
                    slot = account.resources.get((slot_type, slot_id))
                    if slot is not None:
                        entries.append({"resource": slot, "search": {"mode": "include"}})
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "entry": entries,
        }

    def page(self) -> str:
        with self._lock:
            rows = []
            for account in self.accounts.values():
                counts = Counter(kind for kind, _ in account.resources)
                slots = [r for (k, _), r in account.resources.items() if k == "Slot"]
                free = sum(1 for s in slots if s.get("status") == "free")
                rows.append(
                    "<tr>"
                    + "".join(
                        f"<td>{html.escape(str(v))}</td>"
                        for v in (
                            account.name,
                            "aktivt" if account.active else "väntar på aktivering",
                            counts["Location"],
                            counts["Schedule"],
                            f"{free} lediga / {len(slots)}",
                            counts["Appointment"],
                        )
                    )
                    + "</tr>"
                )
        return (
            '<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8">'
            "<title>Boka vård (stand-in)</title><style>body{font-family:sans-serif}"
            "td,th{border-top:1px solid #ccc;padding:.3em}</style></head><body>"
            "<h1>Boka vård (stand-in)</h1><table><tr><th>Konto</th><th>Status</th>"
            "<th>Kliniker</th><th>Scheman</th><th>Tider</th><th>Bokningar</th></tr>"
            f"{''.join(rows)}</table></body></html>"
        )


class _View:
    """An account as a transaction sees it: its own writes over the stored state."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.staged: dict[tuple[str, str], dict | None] = {}

    def get(self, key: tuple[str, str]) -> dict | None:
        if key in self.staged:
            return self.staged[key]
        return self.account.resources.get(key)

    def put(self, resource: dict) -> None:
        self.staged[(resource["resourceType"], resource["id"])] = resource

    def delete(self, key: tuple[str, str]) -> None:
        self.staged[key] = None

    def apply(self) -> None:
        for key, resource in self.staged.items():
            if resource is None:
                self.account.remove(key)
            else:
                self.account.put(resource)

    def find(self, kind: str, params: dict[str, list[str]]) -> list[str]:
        """Ids of ``kind`` that match the search parameters we understand. A search by
        identifier alone (every conditional request) is a look-up, not a scan."""
        if set(params) == {"identifier"} and "|" in params["identifier"][-1]:
            system, _, value = params["identifier"][-1].rpartition("|")
            ids = {
                k[1]
                for k, r in self.staged.items()
                if k[0] == kind
                and r is not None
                and _matches(r, "identifier", [f"{system}|{value}"])
            }
            stored = self.account.index.get((kind, system, value))
            if stored is not None and self.get((kind, stored)) is not None:
                ids.add(stored)
            return sorted(ids)
        ids = []
        for key in {*self.account.resources, *self.staged}:
            resource = self.get(key)
            if key[0] != kind or resource is None:
                continue
            if all(_matches(resource, name, values) for name, values in params.items()):
                ids.append(key[1])
        return ids


def _matches(resource: dict, name: str, values: list[str]) -> bool:
    if name.startswith("_"):
        return True
    value = values[-1]
    if name == "identifier":
        system, bar, code = value.rpartition("|")
        return any(
            i.get("value") == code and (not bar or i.get("system") == system)
            for i in resource.get("identifier") or []
        )
    if name == "status":
        return resource.get("status") in value.split(",")
    if name == "date" and value.startswith("ge"):
        start = resource.get("start")
        return start is not None and _instant(start) >= _instant(value[2:])
    raise _Fail(400, f"search parameter {name} is not supported", "not-supported")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _resolve(resource: object, view: _View) -> None:
    """Replace conditional references (``Type?identifier=…``) by ``Type/id``."""
    if isinstance(resource, list):
        for item in resource:
            _resolve(item, view)
    elif isinstance(resource, dict):
        reference = resource.get("reference")
        if isinstance(reference, str) and "?" in reference:
            kind, _, query = reference.partition("?")
            matches = view.find(kind, parse_qs(query))
            if len(matches) != 1:
                raise _Fail(
                    412, f"conditional reference {unquote(reference)} matches {len(matches)}"
                )
            resource["reference"] = f"{kind}/{matches[0]}"
        for value in resource.values():
            _resolve(value, view)


def _validate(resource: dict) -> None:
    try:
        get_fhir_model_class(resource.get("resourceType", "")).model_validate(resource)
    except (ValidationError, KeyError, ValueError) as exc:
        raise _Fail(
            400, f"invalid {resource.get('resourceType')}: {exc}"[:500], "invalid"
        ) from None


def _json(body: bytes) -> dict:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        raise _Fail(400, "the body is not JSON", "invalid") from None
    if not isinstance(value, dict):
        raise _Fail(400, "the body is not a JSON object", "invalid")
    return value


def _outcome(code: str, message: str) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }


def _handler(server: FhirMarketplace) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:  # quiet; tokens stay out of logs
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise _Fail(413, "too large")
            return self.rfile.read(length) if length else b""

        def _answer(self, status: int, body: str, kind: str, headers: dict | None = None):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            try:
                body = self._body()
            except _Fail as fail:
                self._answer(
                    fail.status, json.dumps(_outcome("too-long", fail.message)), "application/json"
                )
                return
            if parts.path.startswith("/fhir"):
                status, headers, answer = server.handle(
                    method, parts.path, parts.query, self.headers.get("Authorization"), body
                )
                text = answer if isinstance(answer, str) else json.dumps(answer)
                self._answer(status, text, "application/fhir+json", headers)
            elif method == "POST" and parts.path == "/_patient/book":
                try:
                    wanted = _json(body)
                    appointment = server.book(wanted["account"], wanted["slot"], wanted["patient"])
                    self._answer(201, json.dumps(appointment), "application/fhir+json")
                except (ValueError, KeyError, _Fail) as exc:
                    self._answer(409, json.dumps({"error": str(exc)}), "application/json")
            elif method == "GET" and parts.path == "/":
                self._answer(200, server.page(), "text/html; charset=utf-8")
            else:
                self._answer(404, "{}", "application/json")

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8027)
    parser.add_argument("--account", action="append", default=[], help="an account's name")
    parser.add_argument("--token", action="append", default=[], help="its bearer token")
    parser.add_argument("--active", action="store_true", help="accounts start activated")
    parser.add_argument("--state", type=Path, help="keep what it holds in this JSON file")
    args = parser.parse_args()
    hold_stop_signals()
    server = FhirMarketplace(host=args.host, port=args.port, state_file=args.state)
    for name, token in zip(args.account, args.token, strict=True):
        server.add_account(name, token, active=args.active)
    server.start()
    print(f"Boka vård stand-in at {server.url}/ (FHIR base {server.fhir_url})", flush=True)
    wait_for_stop_signal()
    server.stop()


if __name__ == "__main__":
    main()
