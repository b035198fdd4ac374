"""The tenant's first page against a store filled by the real schedule sync.

Expected free times come from the demo's Opus data (local wall-clock times as Opus
keeps them), not from the store, so a page that showed the wrong zone, the wrong
clinic's ranges or later ranges than the next ones would fail here.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from connectors.store.db import session_scope
from connectors.store.models import Clinic, ClinicPractitioner, Practitioner, Tenant
from demo.opus_data import DemoOpus, DemoSpec, generate, write
from demo.store_seed import DEMO_SUBDOMAIN, DEMO_WELCOME, seed_demo_tenant
from tests.booking_app.booking_pages import (
    BASE_DOMAIN,
    change_settings,
    client_for,
    read_page,
)
from tests.helpers import sync_tenant

SV_DAYS = ["mån", "tis", "ons", "tors", "fre", "lör", "sön"]
SV_MONTHS = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DEMO_HEADINGS = [
    ("h1", "Tandmottagningen"),
    ("h2", "Våra kliniker"),
    ("h3", "Uppsala"),
    ("h4", "Tandmottagningen Centrum"),
    ("h4", "Tandmottagningen Gränby"),
    ("h3", "Västerås"),
    ("h4", "Tandmottagningen Stora torget"),
    ("h3", "Ogrupperade kliniker"),
    ("h4", "Tandmottagningen Enköping"),
]


def opus_ranges(demo: DemoOpus, clinic_name: str) -> pd.DataFrame:
    """The clinic's free ranges in Opus, with the practitioner's name and title."""
    clinic_id = demo.clinics.loc[demo.clinics["Name"] == clinic_name, "ClinicID"].item()
    ranges = demo.free_ranges[demo.free_ranges["ClinicID"] == clinic_id]
    merged = ranges.merge(demo.clinicians, on="ClinicianID")
    merged["practitioner"] = merged["FirstName"] + " " + merged["LastName"] + ", " + merged["Title"]
    return merged.sort_values("StartTime")


def swedish_label(start: datetime, end: datetime) -> str:
    return (
        f"{SV_DAYS[start.weekday()]} {start.day} {SV_MONTHS[start.month - 1]} "
        f"{start:%H:%M}–{end:%H:%M}"
    )


def assert_next_free_times(page_times, expected: pd.DataFrame, now_local: datetime) -> None:
    """``page_times`` are the clinic's next (up to 5) ranges of ``expected`` from now on."""
    future = expected[expected["StartTime"] >= now_local]
    assert len(page_times) == min(5, len(future))
    shown = [(t.starts_local.replace(tzinfo=None), t.label, t.practitioner) for t in page_times]
    candidates = {
        (row.StartTime.to_pydatetime(), swedish_label(row.StartTime, row.EndTime), row.practitioner)
        for row in future.itertuples()
    }
    for item in shown:
        assert item in candidates, f"{item} is not a free range of this clinic"
    starts = [s for s, _, _ in shown]
    assert starts == sorted(starts)
    # The earliest ones: every range that starts before the last shown one is shown.
    earlier = {c for c in candidates if c[0] < starts[-1]}
    assert earlier <= set(shown)


def test_front_page_lists_grouped_clinics_with_next_free_times(
    store: Engine, demo_tenant: str, demo: DemoOpus
):
    sync_tenant(store, demo_tenant)
    response = client_for(store).get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = read_page(response.text)
    assert page.html_lang == "sv"
    assert page.headings == DEMO_HEADINGS
    assert DEMO_WELCOME in response.text
    assert page.addresses["Tandmottagningen Enköping"] == "Kungsgatan 20 745 31 Enköping"
    now_local = datetime.now(STOCKHOLM).replace(tzinfo=None)  # the demo starts tomorrow
    for name, times in page.clinics.items():
        assert_next_free_times(times, opus_ranges(demo, name), now_local)
    # Times are shown on the Stockholm clock: <time> carries its offset (+01/+02).
    offsets = {t.starts_local.utcoffset() for ts in page.clinics.values() for t in ts}
    assert offsets <= {timedelta(hours=1), timedelta(hours=2)}


def test_host_match_ignores_case_and_port(synced_store: Engine):
    client = client_for(synced_store, host=f"TandMottagningen.{BASE_DOMAIN.upper()}:8000")
    response = client.get("/")
    assert response.status_code == 200
    assert read_page(response.text).headings == DEMO_HEADINGS


@pytest.mark.parametrize(
    "host",
    [
        f"okand.{BASE_DOMAIN}",  # no such tenant
        BASE_DOMAIN,  # the bare base domain
        f"{DEMO_SUBDOMAIN}.example.com",  # another domain
        f"{DEMO_SUBDOMAIN}.{BASE_DOMAIN}.example.com",
        f"www.{DEMO_SUBDOMAIN}.{BASE_DOMAIN}",
        "testserver",
    ],
)
def test_other_hosts_get_a_swedish_404_page(synced_store: Engine, host: str):
    response = client_for(synced_store, host=host).get("/")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Sidan finns inte" in response.text
    assert "Tandmottagningen Centrum" not in response.text
    assert read_page(response.text).html_lang == "sv"


def test_forwarded_host_is_never_trusted(synced_store: Engine):
    tenant_host = f"{DEMO_SUBDOMAIN}.{BASE_DOMAIN}"
    stranger = client_for(synced_store, host=f"okand.{BASE_DOMAIN}")
    assert stranger.get("/", headers={"X-Forwarded-Host": tenant_host}).status_code == 404
    tenant = client_for(synced_store)
    response = tenant.get("/", headers={"X-Forwarded-Host": f"okand.{BASE_DOMAIN}"})
    assert response.status_code == 200
    assert read_page(response.text).headings == DEMO_HEADINGS


def test_unknown_path_on_a_tenant_host_is_the_404_page(client: TestClient):
    response = client.get("/finns-inte")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.text


def test_api_docs_are_not_served(client: TestClient):
    # Swagger UI would load scripts from a CDN; the patient site has no use for it.
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404


def test_maintenance_mode_closes_the_page_with_503(synced_store: Engine, client: TestClient):
    change_settings(synced_store, maintenance_mode=True)
    response = client.get("/")
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert "Underhåll pågår" in response.text
    assert "Tandmottagningen Centrum" not in response.text
    assert read_page(response.text).clinics == {}
    # The maintenance page keeps the tenant's look, and the health check still answers.
    assert client.get("/theme.css").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}

    change_settings(synced_store, maintenance_mode=False)
    assert client.get("/").status_code == 200


def test_maintenance_page_in_english(synced_store: Engine, client: TestClient):
    change_settings(synced_store, maintenance_mode=True)
    response = client.get("/?lang=en")
    assert response.status_code == 503
    assert "Maintenance in progress" in response.text
    assert read_page(response.text).html_lang == "en"


def test_publishing_off_says_booking_is_closed(synced_store: Engine, client: TestClient):
    change_settings(synced_store, publish_opus_online=False)
    response = client.get("/")
    assert response.status_code == 200
    assert "Onlinebokningen är stängd" in response.text
    page = read_page(response.text)
    assert page.clinics == {}
    assert "Tandmottagningen Centrum" not in response.text


def test_without_any_group_the_clinics_have_no_group_headings(
    synced_store: Engine, client: TestClient
):
    with session_scope(synced_store) as session:
        session.execute(update(Clinic).values(group_name=None))
    page = read_page(client.get("/").text)
    assert page.headings == [
        ("h1", "Tandmottagningen"),
        ("h2", "Våra kliniker"),
        ("h3", "Tandmottagningen Centrum"),
        ("h3", "Tandmottagningen Gränby"),
        ("h3", "Tandmottagningen Stora torget"),
        ("h3", "Tandmottagningen Enköping"),
    ]


def test_display_order_and_clinics_gone_from_opus(synced_store: Engine, client: TestClient):
    with session_scope(synced_store) as session:
        by_name = {c.name: c for c in session.scalars(select(Clinic))}
        by_name["Tandmottagningen Gränby"].display_order = 0  # moved up by the operator
        by_name["Tandmottagningen Stora torget"].in_opus = False  # left Opus
    page = read_page(client.get("/").text)
    assert page.headings == [
        ("h1", "Tandmottagningen"),
        ("h2", "Våra kliniker"),
        ("h3", "Uppsala"),
        ("h4", "Tandmottagningen Gränby"),
        ("h4", "Tandmottagningen Centrum"),
        ("h3", "Ogrupperade kliniker"),
        ("h4", "Tandmottagningen Enköping"),
    ]


def test_a_practitioner_removed_by_the_operator_disappears_before_the_next_sync(
    synced_store: Engine, client: TestClient
):
    enkoping = "Tandmottagningen Enköping"
    before = read_page(client.get("/").text).clinics[enkoping]
    shown = before[0].practitioner.split(",")[0]
    with session_scope(synced_store) as session:
        membership = session.scalars(
            select(ClinicPractitioner)
            .join(Clinic, Clinic.id == ClinicPractitioner.clinic_id)
            .join(Practitioner, Practitioner.id == ClinicPractitioner.practitioner_id)
            .where(
                Clinic.name == enkoping,
                (Practitioner.first_name + " " + Practitioner.last_name) == shown,
            )
        ).one()
        membership.added = False
    after = read_page(client.get("/").text).clinics[enkoping]
    assert len(after) == 5
    assert all(not t.practitioner.startswith(shown + ",") for t in after)


def test_only_ranges_from_now_on_are_shown(synced_store: Engine, demo: DemoOpus):
    # A clock a week into the demo period: the first week's ranges have passed.
    first = demo.free_ranges["StartTime"].min()
    now_local = (first + pd.Timedelta(days=7)).replace(hour=12, minute=0).to_pydatetime()
    now = now_local.replace(tzinfo=STOCKHOLM).astimezone(UTC)
    client = client_for(synced_store, clock=lambda: now)
    page = read_page(client.get("/").text)
    for name, times in page.clinics.items():
        assert times, name
        assert all(t.starts_local >= now for t in times)
        assert_next_free_times(
            times,
            opus_ranges(demo, name),
            now_local,
        )


def test_english_page(client: TestClient):
    response = client.get("/?lang=en")
    page = read_page(response.text)
    assert page.html_lang == "en"
    assert ("h2", "Our clinics") in page.headings
    assert ("h3", "Ungrouped clinics") in page.headings
    assert "Ogrupperade kliniker" not in response.text
    weekdays = {t.label.split()[0] for ts in page.clinics.values() for t in ts}
    assert weekdays and weekdays <= {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
    assert 'href="?lang=sv"' in response.text
    # Nothing is stored: the next request without ?lang= is Swedish again.
    assert read_page(client.get("/").text).html_lang == "sv"


def test_tenant_text_is_escaped(synced_store: Engine, client: TestClient):
    change_settings(synced_store, welcome_text='Hej <script>alert("x")</script> & välkommen')
    with session_scope(synced_store) as session:
        clinic = session.scalars(select(Clinic).where(Clinic.name.like("%Enköping"))).one()
        clinic.name = "<img src=x onerror=alert(1)>"
    text = client.get("/").text
    # The only script tags are the site's own: the visit counter (booking_app/tracking.py)
    # and the widget frame's height report (booking_app/widget.py).
    assert text.count("<script") == text.count('<script src="/static/') == 2
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; välkommen" in text
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def make_second_tenant(tmp_path: Path, engine: Engine, start_day) -> None:
    """Another clinic chain with its own Opus database, clinics and practitioners —
    with the same group name "Uppsala" as the demo, so a leak would land in view."""
    other: DemoOpus = generate(DemoSpec(clinics=2, days=14, start=start_day, seed=11))
    path = tmp_path / "opus-leendet.db"
    connection = sqlite3.connect(path)
    write(other, connection, "sqlite")
    connection.execute("UPDATE OnlineClinic SET Name = 'Leendet ' || ClinicID")
    connection.execute("UPDATE OnlineClinician SET FirstName = 'Zelda', LastName = 'Zorn'")
    connection.commit()
    connection.close()
    with session_scope(engine) as session:
        tenant = seed_demo_tenant(session, other, path, subdomain="leendet")
        tenant.name = "Leendet Tandvård"
        tenant.settings.welcome_text = "Välkommen till Leendet!"
    sync_tenant(engine, "leendet")


def test_a_second_tenants_clinics_never_appear(
    tmp_path: Path, synced_store: Engine, client: TestClient, start_day
):
    make_second_tenant(tmp_path, synced_store, start_day)
    with session_scope(synced_store) as session:
        assert len(session.scalars(select(Tenant)).all()) == 2

    first = client.get("/").text
    assert read_page(first).headings == DEMO_HEADINGS
    assert "Leendet" not in first
    assert "Zelda" not in first

    second = client_for(synced_store, host=f"leendet.{BASE_DOMAIN}").get("/")
    page = read_page(second.text)
    assert page.headings == [
        ("h1", "Leendet Tandvård"),
        ("h2", "Våra kliniker"),
        ("h3", "Uppsala"),
        ("h4", "Leendet UPP1"),
        ("h4", "Leendet UPP2"),
    ]
    practitioners = {t.practitioner for ts in page.clinics.values() for t in ts}
    assert practitioners and all(p.startswith("Zelda Zorn,") for p in practitioners)
    assert "Tandmottagningen" not in second.text
