"""``opus-online check``: the production settings (:mod:`opus_online.production`) and
whether every outside service answers, as one table.

Each service is tried once with a short timeout, all at once (threads), and only
asked who it is: SMTP gets EHLO (and STARTTLS and the login, when set), never a
message; the SMS gateway, the marketplace and BankID get a request that sends nothing
to anyone. Rows name servers, never credentials, and their details pass
:func:`connectors.privacy.scrub`. The exit status is 1 when a row failed.
"""

from __future__ import annotations

import smtplib
import ssl
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TextIO

import httpx

from connectors.privacy import scrub
from opus_online.config import Settings
from opus_online.production import demo_credentials_in_store, setting_problems

OK, FAIL, WARN, SKIP = "OK", "FAIL", "WARN", "SKIP"


@dataclass(frozen=True)
class Row:
    check: str
    target: str
    result: str
    detail: str = ""


def _detail(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return scrub(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:120]


# -- the services -------------------------------------------------------------------------


def check_store(settings: Settings, timeout_s: float) -> list[Row]:
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    from connectors.store.models import Tenant

    url = settings.resolved_store_url
    target = make_url(url).render_as_string(hide_password=True)
    sqlite = url.startswith("sqlite")
    args = {"timeout": timeout_s} if sqlite else {"connect_timeout": max(1, int(timeout_s))}
    engine = create_engine(url, poolclass=NullPool, connect_args=args)
    try:
        with engine.connect() as connection:
            tenants = connection.scalar(select(func.count()).select_from(Tenant))
    except Exception as exc:
        return [Row("store", target, FAIL, _detail(exc))]
    finally:
        engine.dispose()
    rows = [Row("store", target, OK, f"{tenants} tenant(s)")]
    try:
        for problem in demo_credentials_in_store(url, timeout_s):
            rows.append(Row("store", "demo credentials", _severity(settings), problem.text))
    except Exception as exc:
        rows.append(Row("store", "demo credentials", FAIL, _detail(exc)))
    return rows


def opus_databases(settings: Settings) -> list[tuple[str, str, str]]:
    """(tenant subdomain, database name, connection reference) of every enabled Opus
    database; none when the store cannot be read (its own row says why)."""
    from sqlalchemy import select

    from connectors.store.db import engine_for, session_scope
    from connectors.store.models import OpusDatabase, Tenant

    try:
        with session_scope(engine_for(settings.resolved_store_url)) as session:
            return list(
                session.execute(
                    select(Tenant.subdomain, OpusDatabase.name, OpusDatabase.connection_ref)
                    .join(OpusDatabase, OpusDatabase.tenant_id == Tenant.id)
                    .where(OpusDatabase.enabled)
                    .order_by(Tenant.subdomain, OpusDatabase.name)
                ).tuples()
            )
    except Exception:
        return []


def check_opus(subdomain: str, name: str, ref: str, timeout_s: float) -> Row:
    from connectors.opus.connection import OpusSource, connect

    target = f"{subdomain} / {name}"
    try:
        connection = connect(OpusSource(name, ref), timeout_s=max(1, int(timeout_s)))
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
        finally:
            connection.close()
    except Exception as exc:
        return Row("opus", target, FAIL, scrub(str(exc))[:120])
    return Row("opus", target, OK, connection.dialect)


def check_smtp(settings: Settings, timeout_s: float) -> Row:
    target = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        if settings.smtp_security == "tls":
            context = ssl.create_default_context()
            smtp = smtplib.SMTP_SSL(
                settings.smtp_host, settings.smtp_port, timeout=timeout_s, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout_s)
        with smtp:
            code, _ = smtp.ehlo()
            if code != 250:
                return Row("smtp", target, FAIL, f"EHLO answered {code}")
            if settings.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
                return Row("smtp", target, OK, "login accepted")
    except smtplib.SMTPAuthenticationError as exc:
        return Row("smtp", target, FAIL, f"login refused ({exc.smtp_code})")
    except (smtplib.SMTPException, OSError) as exc:
        return Row("smtp", target, FAIL, _detail(exc))
    return Row("smtp", target, OK, "answers (no login set)")


def _http_row(check: str, target: str, call: Callable[[], httpx.Response]) -> Row:
    try:
        response = call()
    except httpx.HTTPError as exc:
        return Row(check, target, FAIL, _detail(exc))
    except (OSError, ssl.SSLError, ValueError) as exc:  # certificate files, TLS set-up
        return Row(check, target, FAIL, _detail(exc))
    status = response.status_code
    if status in (401, 403):
        return Row(check, target, FAIL, f"HTTP {status}: credentials refused")
    if status >= 500:
        return Row(check, target, FAIL, f"HTTP {status}")
    return Row(check, target, OK, f"HTTP {status}")


def _origin(url: str) -> str:
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.host}" + (f":{parts.port}" if parts.port else "")


def check_sms(settings: Settings, timeout_s: float) -> Row:
    """A GET of the gateway's URL with the credentials: lists, never sends."""
    auth = (settings.sms_gateway_username, settings.sms_gateway_password.get_secret_value())
    url = settings.sms_gateway_url
    return _http_row("sms", _origin(url), lambda: httpx.get(url, auth=auth, timeout=timeout_s))


def check_marketplace(settings: Settings, timeout_s: float) -> Row:
    from connectors.secret_refs import UnresolvedSecret, resolve_secret

    url = settings.marketplace_url.rstrip("/") + "/metadata"
    headers = {"Accept": "application/fhir+json"}
    try:
        headers["Authorization"] = "Bearer " + resolve_secret(
            settings.marketplace_token_ref, "marketplace token"
        )
    except UnresolvedSecret as exc:
        return Row("marketplace", _origin(url), FAIL, scrub(str(exc))[:120])
    return _http_row(
        "marketplace", _origin(url), lambda: httpx.get(url, headers=headers, timeout=timeout_s)
    )


def check_bankid(settings: Settings, timeout_s: float) -> Row:
    """Mutual TLS with the RP certificate, then a collect of an order that does not exist:
    BankID answers 400 without anyone being asked anything."""
    from connectors.bankid import API_PATH, tls_context

    if not settings.bankid_url:
        return Row("bankid", "-", _severity(settings), "OPUS_BANKID_URL not set: no e-ID login")
    files = (settings.bankid_ca_file, settings.bankid_cert_file, settings.bankid_key_file)
    if None in files:
        return Row("bankid", _origin(settings.bankid_url), FAIL, "certificate files not set")
    url = settings.bankid_url.rstrip("/") + API_PATH + "/collect"

    def call() -> httpx.Response:
        context = tls_context(*files)
        order = {"orderRef": "00000000-0000-0000-0000-000000000000"}
        return httpx.post(url, json=order, verify=context, timeout=timeout_s)

    return _http_row("bankid", _origin(settings.bankid_url), call)


# -- the table ----------------------------------------------------------------------------


def _severity(settings: Settings) -> str:
    """A setting that production refuses: a failure there, a warning in development."""
    return FAIL if settings.env == "production" else WARN


def check_all(settings: Settings, timeout_s: float = 5.0) -> list[Row]:
    """Every row: the settings first, then the services, checked in parallel."""
    rows = [
        Row("setting", problem.setting, _severity(settings), problem.text)
        for problem in setting_problems(settings)
    ]
    if not rows:
        rows.append(Row("setting", "production settings", OK, "all present and safe"))
    jobs: list[Callable[[], list[Row] | Row]] = [
        lambda: check_store(settings, timeout_s),
        lambda: check_smtp(settings, timeout_s),
        lambda: check_sms(settings, timeout_s),
        lambda: check_bankid(settings, timeout_s),
        lambda: check_marketplace(settings, timeout_s),
    ]
    for subdomain, name, ref in opus_databases(settings):
        jobs.append(lambda s=subdomain, n=name, r=ref: check_opus(s, n, r, timeout_s))
    with ThreadPoolExecutor(max_workers=min(16, len(jobs))) as pool:
        for answer in pool.map(lambda job: job(), jobs):
            rows.extend(answer if isinstance(answer, list) else [answer])
    return rows


def format_table(rows: list[Row]) -> str:
    headers = Row("CHECK", "TARGET", "RESULT", "DETAIL")
    widths = [
        max(len(getattr(r, f)) for r in [headers, *rows]) for f in ("check", "target", "result")
    ]
    lines = []
    for row in [headers, *rows]:
        cells = [
            row.check.ljust(widths[0]),
            row.target.ljust(widths[1]),
            row.result.ljust(widths[2]),
        ]
        lines.append("  ".join([*cells, row.detail]).rstrip())
    return "\n".join(lines)


def run_check(settings: Settings, *, timeout_s: float = 5.0, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    rows = check_all(settings, timeout_s)
    print(format_table(rows), file=out)
    failed = sum(row.result == FAIL for row in rows)
    print(
        f"\n{len(rows) - failed} of {len(rows)} checks passed" if failed else "\nall checks passed",
        file=out,
    )
    return 1 if failed else 0
