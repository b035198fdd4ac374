"""The time step page kept rendered (booking_app.page_cache): given again only while
it is right (a hold, an operator's change, the clock passing a start and a hold's
expiry end it), and never with another browser's CSRF token or a logged-in patient's
header."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from booking_app.flow import format_at
from booking_app.main import create_app
from booking_app.page_cache import PageCache
from booking_app.patients import LOGOUT_PATH, LoggedInPatient
from connectors.store.availability import STOCKHOLM
from connectors.store.bookings import hold
from connectors.store.db import session_scope
from connectors.store.models import Clinic, Practitioner, Tenant
from connectors.store.snapshot import GRID_ORIGIN
from opus_online.config import Settings
from tests.booking_app.booking_pages import BASE_DOMAIN, SECRET, TENANT_HOST, store_url
from tests.booking_app.login_steps import Clock
from tests.helpers import first_slots, request_for

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock() -> Clock:
    # Half a minute in: a page made on the minute itself is not kept.
    return Clock(datetime.now(UTC).replace(second=30, microsecond=0))


@pytest.fixture
def site(booking_store: Engine, clock: Clock):
    """The app reading its snapshots ahead (as in production), polled only when the
    test says (``refresh``), on ``clock``."""
    settings = Settings(
        store_url=store_url(booking_store),
        base_domain=BASE_DOMAIN,
        secret_key=SECRET,
        availability_poll_s=3600,
        snapshot_preload="*",
    )
    app = create_app(settings, clock=clock)

    @app.middleware("http")
    async def logged_in(request, call_next):  # a patient, as the login would set one
        if request.headers.get("x-test-patient"):
            request.state.patient = LoggedInPatient("191212121212", "Tolvan", "Tolvansson")
        return await call_next(request)

    with TestClient(app, base_url=f"http://{TENANT_HOST}") as client:
        deadline = time.monotonic() + 60
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready"
            time.sleep(0.05)
        yield client


def warm(site: TestClient, path: str) -> None:
    """The tenant's row and its lookups read into memory (by a first page, in a worker
    thread): from then on the pages are answered from memory and kept."""
    page(site, path)
    page(site, path)
    site.app.state.page_cache = PageCache()  # counted from here


@pytest.fixture
def shown(booking_store: Engine):
    """A time step page's path and a time it offers."""
    with session_scope(booking_store) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        slot = slots[0]
        day = slot.starts_at.astimezone(STOCKHOLM).date()
        path = (
            f"/boka?clinic={clinic.id}&treatment={treatment.id}"
            f"&practitioner={slot.practitioner_id}&week={day - timedelta(days=day.weekday())}"
        )
        return path, slot, request_for(tenant, clinic, treatment, slot)


def as_browser(client: TestClient, browser: str) -> None:
    client.cookies.clear()
    client.cookies.set("opus_browser", browser * 43)


def button(slot) -> str:
    return f'value="{slot.clinic_id}|{format_at(slot.starts_at)}"'


def page(client: TestClient, path: str, browser: str = "A", **headers: str) -> str:
    as_browser(client, browser)
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.text


def test_a_kept_page_ends_with_a_hold_and_with_the_hold_expiring(site, booking_store, clock, shown):
    path, slot, asked = shown
    warm(site, path)
    cache = site.app.state.page_cache
    first = page(site, path)
    assert button(slot) in first
    assert page(site, path) == first and cache.hits == 1  # the same browser: all the same

    # Held through another process (or the store) for ten seconds: once this process
    # has read the new bookings the page no longer offers the time.
    with session_scope(booking_store) as session:
        hold(session, asked, clock(), lasts=timedelta(seconds=10))
    assert button(slot) in page(site, path)  # not read yet: the snapshot decides
    site.app.state.availability.refresh()
    held = page(site, path)
    assert button(slot) not in held
    clock.advance(seconds=5)
    assert page(site, path) == held  # within the minute, the hold still holding: kept
    hits = cache.hits
    clock.advance(seconds=6)  # the same minute, the hold expired: the time is free again
    assert button(slot) in page(site, path)
    assert cache.hits == hits


def on_grid_plus_30_s(store: Engine, clock: Clock) -> int:
    """Sets the clock half a minute past a point of the tenant's common grid, and gives
    the grid in seconds: the notice passes the next start (and the horizon reaches
    one) a grid step less half a minute on."""
    with session_scope(store) as session:
        tenant = session.scalars(select(Tenant)).one()
        grids = session.scalars(
            select(Clinic.time_grid_minutes).where(Clinic.tenant_id == tenant.id)
        )
        grid_s = math.gcd(*grids) * 60
        assert tenant.settings.min_notice_minutes * 60 % grid_s == 0  # the demo's 120 on 15
    seconds = int(clock.now.timestamp())
    clock.now = datetime.fromtimestamp(
        seconds - (seconds - GRID_ORIGIN) % grid_s + grid_s + 30, UTC
    )
    return grid_s


def this_weeks(path: str, clock: Clock) -> str:
    """``path`` for the week of the clock's day (whose times the notice passes)."""
    week = date.fromisoformat(path.rsplit("week=", 1)[1])
    today = clock.now.astimezone(STOCKHOLM).date()
    return path.replace(f"week={week}", f"week={today - timedelta(days=today.weekday())}")


def test_a_kept_page_lasts_while_the_clock_changes_nothing_on_it(site, booking_store, clock, shown):
    grid_s = on_grid_plus_30_s(booking_store, clock)
    path = this_weeks(shown[0], clock)
    warm(site, path)
    cache = site.app.state.page_cache
    made = page(site, path)
    clock.advance(seconds=grid_s - 31)  # minutes later: the notice has passed no start yet
    assert page(site, path) == made and cache.hits == 1
    site.app.state.page_cache = PageCache()  # and it is the page that would be made now
    assert page(site, path) == made
    clock.advance(seconds=1)  # the notice passes the next start: made again
    hits = site.app.state.page_cache.hits
    page(site, path)
    assert site.app.state.page_cache.hits == hits


def test_a_kept_page_of_a_later_week_outlasts_the_notice_passing_todays_starts(
    site, booking_store, clock, shown
):
    path, _, _ = shown
    week = date.fromisoformat(path.rsplit("week=", 1)[1])
    later = path.replace(f"week={week}", f"week={week + timedelta(weeks=6)}")
    grid_s = on_grid_plus_30_s(booking_store, clock)
    warm(site, later)
    made = page(site, later)
    clock.advance(seconds=3 * grid_s)  # three starts of today's have passed the notice
    assert page(site, later) == made and site.app.state.page_cache.hits == 1
    site.app.state.page_cache = PageCache()  # and it is the page that would be made now
    assert page(site, later) == made


def test_a_kept_page_ends_with_an_operators_change(site, booking_store, clock, shown):
    path, slot, _ = shown
    warm(site, path)
    cache = site.app.state.page_cache
    page(site, path)
    with session_scope(booking_store) as session:
        session.get(Practitioner, slot.practitioner_id).last_name = "Nyttnamn"
    site.app.state.availability.refresh()
    assert "Nyttnamn" in page(site, path)
    assert cache.hits == 0


def test_a_kept_page_has_each_browsers_own_token_and_no_patients_header(site, shown):
    path, _, _ = shown
    warm(site, path)
    cache = site.app.state.page_cache
    mine, theirs = page(site, path, "A"), page(site, path, "B")
    assert cache.hits == 1
    assert TOKEN.findall(mine) and TOKEN.findall(theirs)
    assert set(TOKEN.findall(mine)).isdisjoint(TOKEN.findall(theirs))
    # Each token is its browser's: the hold form accepts it from that browser only.
    hold_path = path.replace("/boka?", "/boka/tid?")
    form = {"csrf_token": TOKEN.findall(theirs)[0], "slot": "0|2000-01-01T00:00Z"}
    as_browser(site, "A")
    refused = site.post(hold_path, data=form)
    assert refused.status_code == 403
    as_browser(site, "B")
    accepted = site.post(hold_path, data=form)
    assert accepted.status_code == 404  # past the token: the made-up time is unknown

    # A browser without an id gets one with the page, and a token for it.
    site.cookies.clear()
    new = site.get(path)
    assert "opus_browser=" in new.headers["set-cookie"]
    assert TOKEN.findall(new.text)[0] not in (TOKEN.findall(mine)[0], TOKEN.findall(theirs)[0])

    # A logged-in patient's page is made for them, never kept or given from memory.
    hits = cache.hits
    assert LOGOUT_PATH in page(site, path, "C", **{"x-test-patient": "1"})
    assert cache.hits == hits
    assert LOGOUT_PATH not in page(site, path, "D")
    assert cache.hits == hits + 1


def test_only_the_sites_own_link_is_kept_not_its_variants(site, shown):
    path, slot, _ = shown
    warm(site, path)
    cache = site.app.state.page_cache
    tagged = path + "&utm_source=nyhetsbrev"
    for _ in range(3):  # the same page, asked with a campaign tag: made each time
        assert button(slot) in page(site, tagged)
    assert cache.hits == 0 and cache.bytes == 0
    page(site, path)
    page(site, path)
    assert cache.hits == 1  # the site's own link is kept as before
