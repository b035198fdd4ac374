"""The marketplace's FHIR API over HTTPS, with a bearer token.

Every call has a timeout. A 5xx, a 429 or a timeout is retried a bounded number of
times with doubling waits; a 429's ``Retry-After`` is honoured (and a wait longer
than we are willing to give ends the call instead). Retrying a transaction is safe:
its entries are conditional updates and deletes by our identifiers. Anything else
that is not what FHIR promises raises :class:`MarketplaceError` with a message fit
for operators: no token, and no personal number (masked wherever text is echoed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from connectors.marketplace.resources import ACCOUNT_SYSTEM, validated
from connectors.privacy import scrub
from connectors.secret_refs import UnresolvedSecret, resolve_secret

FHIR_JSON = "application/fhir+json"
RETRIED_STATUSES = {429, 500, 502, 503, 504}
MAX_PAGES = 100


class MarketplaceError(Exception):
    """A call that did not succeed; ``kind`` says which way."""

    kind = "error"


class Unavailable(MarketplaceError):
    """5xx, 429 or no answer, still after the retries: try again next run."""

    kind = "unavailable"


class Refused(MarketplaceError):
    """A 4xx: the marketplace will not take this (or this token) as it is."""

    kind = "refused"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Malformed(MarketplaceError):
    """An answer that is not the FHIR we asked for."""

    kind = "malformed"


def resolve_token(ref: str) -> str:
    """The bearer token a reference points at (see :mod:`connectors.secret_refs`)."""
    try:
        return resolve_secret(ref, "marketplace token")
    except UnresolvedSecret as exc:
        raise MarketplaceError(str(exc)) from exc


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    delay_s: float = 1.0
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int) -> float:
        return min(self.delay_s * 2**attempt, self.max_delay_s)


class MarketplaceClient:
    """One account's view of the marketplace. ``sleep`` waits between retries (tests
    pass one that records the waits)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 15.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.calls = 0
        self.retries = 0
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": FHIR_JSON,
                "Content-Type": FHIR_JSON,
            },
            timeout=timeout_s,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MarketplaceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the calls -----------------------------------------------------------------------

    def account_state(self, account: str) -> str:
        """'active', or 'waiting' until the marketplace has activated ``account``, or
        'refused' when it does not accept our token."""
        try:
            found = self.search("Organization", {"identifier": f"{ACCOUNT_SYSTEM}|{account}"})
        except Refused as exc:
            if exc.status in (401, 403):
                return "refused"
            raise
        organisations = [r for r in found if r.get("resourceType") == "Organization"]
        if organisations and all(o.get("active") is True for o in organisations):
            return "active"
        return "waiting"

    def transaction(self, entries: list[dict]) -> list[dict]:
        """Send ``entries`` as one transaction Bundle (all or nothing at the server);
        returns the response entries, one per entry sent, each a success."""
        bundle = validated({"resourceType": "Bundle", "type": "transaction", "entry": entries})
        answer = self._json(self._send("POST", "", json=bundle))
        try:
            parsed = Bundle.model_validate(answer)
        except ValidationError as exc:
            raise Malformed(f"transaction answer is not a FHIR Bundle: {_first(exc)}") from None
        if parsed.type != "transaction-response":
            raise Malformed(f"transaction answered with a {parsed.type!r} Bundle")
        results = answer.get("entry") or []
        if len(results) != len(entries):
            raise Malformed(f"transaction of {len(entries)} answered {len(results)} entries")
        for sent, result in zip(entries, results, strict=True):
            status = str((result.get("response") or {}).get("status", ""))
            # deleting what is already gone is a success: the goal is reached
            gone = sent["request"]["method"] == "DELETE" and status.startswith("404")
            if not (status[:1] == "2" or gone):
                raise Malformed(f"transaction entry answered {status or 'no status'!r}")
        return results

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict]:
        """Every resource of a search (matches and includes), following ``next``."""
        found: list[dict] = []
        response = self._send("GET", resource_type, params=params)
        for _ in range(MAX_PAGES):
            bundle = self._json(response)
            if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "searchset":
                raise Malformed(f"search of {resource_type} did not answer a searchset Bundle")
            found += [e["resource"] for e in bundle.get("entry") or [] if "resource" in e]
            following = [
                link for link in bundle.get("link") or [] if link.get("relation") == "next"
            ]
            if not following:
                return found
            response = self._send("GET", following[0]["url"])
        raise Malformed(f"search of {resource_type} has more than {MAX_PAGES} pages")

    def update(self, resource: dict) -> dict:
        """PUT a resource the marketplace owns (an Appointment we answer)."""
        resource = validated(resource)
        path = f"{resource['resourceType']}/{quote(resource['id'], safe='')}"
        return self._json(self._send("PUT", path, json=resource))

    # -- the wire ------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempt = 0
        while True:
            self.calls += 1
            wait: float | None
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TimeoutException:
                problem, wait = "no answer within the timeout", self.policy.backoff(attempt)
            except httpx.TransportError as exc:
                problem, wait = (
                    f"cannot connect ({type(exc).__name__})",
                    self.policy.backoff(attempt),
                )
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRIED_STATUSES:
                    raise Refused(
                        f"{method} {_path(path)} answered {response.status_code}: "
                        f"{_outcome(response)}",
                        response.status_code,
                    )
                problem = f"answered {response.status_code}"
                wait = self.policy.backoff(attempt)
                if response.status_code == 429:
                    asked = _retry_after(response.headers.get("Retry-After"))
                    if asked is not None and asked > self.policy.max_retry_after_s:
                        raise Unavailable(
                            f"{method} {_path(path)}: the marketplace asks us to wait "
                            f"{asked:.0f} s (more than {self.policy.max_retry_after_s:.0f} s)"
                        )
                    wait = max(wait, asked or 0.0)
            if attempt >= self.policy.retries:
                raise Unavailable(
                    f"{method} {_path(path)}: {problem}, still after {attempt} retries"
                )
            attempt += 1
            self.retries += 1
            self.sleep(wait)

    def _json(self, response: httpx.Response) -> dict:
        try:
            answer = response.json()
        except ValueError:
            raise Malformed(
                f"{response.request.method} {_path(response.request.url.path)} answered "
                f"{response.status_code} without JSON"
            ) from None
        if not isinstance(answer, dict):
            raise Malformed("the answer is not a JSON object")
        return answer


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _outcome(response: httpx.Response) -> str:
    """The OperationOutcome's diagnostics, short and masked."""
    try:
        body = response.json()
        issues = body.get("issue") or []
        text = "; ".join(
            str(i.get("diagnostics") or i.get("code") or "") for i in issues if isinstance(i, dict)
        )
    except (ValueError, AttributeError):
        text = response.text
    return scrub(text.strip()[:300]) or "(no details)"


def _path(path: str) -> str:
    """A request path without its query (searches stay out of messages)."""
    return "/" + path.split("?", 1)[0].lstrip("/")


def _first(exc: ValidationError) -> str:
    errors = exc.errors()
    return scrub(str(errors[0].get("msg", ""))) if errors else "invalid"
