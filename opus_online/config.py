"""The one settings object. Every value can be set from the environment with the
prefix ``OPUS_`` (``OPUS_STORE_URL``, ``OPUS_DATA_DIR`` ...); the defaults run the
embedded demo: a SQLite store and a SQLite Opus database under ``./data``."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPUS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the embedded demo keeps its files.")
    store_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the booking store; default a SQLite file in data_dir.",
    )

    base_domain: str = Field("localhost", description="Patient sites live at <subdomain>.<this>.")
    # Security: one origin per trust level. The operator pages and dashboards are served
    # only on this host (never on a tenant's, where a tenant's script may run); unset,
    # admin.<base_domain> ("admin" is a reserved subdomain).
    admin_host: str | None = Field(
        None,
        description="Host of the operator pages and dashboards, e.g. admin.opusdentalonline.com; "
        "default admin.<base_domain>.",
    )
    app_host: str = "127.0.0.1"
    app_port: int = 8000
    prefect_port: int = 4200

    sync_interval_minutes: int = Field(5, ge=1)
    opus_connect_timeout_s: int = Field(15, ge=1)
    opus_retries: int = Field(
        3, ge=0, description="Retries of a failed Opus connect (an Opus database may set its own)."
    )
    opus_retry_delay_s: float = Field(10.0, ge=0)
    timezone: str = "Europe/Stockholm"
    # The schedule sync fanned out over a Prefect work pool (flows/fleet.py).
    sync_shards: int = Field(
        4, ge=1, description="Flow runs one sync cycle is split into (about 2 per worker)."
    )
    sync_threads: int = Field(4, ge=1, description="Tenants one shard syncs at once.")
    sync_tenant_timeout_s: int = Field(
        120,
        ge=2,
        description="A tenant's sync in a cycle is given up after this (a silent Opus "
        "costs no more); its lease lasts twice as long, so keep it under half the interval.",
    )
    sync_work_pool: str = Field("opus-online", description="`opus-online deploy`'s work pool.")
    availability_poll_s: float = Field(
        0.25,
        ge=0,
        description="How often the booking app reads the store's change counters to keep "
        "its free times in memory current; 0: before every free-time question (exact "
        "across processes, one small query each).",
    )
    answer_cache_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="Memory for the booking app's few seconds of remembered free-time "
        "answers, in bytes (keys and answers); the least recently used go first.",
    )
    # Several app processes (issue 18): how each process keeps the tenants' free times
    # in memory and learns of changes made through the others.
    snapshot_memory_mb: float = Field(
        1024,
        ge=0,
        description="Memory for the tenants' free-time snapshots in one app process, in "
        "MB (estimated); past it the least recently asked tenants' snapshots are dropped "
        "and their questions answered from the store until asked again.",
    )
    snapshot_preload: str = Field(
        "",
        description="Tenants (comma-separated subdomains, or '*' for all) whose snapshots "
        "an app process reads when it starts; the others are read when first asked. "
        "/readyz waits for these.",
    )
    availability_notify: bool = Field(
        True,
        description="PostgreSQL: the store pushes its change counters (LISTEN/NOTIFY, one "
        "connection per app process), so a change shows in every process at once; the "
        "polling of availability_poll_s stays as the safety net. Ignored on SQLite.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs forms and keys codes; without it a random key is kept in data_dir.",
    )
    # BankID RP API v6.0 (patient e-ID login). Without a URL no login can start.
    bankid_url: str | None = Field(
        None, description="BankID server without the API path, e.g. https://appapi2.bankid.com"
    )
    bankid_ca_file: Path | None = Field(None, description="The pinned BankID CA (PEM).")
    bankid_cert_file: Path | None = Field(None, description="The RP certificate (PEM).")
    bankid_key_file: Path | None = Field(None, description="The RP certificate's key (PEM).")
    bankid_timeout_s: float = Field(10.0, gt=0)
    bankid_retries: int = Field(2, ge=0)

    # Patient notifications (flows/notifications.py). The defaults reach the demo's
    # mail catcher and SMS stand-in on loopback.
    public_base_url: str | None = Field(
        None,
        description="Links in messages: a URL with {subdomain}, e.g. "
        "'https://{subdomain}.opusdentalonline.com'; default https://<subdomain>.<base_domain>.",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout_s: float = Field(15.0, gt=0)
    email_default_sender: str = Field(
        "no-reply@opusdentalonline.com",
        description="When a tenant has set no sender address, or one on an unverified domain.",
    )
    email_verified_domains: str = Field(
        "",
        description="Comma-separated domains a tenant's sender address may be on (those our "
        "SMTP relay may send for, with SPF/DKIM set up); mail for any other goes from "
        "email_default_sender with the tenant's name. Default: none.",
    )
    sms_gateway_url: str = "http://127.0.0.1:8026/a1/sms"
    sms_gateway_username: str = "demo"
    sms_gateway_password: SecretStr = SecretStr("demo")
    sms_timeout_s: float = Field(10.0, gt=0)
    sms_default_sender: str = Field(
        "Tandvard", max_length=11, description="When a tenant has set no SMS sender id."
    )
    notify_max_attempts: int = Field(8, ge=1, description="Tries of one message, then failed.")
    notify_retry_delay_s: float = Field(
        30.0, ge=0, description="Wait after the first failed try; doubles per try, at most 1 h."
    )
    # Appointment reminders (flows/reminders.py); each tenant turns them on and times them.
    reminder_plan_interval_s: float = Field(
        60.0,
        gt=0,
        description="How often a worker plans the coming appointments' reminders; a due "
        "reminder is handed to the outbox within a second or so of its time either way.",
    )
    reminder_demo_after_s: float | None = Field(
        None,
        ge=0,
        description="Demo only: every online booking's reminder is due this many seconds "
        "after the booking was made (instead of its lead time before the visit, and "
        "regardless of quiet hours), so that it shows in the stand-ins. Never in production.",
    )

    # Boka vård marketplace (flows/marketplace.py): FHIR R4 over HTTPS. The default
    # reaches the demo's stand-in on loopback.
    marketplace_url: str = Field(
        "http://127.0.0.1:8027/fhir", description="The marketplace's FHIR base URL."
    )
    marketplace_token_ref: str = Field(
        "env:OPUS_MARKETPLACE_TOKEN",
        description="Where the bearer token is (env:NAME or prefect-secret:NAME), unless a "
        "tenant's account names its own.",
    )
    marketplace_timeout_s: float = Field(15.0, gt=0)
    marketplace_retries: int = Field(3, ge=0, description="Retries of one marketplace call.")
    marketplace_retry_delay_s: float = Field(
        1.0, ge=0, description="Wait before the first retry; doubles per retry."
    )
    marketplace_horizon_days: int = Field(
        28, ge=1, le=366, description="How far ahead free times are published there."
    )
    marketplace_bundle_size: int = Field(200, ge=1, le=5000)

    # Limits on API clients (booking_app/api/booking.py, security issue 3): the
    # reservations one API key may hold at once. A booking client (a call centre's
    # system) holds a few while it talks to patients; a leaked or looping key must not
    # take a clinic's week.
    api_max_active_reservations: int = Field(
        20, ge=1, le=1000, description="Reservations one API key may hold at once."
    )

    # Fleet (issue 17): every store engine's connection pool, per process. The default
    # (10 + 40) covers the booking app's 40 request threads (see connectors/store/db.py);
    # a worker needs a few, and PostgreSQL's max_connections caps the sum over the fleet.
    store_pool_size: int = Field(10, ge=1, description="Connections a store engine keeps.")
    store_max_overflow: int = Field(
        40, ge=0, description="Connections a store engine may open beyond the pool, when busy."
    )
    store_pool_timeout_s: float = Field(
        10.0, gt=0, description="Wait for a free pooled connection, then fail."
    )

    # Operations (issue 18): production mode, metrics, logs.
    env: Literal["development", "production"] = Field(
        "development",
        description="production: every command and the app refuse to start while a "
        "required setting is missing or unsafe (see opus_online/production.py).",
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token for /metrics; without it /metrics answers loopback "
        "clients only. Never on a tenant's host.",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="json: one JSON object per line, with the request id."
    )
    access_log: bool = Field(
        True,
        description="A log line per request from `opus-online app` (personal numbers "
        "scrubbed from paths); false where the proxy in front keeps the access log.",
    )

    def public_url(self, subdomain: str) -> str:
        """The tenant's booking site as patients reach it, without a trailing slash."""
        if self.public_base_url:
            return self.public_base_url.format(subdomain=subdomain).rstrip("/")
        return f"https://{subdomain}.{self.base_domain}"

    @property
    def resolved_admin_host(self) -> str:
        """The operator origin's host name, lower case, without a port."""
        host = self.admin_host or f"admin.{self.base_domain}"
        name, colon, port = host.strip().lower().rpartition(":")
        host = name if colon and port.isdigit() else host.strip().lower()
        return host.removesuffix(".")

    def email_domain_verified(self, address: str) -> bool:
        """Whether ``address`` is on one of ``email_verified_domains`` (exactly: a
        subdomain is a domain of its own)."""
        domain = address.rpartition("@")[2].strip().casefold()
        verified = {d.strip().casefold() for d in self.email_verified_domains.split(",")}
        return bool(domain) and domain in verified - {""}

    @property
    def resolved_store_url(self) -> str:
        if self.store_url:
            return self.store_url
        return f"sqlite:///{(self.data_dir / 'store.db').resolve()}"

    def secret(self) -> bytes:
        """The application's secret: OPUS_SECRET_KEY, or a random one made once and
        kept (readable by the owner only) in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()

    @property
    def demo_opus_path(self) -> Path:
        return (self.data_dir / "opus-demo.db").resolve()


@lru_cache
def get_settings() -> Settings:
    return Settings()
