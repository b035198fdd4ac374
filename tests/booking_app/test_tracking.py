"""First-party visit tracking: the beacon's tags in the pages, the /besok endpoint's
checks (payload, size, rate, DNT/GPC, bots), the privacy of what reaches the store, and
*Avancerat*'s analytics script in its sandboxed frame."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, select

from booking_app.main import create_app
from booking_app.security import CONTENT_SECURITY_POLICY
from booking_app.tracking import MAX_BODY, RATE_BURST, device_class, referrer_host, utm_source
from connectors.store.db import session_scope
from connectors.store.models import VisitEvent, VisitSalt
from opus_online.config import Settings
from tests.booking_app.admin.admin_pages import other_tenant
from tests.booking_app.booking_pages import (
    BASE_DOMAIN,
    SECRET,
    TENANT_HOST,
    change_settings,
    store_url,
)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ADDRESS = "203.0.113.77"
NOW = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)


def tracked_client(engine: Engine, host: str = TENANT_HOST, address: str = ADDRESS, clock=None):
    settings = Settings(store_url=store_url(engine), base_domain=BASE_DOMAIN, secret_key=SECRET)
    app = create_app(settings, clock=clock or (lambda: NOW))
    return TestClient(
        app, base_url=f"http://{host}", client=(address, 40000), headers={"user-agent": FIREFOX}
    )


def beacon(client: TestClient, body: object, **headers: str):
    """Posts ``body`` as the script would; a dict gets the signature its page's tag
    would carry, unless it brings a key of its own."""
    if isinstance(body, dict) and "k" not in body:
        page, path = body.get("p"), body.get("u")
        if isinstance(page, str) and isinstance(path, str):
            body = {**body, "k": client.app.state.tracker.sign(page, path)}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/besok", content=data, headers={"content-type": "text/plain", **headers})


def stored(client: TestClient, engine: Engine) -> list[VisitEvent]:
    client.app.state.tracker.recorder.flush()
    with session_scope(engine) as session:
        return list(session.scalars(select(VisitEvent).order_by(VisitEvent.id)))


@pytest.fixture
def client(booking_store: Engine) -> TestClient:
    return tracked_client(booking_store)


def script_tag(html: str) -> dict[str, str]:
    tag = re.search(r'<script src="/static/visit\.js"([^>]*)>', html)
    assert tag, "the page has no visit beacon"
    data = dict(re.findall(r'data-(\w+)="([^"]*)"', tag.group(1)))
    assert re.fullmatch(r"[0-9a-f]{24}", data.pop("key"))
    return data


# -- the pages say what they are ----------------------------------------------------------


def test_pages_carry_the_beacon_with_their_step_and_route(client: TestClient) -> None:
    assert script_tag(client.get("/").text) == {"page": "start", "path": "/"}
    assert script_tag(client.get("/boka").text) == {"page": "klinik", "path": "/boka"}
    # Never the URL with its query: a route template only.
    clinic = re.search(r'href="/boka\?clinic=(\d+)', client.get("/boka").text).group(1)
    page = client.get(f"/boka?clinic={clinic}").text
    assert script_tag(page) == {"page": "behandling", "path": "/boka"}
    assert "visit.js" not in client.get("/finns-inte").text  # error pages are not counted


# -- the endpoint ---------------------------------------------------------------------------


def test_a_page_view_is_stored_without_anything_personal(client, booking_store) -> None:
    answer = beacon(
        client,
        {"p": "start", "u": "/", "r": "https://www.google.se/search?q=tandläkare", "s": ""},
    )
    assert answer.status_code == 204
    [event] = stored(client, booking_store)
    assert (event.page, event.path, event.source, event.device) == (
        "start",
        "/",
        "google.se",
        "desktop",
    )
    assert event.at == NOW
    # The same browser on the same day is the same visitor; another one is not.
    beacon(client, {"p": "klinik", "u": "/boka"})
    other = tracked_client(booking_store, address="198.51.100.9")
    beacon(other, {"p": "start", "u": "/"}, **{"user-agent": IPHONE})
    first, again = stored(client, booking_store)[:2]
    third = stored(other, booking_store)[2]
    assert first.visitor == again.visitor != third.visitor
    assert third.device == "mobile" and again.source is None


def test_the_visitor_hash_changes_with_the_day(booking_store: Engine) -> None:
    now = [NOW]
    client = tracked_client(booking_store, clock=lambda: now[0])
    beacon(client, {"p": "start", "u": "/"})
    now[0] = datetime(2026, 3, 13, 9, 30, tzinfo=UTC)
    beacon(client, {"p": "start", "u": "/"})
    first, second = stored(client, booking_store)
    assert first.visitor != second.visitor
    with session_scope(booking_store) as session:
        assert sorted(session.scalars(select(VisitSalt.day))) == [
            date(2026, 3, 12),
            date(2026, 3, 13),
        ]


@pytest.mark.parametrize("header", [{"dnt": "1"}, {"sec-gpc": "1"}])
def test_do_not_track_and_gpc_are_honoured(client, booking_store, header) -> None:
    assert beacon(client, {"p": "start", "u": "/"}, **header).status_code == 204
    assert stored(client, booking_store) == []


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/126.0 Safari/537.36",
        "curl/8.5.0",
        "python-httpx/0.27",
        "",
    ],
)
def test_bots_are_not_counted(client, booking_store, agent) -> None:
    assert beacon(client, {"p": "start", "u": "/"}, **{"user-agent": agent}).status_code == 204
    assert stored(client, booking_store) == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        {"p": "start", "u": "/", "name": "Tolvan"},  # a key of its own
        {"p": "betalning", "u": "/"},  # no such page
        {"p": "start", "u": "/boka/zebulon/uppgifter", "k": "0" * 24},  # not signed by us
        {"p": "start", "u": "/api/public/v1/clinics?pnr=191212121212"},
        {"p": "start", "u": 7},
        {"p": "start", "u": "/", "r": "x" * 501},
    ],
)
def test_only_the_beacons_own_payload_is_accepted(client, booking_store, body) -> None:
    assert beacon(client, body).status_code == 400
    assert stored(client, booking_store) == []


def test_a_signature_vouches_for_one_page_kind_only(client, booking_store) -> None:
    key = client.app.state.tracker.sign("start", "/")
    assert beacon(client, {"p": "bekraftad", "u": "/", "k": key}).status_code == 400
    assert beacon(client, {"p": "start", "u": "/", "k": key}).status_code == 204
    assert len(stored(client, booking_store)) == 1


def test_size_and_rate_are_limited(client, booking_store) -> None:
    big = json.dumps({"p": "start", "u": "/", "r": "https://a.se/" + "x" * MAX_BODY}).encode()
    other = tracked_client(booking_store, address="198.51.100.10")
    assert beacon(other, big).status_code == 413
    answers = [beacon(client, {"p": "start", "u": "/"}).status_code for _ in range(RATE_BURST + 5)]
    assert answers[:RATE_BURST] == [204] * RATE_BURST
    assert set(answers[RATE_BURST:]) == {429}
    assert len(stored(client, booking_store)) == RATE_BURST
    # Another address has its own allowance.
    assert beacon(other, {"p": "start", "u": "/"}).status_code == 204


def test_unknown_hosts_store_nothing(booking_store) -> None:
    client = tracked_client(booking_store, host=f"okand.{BASE_DOMAIN}")
    assert beacon(client, {"p": "start", "u": "/"}).status_code == 404
    assert stored(client, booking_store) == []


PERSONAL = {
    "personal number": "191212121212",
    "personal number, dashed": "19121212-1212",
    "name": "Zebulon",
    "surname": "Quistgaard",
    "e-mail": "zebulon.quistgaard@example.org",
    "phone": "0709876543",
    "phone, international": "+46709876543",
    "address": ADDRESS,
}


def test_no_personal_data_reaches_the_store(client, booking_store) -> None:
    """Personal data in every field a page or a forger can fill: the referrer (path,
    query, user info), the UTM source, extra keys, the URL; then every row of every
    table of the store is searched for it."""
    pnr, email, phone = PERSONAL["personal number"], PERSONAL["e-mail"], PERSONAL["phone"]
    attempts = [
        {"p": "uppgifter", "u": "/", "r": f"https://mail.example.org/inbox?from={email}"},
        {"p": "start", "u": "/", "r": f"https://zebulon:{pnr}@example.org/{phone}"},
        {"p": "start", "u": "/", "r": f"http://{ADDRESS}/Zebulon-Quistgaard"},
        {"p": "start", "u": "/", "s": pnr},
        {"p": "start", "u": "/", "s": PERSONAL["phone, international"]},
        {"p": "start", "u": "/", "s": email},
        {"p": "start", "u": "/", "s": "19121212-1212"},
        {"p": "start", "u": f"/boka?pnr={pnr}"},
        {"p": "start", "u": "/", "pnr": pnr, "email": email},
    ]
    answers = [beacon(client, body).status_code for body in attempts]
    assert answers.count(204) == 7  # the last two are refused whole
    # A page whose query string carries them does not pass them on either.
    client.get(f"/boka?namn=Zebulon&pnr={pnr}")
    events = stored(client, booking_store)
    assert len(events) == 7
    assert {e.source for e in events} == {"mail.example.org", "example.org", None}

    metadata = MetaData()
    metadata.reflect(booking_store)
    with booking_store.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(table.select()):
                text = " ".join(str(v) for v in row).lower()
                for what, needle in PERSONAL.items():
                    assert needle.lower() not in text, f"{what} found in {table.name}: {row}"


# -- the rules in small ----------------------------------------------------------------------


def test_referrers_keep_only_a_foreign_host() -> None:
    assert referrer_host("https://www.Google.se/search?q=x", TENANT_HOST) == "google.se"
    assert referrer_host(f"https://{TENANT_HOST}/boka?clinic=1", TENANT_HOST) is None
    assert referrer_host("http://192.168.1.5/", TENANT_HOST) is None
    assert referrer_host("https://[2001:db8::1]/", TENANT_HOST) is None
    assert referrer_host("android-app://com.google.android.gm/", TENANT_HOST) is None
    assert referrer_host("https://user:pw@forum.example.org:8443/p", TENANT_HOST) == (
        "forum.example.org"
    )


def test_utm_sources_are_names_not_numbers() -> None:
    assert utm_source(" Nyhetsbrev_2025 ") == "nyhetsbrev_2025"
    assert utm_source("191212121212") is None
    assert utm_source("0709876543") is None
    assert utm_source("a@b.se") is None


def test_devices_come_from_the_user_agent() -> None:
    assert device_class(FIREFOX) == "desktop"
    assert device_class(IPHONE) == "mobile"
    assert device_class("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Safari") == "tablet"
    assert device_class("Mozilla/5.0 (Linux; Android 14; SM-X710) Safari/537.36") == "tablet"
    assert device_class("Mozilla/5.0 (compatible; bingbot/2.0)") is None


# -- Avancerat: the operator's analytics script ----------------------------------------------

SNIPPET = (
    '<script defer data-domain="tandmottagningen.se" '
    'src="https://plausible.example/js/script.js" onload="evil()"></script>\n'
    "<script>window.dataLayer = []; dataLayer.push('https://collect.example');</script>\n"
    '<iframe src="https://evil.example/"></iframe>'
)


def test_the_analytics_script_runs_in_its_sandboxed_frame_only(booking_store: Engine) -> None:
    change_settings(booking_store, analytics_script=SNIPPET)
    other_tenant(booking_store)
    client = tracked_client(booking_store)
    page = client.get("/")
    # The page itself never carries the tenant's script, and its policy stays 'self'.
    assert "plausible" not in page.text and "dataLayer" not in page.text
    assert 'data-frame="/analys"' in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    frame = client.get("/analys")
    html, policy = frame.text, frame.headers["content-security-policy"]
    assert (
        '<script defer data-domain="tandmottagningen.se" '
        'src="https://plausible.example/js/script.js"></script>'
    ) in html
    assert "evil" not in html and "<iframe" not in html  # only scripts, rebuilt
    assert "<script>window.dataLayer = [];" in html
    # An opaque origin even when opened on its own; it may talk to the analytics
    # origins only, never to our site.
    assert policy.startswith("sandbox allow-scripts; default-src 'none';")
    assert "allow-same-origin" not in policy
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert "https://plausible.example" in script_src and "'sha256-" in script_src
    assert "'unsafe-inline'" not in policy
    assert "connect-src https://collect.example https://plausible.example;" in policy
    assert "frame-ancestors 'self'" in policy
    # Not on pages that take personal data, not for DNT, not for another tenant.
    login = client.get("/logga-in")
    assert login.status_code == 200 and "data-frame" not in login.text
    assert "data-frame" not in client.get("/", headers={"dnt": "1"}).text
    other = tracked_client(booking_store, host=f"annanklinik.{BASE_DOMAIN}")
    assert "data-frame" not in other.get("/").text
    assert other.get("/analys").status_code == 404


def test_without_a_script_the_policy_stays_self(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "https:" not in policy
