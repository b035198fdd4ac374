"""Helpers for the booking app's tests: run the real schedule sync, reach the app by
host name, change a tenant's settings, and read a page's structure (headings, each
clinic's listed free times) instead of searching its text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from booking_app.main import create_app
from booking_app.origins import admin_path
from connectors.store.db import session_scope
from connectors.store.models import Tenant, TenantSettings
from connectors.store.types import utcnow
from demo.store_seed import DEMO_SUBDOMAIN
from opus_online.config import Settings

BASE_DOMAIN = "booking.test"
TENANT_HOST = f"{DEMO_SUBDOMAIN}.{BASE_DOMAIN}"
SECRET = "test-secret-not-for-production"


def store_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


ADMIN_HOST = f"admin.{BASE_DOMAIN}"
ADMIN_URL = f"http://{ADMIN_HOST}"


class SiteClient(TestClient):
    """A browser at a tenant's site that also opens the operator pages: a relative
    ``/admin…`` (or dashboard file) URL goes to the admin host, as the operator's
    links do, every other relative URL to ``host``. Cookies stay with the host that
    set them. To ask the tenant host for ``/admin``, give the full URL."""

    def request(self, method: str, url, *args, **kwargs):
        if isinstance(url, str) and admin_path(url.partition("?")[0]):
            url = ADMIN_URL + url
        return super().request(method, url, *args, **kwargs)


def admin_site(site: str) -> str:
    """The admin origin beside a tenant's site: ``http://t.localhost:8000`` gives
    ``http://admin.localhost:8000`` (for the browser tests)."""
    scheme, _, rest = site.partition("://")
    return f"{scheme}://admin.{rest.split('.', 1)[1]}"


def client_for(
    engine: Engine, host: str = TENANT_HOST, clock: Callable[[], datetime] = utcnow
) -> TestClient:
    """A client whose requests carry ``Host: <host>`` (``/admin…``: the admin host's),
    against ``engine``'s store."""
    settings = Settings(store_url=store_url(engine), base_domain=BASE_DOMAIN, secret_key=SECRET)
    return SiteClient(create_app(settings, clock=clock), base_url=f"http://{host}")


def change_settings(engine: Engine, subdomain: str = DEMO_SUBDOMAIN, **values) -> None:
    with session_scope(engine) as session:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.subdomain == subdomain)).one()
        session.execute(
            update(TenantSettings).where(TenantSettings.tenant_id == tenant_id).values(**values)
        )


# -- reading pages ---------------------------------------------------------------------


@dataclass
class Listed:
    """One free time as a clinic's list shows it."""

    starts_local: datetime  # from <time datetime>, with its UTC offset
    label: str
    practitioner: str


@dataclass
class Page:
    headings: list[tuple[str, str]] = field(default_factory=list)
    clinics: dict[str, list[Listed]] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    html_lang: str | None = None


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._heading: str | None = None
        self._text: list[str] = []
        self._in_article = False
        self._clinic: str | None = None
        self._capture: str | None = None  # "time" | "practitioner" | "address"
        self._datetime: str | None = None
        self._item: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.page.html_lang = attributes.get("lang")
        elif tag in ("h1", "h2", "h3", "h4"):
            self._heading, self._text = tag, []
        elif tag == "article":
            self._in_article = True
        elif tag == "li" and self._clinic:
            self._item = {}
        elif tag == "time" and self._clinic:
            self._capture, self._text = "time", []
            self._datetime = attributes.get("datetime")
        elif tag == "span" and attributes.get("class") == "practitioner":
            self._capture, self._text = "practitioner", []
        elif tag == "address":
            self._capture, self._text = "address", []

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text).split())
        if tag == self._heading:
            self.page.headings.append((tag, text))
            if self._in_article:
                self._clinic = text
                self.page.clinics[text] = []
            self._heading = None
        elif tag == "article":
            self._in_article, self._clinic = False, None
        elif tag in ("time", "span", "address") and self._capture:
            if self._capture == "address" and self._clinic:
                self.page.addresses[self._clinic] = text
            else:
                self._item[self._capture] = text
            self._capture = None
        elif tag == "li" and self._clinic and self._item:
            assert self._datetime is not None
            self.page.clinics[self._clinic].append(
                Listed(
                    datetime.fromisoformat(self._datetime),
                    self._item["time"],
                    self._item["practitioner"],
                )
            )

    def handle_data(self, data: str) -> None:
        if self._heading or self._capture:
            self._text.append(data)


def read_page(html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return parser.page
