"""Production mode (``OPUS_ENV=production``): the settings a national booking service
must have, checked before anything starts.

Every command (but ``check``) and the app factory call :func:`refuse_unsafe_start`: in
production it raises :class:`UnsafeProduction`, whose one message lists every problem
found, each with the environment variable to fix, so an operator fixes them in one go
instead of one restart per problem. ``opus-online check`` shows the same problems
(:func:`setting_problems`, :func:`demo_credentials_in_store`) with its connectivity
table. The development defaults (the demo's SMTP catcher, SMS stand-in, SQLite store,
a secret key made per host) are exactly what production must not run on.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from opus_online.config import Settings

log = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
"""Characters of ``OPUS_SECRET_KEY``: at least 192 bits of a random URL-safe text."""
DEMO_PASSWORDS = frozenset({"demo", "password", "secret", "changeme"})
"""Values the demo and the documentation use, or that are guessed first."""
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$"
)


@dataclass(frozen=True)
class Problem:
    """One missing or unsafe setting: ``setting`` is its environment variable."""

    setting: str
    text: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.text}"


class UnsafeProduction(RuntimeError):
    """Production mode with missing or unsafe settings: the message lists them all. The
    command prints it and exits with status 2; uvicorn and gunicorn log it and stop."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"OPUS_ENV=production, but {len(problems)} setting(s) are missing or unsafe; "
            f"nothing was started:\n{lines}"
        )


def _is_https(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme == "https" and bool(urlsplit(url).hostname)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


def setting_problems(settings: Settings) -> list[Problem]:
    """Every required setting that is missing or unsafe for production, in the order
    of the README's list. Reads the settings and the files they name; no network."""
    problems: list[Problem] = []
    add = lambda setting, text: problems.append(Problem(setting, text))  # noqa: E731

    secret_key = _secret(settings.secret_key)
    if not secret_key:
        add(
            "OPUS_SECRET_KEY",
            "not set: each process would make its own key, so codes, "
            "captchas and signed links made by one would fail on another",
        )
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH or secret_key.lower() in DEMO_PASSWORDS:
        add(
            "OPUS_SECRET_KEY",
            f"too short or guessable (at least {MIN_SECRET_KEY_LENGTH} random characters)",
        )

    if not settings.public_base_url:
        add("OPUS_PUBLIC_BASE_URL", "not set (e.g. https://{subdomain}.opusdentalonline.com)")
    elif not _is_https(settings.public_base_url.replace("{subdomain}", "x")):
        add("OPUS_PUBLIC_BASE_URL", "not an https:// URL: links in messages must use HTTPS")
    elif "{subdomain}" not in settings.public_base_url:
        add("OPUS_PUBLIC_BASE_URL", "has no {subdomain}: every tenant's links would be the same")
    if settings.base_domain in ("localhost", "") or settings.base_domain.endswith(".localhost"):
        add("OPUS_BASE_DOMAIN", "still the demo's localhost")

    if not settings.admin_host:
        add("OPUS_ADMIN_HOST", "not set: operator pages need an origin of their own")
    elif not _HOST_NAME.match(settings.admin_host.lower()):
        add("OPUS_ADMIN_HOST", "not a host name (no scheme, port or path)")
    if settings.metrics_token is None or len(_secret(settings.metrics_token) or "") < 16:
        add(
            "OPUS_METRICS_TOKEN",
            "not set or shorter than 16 characters: /metrics would be unreadable for monitoring",
        )

    if settings.reminder_demo_after_s is not None:
        add(
            "OPUS_REMINDER_DEMO_AFTER_S",
            "set: reminders would go minutes after booking instead of before the visit",
        )

    url = settings.resolved_store_url
    if settings.store_url is None:
        add("OPUS_STORE_URL", "not set: the default is a SQLite file on this host")
    elif url.startswith("sqlite"):
        add("OPUS_STORE_URL", "SQLite: several processes and hosts need PostgreSQL")

    if not settings.smtp_username or not _secret(settings.smtp_password):
        add("OPUS_SMTP_USERNAME", "SMTP user name and OPUS_SMTP_PASSWORD must both be set")
    elif (_secret(settings.smtp_password) or "").lower() in DEMO_PASSWORDS:
        add("OPUS_SMTP_PASSWORD", "a demo password")
    if settings.smtp_security == "none":
        add(
            "OPUS_SMTP_SECURITY",
            "none: the password and the mail would cross the network "
            "in clear (use starttls or tls)",
        )

    if not _is_https(settings.sms_gateway_url) or _is_loopback(settings.sms_gateway_url):
        add(
            "OPUS_SMS_GATEWAY_URL",
            "not the gateway's https:// URL (the default is the demo's stand-in)",
        )
    if settings.sms_gateway_username.lower() in DEMO_PASSWORDS | {""}:
        add("OPUS_SMS_GATEWAY_USERNAME", "missing or the demo's user name")
    if _secret(settings.sms_gateway_password).lower() in DEMO_PASSWORDS | {""}:
        add("OPUS_SMS_GATEWAY_PASSWORD", "missing or the demo's password")

    if not _is_https(settings.bankid_url) or _is_loopback(settings.bankid_url or ""):
        add("OPUS_BANKID_URL", "not BankID's https:// URL (e.g. https://appapi2.bankid.com)")
    demo_bankid = (settings.data_dir / "bankid").resolve()
    for name, path in (
        ("OPUS_BANKID_CA_FILE", settings.bankid_ca_file),
        ("OPUS_BANKID_CERT_FILE", settings.bankid_cert_file),
        ("OPUS_BANKID_KEY_FILE", settings.bankid_key_file),
    ):
        if path is None:
            add(name, "not set")
        elif not _readable_file(path):
            add(name, f"no readable file at {path}")
        elif Path(path).resolve().parent == demo_bankid:
            add(name, "the demo's test certificate")

    if not _is_https(settings.marketplace_url) or _is_loopback(settings.marketplace_url):
        add(
            "OPUS_MARKETPLACE_URL",
            "not Boka vård's https:// URL (the default is the demo's stand-in)",
        )
    token = _environment_secret(settings.marketplace_token_ref)
    if token is not None and token in _demo_marketplace_tokens():
        add("OPUS_MARKETPLACE_TOKEN", "the demo's token")
    return problems


def _readable_file(path: Path) -> bool:
    return Path(path).is_file() and os.access(path, os.R_OK)


def _environment_secret(ref: str) -> str | None:
    """The value of an ``env:NAME`` reference, if set (Prefect blocks are not read
    here: starting must not depend on the Prefect server)."""
    kind, _, name = ref.partition(":")
    return os.environ.get(name) if kind == "env" else None


def _demo_marketplace_tokens() -> set[str]:
    from demo.run import DEMO_MARKETPLACE_TOKEN

    return {DEMO_MARKETPLACE_TOKEN}


def demo_credentials_in_store(store_url: str, timeout_s: float = 5.0) -> list[Problem]:
    """The demo's API key or operator password, if the store still has them (a store
    seeded by ``opus-online demo`` and then promoted). Raises when the store cannot be
    read; the caller decides what that means."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.pool import NullPool

    from connectors.store.api_keys import key_hash
    from connectors.store.models import ApiKey, Operator
    from demo.store_seed import DEMO_API_KEY, DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD

    connect_args = {"connect_timeout": max(1, int(timeout_s))}
    if store_url.startswith("sqlite"):
        connect_args = {"timeout": timeout_s}
    engine = create_engine(store_url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            key = connection.scalar(
                select(ApiKey.id).where(ApiKey.key_hash == key_hash(DEMO_API_KEY)).limit(1)
            )
            operator_hash = connection.scalar(
                select(Operator.password_hash).where(Operator.email == DEMO_OPERATOR)
            )
    finally:
        engine.dispose()
    problems = []
    if key is not None:
        problems.append(Problem("store", "the demo's API key is active (delete it in /admin)"))
    if operator_hash is not None and _verifies(operator_hash, DEMO_OPERATOR_PASSWORD):
        problems.append(Problem("store", "the demo operator's password is still set"))
    return problems


def _verifies(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import Argon2Error, InvalidHashError

    try:
        return PasswordHasher().verify(password_hash, password)
    except (Argon2Error, InvalidHashError):
        return False


def production_problems(settings: Settings, *, store: bool = True) -> list[Problem]:
    """:func:`setting_problems`, and with ``store`` the demo credentials in the store
    (when the store URL is acceptable and the store answers: a store that is down is
    for ``opus-online check`` and the readiness probe to report, not a setting)."""
    problems = setting_problems(settings)
    url = settings.resolved_store_url
    if store and settings.store_url and not url.startswith("sqlite"):
        try:
            problems += demo_credentials_in_store(url)
        except Exception as exc:
            log.warning("store not readable for the production check: %s", type(exc).__name__)
    return problems


def refuse_unsafe_start(settings: Settings, *, store: bool = True) -> None:
    """In production, raise :class:`UnsafeProduction` unless every required setting is
    present and safe. In development, nothing."""
    if settings.env != "production":
        return
    problems = production_problems(settings, store=store)
    if problems:
        raise UnsafeProduction(problems)
