"""Helpers for the operator pages' tests: accounts, a second tenant, logging in, and
posting a tab's form the way a browser does (with the page's CSRF token)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import Tenant, TenantSettings
from connectors.store.operators import create_operator
from demo.store_seed import DEMO_SUBDOMAIN

PASSWORD = "rätt-lösenord-123"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def tenant_id(engine: Engine, subdomain: str = DEMO_SUBDOMAIN) -> int:
    with session_scope(engine) as session:
        return session.scalars(select(Tenant.id).where(Tenant.subdomain == subdomain)).one()


def other_tenant(engine: Engine, subdomain: str = "annanklinik") -> int:
    with session_scope(engine) as session:
        tenant = Tenant(name="Annan klinik", subdomain=subdomain)
        tenant.settings = TenantSettings(welcome_text="Annan kliniks text")
        session.add(tenant)
        session.flush()
        return tenant.id


def operator(engine: Engine, email: str, grants: dict[int, str]) -> None:
    with session_scope(engine) as session:
        create_operator(session, email, PASSWORD, grants=grants)


def csrf_token(page: Response) -> str:
    match = _TOKEN.search(page.text)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    token = csrf_token(client.get("/admin/login"))
    return client.post(
        "/admin/login",
        data={"csrf_token": token, "email": email, "password": password},
        follow_redirects=False,
    )


def form_fields(page: Response) -> dict[str, str]:
    """The values a browser would post from the page's first settings form: inputs
    with a value, ticked checkboxes, selected options, textareas."""
    from html.parser import HTMLParser

    fields: dict[str, str] = {}

    class Reader(HTMLParser):
        select: str | None = None
        textarea: str | None = None
        forms = 0

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "form":
                self.forms += 1
            if self.forms != 2:  # the header's logout form is the first
                return
            name = a.get("name")
            if tag == "input" and name:
                if a.get("type") == "checkbox":
                    if "checked" in a:
                        fields[name] = "on"
                elif a.get("type") != "submit":
                    fields[name] = a.get("value") or ""
            elif tag == "select":
                self.select = name
            elif tag == "option" and self.select and "selected" in a:
                fields[self.select] = a.get("value") or ""
            elif tag == "textarea" and name:
                self.textarea = name
                fields[name] = ""

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            if tag == "textarea":
                self.textarea = None

        def handle_data(self, data):
            if self.textarea:
                fields[self.textarea] += data

    Reader().feed(page.text)
    return fields


def post_tab(client: TestClient, path: str, **changes: str | None) -> Response:
    """Post the tab at ``path`` as shown, with ``changes`` (None unticks/removes)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    fields = form_fields(page)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return client.post(path, data=fields, follow_redirects=False)
