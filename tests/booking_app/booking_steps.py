"""Walking the booking steps as a browser would, with TestClient: read a page's links,
forms and buttons (structure, not text search), follow a link, press a button.

Submitting posts exactly what the page's form holds (its hidden fields, the CSRF
token among them, and the pressed button's name and value), so a page that forgot a
field fails here as it would for a patient.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage

VALID_PERSONAL_NUMBER = "19121212-1212"  # Skatteverket's test number: Luhn-valid
PATIENT = {
    "personal_number": VALID_PERSONAL_NUMBER,
    "first_name": "Tolvan",
    "last_name": "Tolvansson",
    "mobile": "070-123 45 67",
    "email": "tolvan@example.se",
}


@dataclass
class Link:
    href: str
    text: str
    aria_label: str | None


@dataclass
class Button:
    name: str | None
    value: str | None
    text: str
    aria_label: str | None
    form: Form

    @property
    def label(self) -> str:
        return self.aria_label or self.text


@dataclass
class Form:
    method: str
    action: str
    hidden: dict[str, str] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)
    fields: dict[str, dict[str, str | None]] = field(default_factory=dict)
    """Visible inputs, textareas and radios by id, with their attributes."""


@dataclass
class Page:
    status: int
    url: str
    html: str
    h1: str = ""
    links: list[Link] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    """Label text by the id it is ``for``."""
    ids: dict[str, str] = field(default_factory=dict)
    """Text of every element that has an id (for aria-describedby targets)."""

    @property
    def buttons(self) -> list[Button]:
        return [b for f in self.forms for b in f.buttons]

    def link(self, text: str) -> Link:
        found = [a for a in self.links if text in a.text or text == a.aria_label]
        assert found, f"no link {text!r} on {self.url} ({[a.text for a in self.links]})"
        return found[0]

    def button(self, text: str) -> Button:
        found = [b for b in self.buttons if text in b.label]
        assert found, f"no button {text!r} on {self.url} ({[b.label for b in self.buttons]})"
        return found[0]

    def has_link(self, text: str) -> bool:
        return any(text in a.text for a in self.links)

    def form_with(self, field_name: str) -> Form:
        for form in self.forms:
            if any(f.get("name") == field_name for f in form.fields.values()):
                return form
        raise AssertionError(f"no form with {field_name!r} on {self.url}")


class _Parser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.form: Form | None = None
        self.open: list[tuple[str, str, list[str]]] = []  # (tag, kind, text parts)
        self.pending: dict[str, object] = {}
        self.id_stack: list[tuple[str, str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id") and tag not in ("input", "textarea"):
            self.id_stack.append((tag, str(a["id"]), []))
        if tag == "form":
            self.form = Form((a.get("method") or "get").lower(), a.get("action") or "")
            self.page.forms.append(self.form)
        elif tag == "input" and self.form is not None:
            if a.get("type") == "hidden":
                self.form.hidden[str(a["name"])] = a.get("value") or ""
            elif a.get("id"):
                self.form.fields[str(a["id"])] = a
        elif tag == "textarea" and self.form is not None and a.get("id"):
            self.form.fields[str(a["id"])] = a
        elif tag in ("a", "button", "label", "h1"):
            self.open.append((tag, "", []))
            self.pending[tag] = a

    def handle_endtag(self, tag: str) -> None:
        if self.id_stack and self.id_stack[-1][0] == tag:
            _, ident, parts = self.id_stack.pop()
            self.page.ids[ident] = " ".join("".join(parts).split())
        if tag == "form":
            self.form = None
            return
        if not self.open or self.open[-1][0] != tag:
            return
        _, _, parts = self.open.pop()
        text = " ".join("".join(parts).split())
        a = self.pending.pop(tag)
        assert isinstance(a, dict)
        if tag == "a" and a.get("href"):
            self.page.links.append(Link(a["href"], text, a.get("aria-label")))
        elif tag == "button" and self.form is not None:
            self.form.buttons.append(
                Button(a.get("name"), a.get("value"), text, a.get("aria-label"), self.form)
            )
        elif tag == "label" and a.get("for"):
            self.page.labels[a["for"]] = text
        elif tag == "h1":
            self.page.h1 = text

    def handle_data(self, data: str) -> None:
        for _, _, parts in self.open:
            parts.append(data)
        for _, _, parts in self.id_stack:
            parts.append(data)


def read(response: httpx.Response) -> Page:
    page = Page(response.status_code, str(response.url), response.text)
    _Parser(page).feed(response.text)
    return page


def get(client: TestClient, url: str) -> Page:
    return read(client.get(url))


def follow(client: TestClient, link: Link) -> Page:
    return get(client, link.href)


def press(client: TestClient, button: Button, **fields: str) -> Page:
    """Submit ``button``'s form with its hidden fields, the button, and ``fields``."""
    form = button.form
    data = dict(form.hidden)
    if button.name:
        data[button.name] = button.value or ""
    data.update(fields)
    if form.method == "get":
        return read(client.get(form.action, params=data))
    return read(client.post(form.action, data=data))


def submit(client: TestClient, form: Form, fields: dict[str, str]) -> Page:
    return read(client.post(form.action, data={**form.hidden, **fields}))


# -- the usual path -------------------------------------------------------------------


def to_time_step(client: TestClient, lang: str = "sv") -> Page:
    """Default order: the first clinic, its first treatment, the first practitioner."""
    page = get(client, "/boka" + ("?lang=en" if lang == "en" else ""))
    page = follow(client, next(a for a in page.links if a.href.startswith("/boka?clinic=")))
    page = follow(client, next(a for a in page.links if "treatment=" in a.href))
    practitioners = [a for a in page.links if "practitioner=" in a.href]
    return follow(client, next(a for a in practitioners if "practitioner=any" not in a.href))


def time_buttons(page: Page) -> list[Button]:
    return [b for b in page.buttons if b.name == "slot"]


def first_time(client: TestClient, page: Page) -> Page:
    """Press the first time of the week, or jump to the first free time first."""
    if not time_buttons(page):
        page = follow(
            client,
            page.link("Första lediga tid" if "lang=en" not in page.url else "First free time"),
        )
    return press(client, time_buttons(page)[0])


def to_details(client: TestClient, lang: str = "sv") -> Page:
    page = first_time(client, to_time_step(client, lang))
    assert "/uppgifter" in page.url, page.url
    return page


def reference_of(page: Page) -> str:
    """The booking reference in a booking page's address: /boka/<reference>/..."""
    path = httpx.URL(page.url).path
    return path.split("/")[2]


def fill_details(client: TestClient, page: Page, **overrides: str) -> Page:
    form = page.form_with("first_name")
    return submit(client, form, {**PATIENT, **overrides})


def booking(engine: Engine, reference: str) -> Booking:
    with session_scope(engine) as session:
        row = session.scalars(select(Booking).where(Booking.reference == reference)).one()
        session.expunge(row)
        return row


def sent_codes(engine: Engine, reference: str) -> list[tuple[str, str, str]]:
    """(channel, recipient, code) of the codes queued for the booking, oldest first."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(OutboxMessage.channel, OutboxMessage.recipient, OutboxMessage.payload)
            .join(Booking, Booking.id == OutboxMessage.booking_id)
            .where(Booking.reference == reference, OutboxMessage.kind == "code")
            .order_by(OutboxMessage.id)
        ).all()
    return [(c, r, json.loads(p)["code"]) for c, r, p in rows]


# -- the store, by the clinic's words ----------------------------------------------------


@dataclass
class Names:
    """Store ids by name (the demo's names are unique where these tests use them)."""

    clinics: dict[str, int]
    treatments: dict[str, int]
    practitioners: dict[str, int]


def names(engine: Engine) -> Names:
    from connectors.store.models import Clinic, Practitioner, Treatment

    with session_scope(engine) as session:
        clinics = {c.name: c.id for c in session.scalars(select(Clinic))}
        treatments = {t.name: t.id for t in session.scalars(select(Treatment))}
        practitioners = {
            p.display_name: p.id
            for p in session.scalars(select(Practitioner).order_by(Practitioner.id))
        }
    return Names(clinics, treatments, practitioners)


def link_values(page: Page, name: str) -> list[str]:
    """The values of query parameter ``name`` that the page's step links set, in order."""
    values = []
    for link in page.links:
        url = httpx.URL(link.href)
        if url.path == "/boka" and name in url.params:
            values.append(url.params[name])
    return values
