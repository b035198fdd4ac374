"""The analysts' dashboards: who may see them, the exports of every table, and the
charts drawn in headless Chromium under the site's Content-Security-Policy."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from connectors.store.db import session_scope
from connectors.store.models import VISIT_FUNNEL, Clinic, ClinicPractitioner
from dashboards import data
from flows.visit_stats import run_days
from opus_online.config import Settings
from tests.booking_app.admin.admin_pages import PASSWORD, log_in, operator
from tests.booking_app.booking_pages import client_for, store_url
from tests.dashboards.stats_data import (
    Chain,
    booking,
    events,
    free_range,
    make_chain,
    refill,
    utc,
)
from tests.helpers import app_on_loopback

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
ANALYST = "analytiker@statistik.se"
RANGE = "fran=2025-03-10&till=2025-03-14"


def fill(engine: Engine) -> Chain:
    chain = make_chain(engine)
    rows = []
    for visitor, steps, device, source in (
        (1, ["start", "klinik", "behandling", "behandlare", "tid"], "desktop", "google"),
        (2, [*VISIT_FUNNEL], "mobile", "facebook.com"),
        (3, ["start", "klinik"], "mobile", None),
        (4, ["sida"], "tablet", None),
    ):
        for minute, step in enumerate(steps):
            rows.append((utc(2025, 3, 12, 8, minute), visitor, step, source, device))
    rows.append((utc(2025, 3, 11, 8), 5, "start", None, "desktop"))
    events(engine, chain, rows)
    confirmed = booking(
        engine, chain, utc(2025, 3, 14, 8), campaign_code="VÅR25",
        created_at=utc(2025, 3, 12, 8, 6), confirmed_at=utc(2025, 3, 12, 8, 7),
    )  # fmt: skip
    cancelled = booking(
        engine, chain, utc(2025, 3, 14, 9), channel="boka_vard", status="cancelled",
        created_at=utc(2025, 3, 11, 8), confirmed_at=utc(2025, 3, 11, 8),
        cancelled_at=utc(2025, 3, 12, 10),
    )  # fmt: skip
    free_range(engine, chain, 1, utc(2025, 3, 12, 7), utc(2025, 3, 12, 11))
    earlier = booking(
        engine, chain, utc(2025, 3, 12, 8), minutes=60,
        created_at=utc(2025, 3, 1), confirmed_at=utc(2025, 3, 1),
    )  # fmt: skip
    # The cancelled time, offered from the waiting list 5 s after it freed, taken 7 min on
    # (which bookings stand in for the waiting patient's is all the same to the table).
    refill(engine, chain, cancelled, waiting=earlier, taken=confirmed)
    run_days(engine, date(2025, 3, 10), date(2025, 3, 14), ZoneInfo("Europe/Stockholm"))
    return chain


@pytest.fixture
def stats_store(sqlite_store: Engine) -> tuple[Engine, Chain, Chain]:
    own = fill(sqlite_store)
    other = make_chain(sqlite_store, "annan")
    operator(sqlite_store, ANALYST, {own.tenant_id: "analyst"})
    return sqlite_store, own, other


@pytest.fixture
def analyst(stats_store) -> TestClient:
    client = client_for(stats_store[0])
    assert log_in(client, ANALYST).status_code == 303
    return client


def test_an_analyst_reads_only_their_tenants_statistics(stats_store, analyst) -> None:
    engine, own, other = stats_store
    page = analyst.get(f"/admin/{own.tenant_id}/statistik?{RANGE}")
    assert page.status_code == 200
    for title in ("Bokningstratt", "Besök över tid", "Beläggning per veckodag och timme"):
        assert title in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src")
    assert "'unsafe-eval'" not in page.headers["content-security-policy"]
    assert analyst.get(f"/admin/{other.tenant_id}/statistik").status_code == 404
    assert analyst.get(f"/admin/{other.tenant_id}/statistik/besok.csv").status_code == 404
    assert analyst.get(f"/admin/{own.tenant_id}/statistik/okand.csv").status_code == 404
    stranger = client_for(engine).get(f"/admin/{own.tenant_id}/statistik", follow_redirects=False)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/admin/login"


def test_every_table_exports_as_csv_and_parquet_that_load_back(stats_store, analyst) -> None:
    engine, own, _ = stats_store
    filters = data.Filters(date(2025, 3, 10), date(2025, 3, 14))
    for name, table in data.TABLES.items():
        with session_scope(engine) as session:
            expected = table(session, own.tenant_id, filters)
        assert not expected.empty, name
        csv = analyst.get(f"/admin/{own.tenant_id}/statistik/{name}.csv?{RANGE}")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert f"{name}_2025-03-10_2025-03-14.csv" in csv.headers["content-disposition"]
        from_csv = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
        parquet = analyst.get(f"/admin/{own.tenant_id}/statistik/{name}.parquet?{RANGE}")
        from_parquet = pd.read_parquet(io.BytesIO(parquet.content))
        for loaded in (from_csv, from_parquet):
            assert list(loaded.columns) == list(expected.columns), name
            assert len(loaded) == len(expected), name
        pd.testing.assert_frame_equal(
            from_parquet.astype(str), expected.astype(str), check_dtype=False
        )
    funnel = pd.read_parquet(
        io.BytesIO(analyst.get(f"/admin/{own.tenant_id}/statistik/tratt.parquet?{RANGE}").content)
    ).set_index("steg")
    assert funnel.loc["start", "besokare"] == 5 and funnel.loc["bekraftad", "besokare"] == 1
    assert funnel.loc["klinik", "andel"] == pytest.approx(3 / 5)
    heat = pd.read_csv(
        io.BytesIO(analyst.get(f"/admin/{own.tenant_id}/statistik/belaggning.csv?{RANGE}").content)
    )
    onsdag = heat[heat["veckodag"] == "ons"].set_index("timme")
    assert onsdag.loc[9, "belaggning"] == 1.0 and onsdag.loc[10, "belaggning"] == 0.0
    refills = pd.read_csv(
        io.BytesIO(analyst.get(f"/admin/{own.tenant_id}/statistik/aterbud.csv?{RANGE}").content)
    )
    assert refills.to_dict("records") == [
        {"dag": "2025-03-12", "lediga_tider": 1, "erbjudanden": 1, "aterfyllda": 1,
         "andel_aterfyllda": 1.0, "minuter_till_aterfylld": 7.0}
    ]  # fmt: skip


def test_the_clinic_filter_narrows_booking_figures(stats_store, analyst) -> None:
    engine, own, _ = stats_store
    # A second clinic of the same tenant, with one booking made in the range.
    with session_scope(engine) as session:
        second = Clinic(
            tenant_id=own.tenant_id,
            opus_database_id=own.database_id,
            opus_clinic_id="2",
            name="Söder",
        )
        session.add(second)
        session.flush()
        session.add(
            ClinicPractitioner(
                clinic_id=second.id, practitioner_id=own.practitioner_id, tenant_id=own.tenant_id
            )
        )
        elsewhere = replace(own, clinic_id=second.id)
    booking(
        engine, elsewhere, utc(2025, 3, 13, 8),
        created_at=utc(2025, 3, 12, 9), confirmed_at=utc(2025, 3, 12, 9),
    )  # fmt: skip
    run_days(engine, date(2025, 3, 10), date(2025, 3, 14), ZoneInfo("Europe/Stockholm"))
    base = f"/admin/{own.tenant_id}/statistik/kanaler.csv?{RANGE}"
    every = pd.read_csv(io.BytesIO(analyst.get(base).content))
    mine = pd.read_csv(io.BytesIO(analyst.get(f"{base}&klinik={own.clinic_id}").content))
    theirs = pd.read_csv(io.BytesIO(analyst.get(f"{base}&klinik={elsewhere.clinic_id}").content))
    none = pd.read_csv(io.BytesIO(analyst.get(f"{base}&klinik=999999").content))
    assert every["bokade"].sum() == 3
    assert mine["bokade"].sum() == 2 < every["bokade"].sum()
    assert theirs["bokade"].sum() == 1
    assert none["bokade"].sum() == 3  # an unknown clinic is ignored, not an error


# -- in Chromium -------------------------------------------------------------------------


@pytest.fixture
def served(stats_store) -> Iterator[int]:
    settings = Settings(
        store_url=store_url(stats_store[0]), base_domain="localhost", secret_key="x" * 32
    )
    with app_on_loopback(settings) as port:
        yield port


@pytest.mark.browser
def test_the_dashboard_draws_every_chart_in_chromium(
    chromium, served: int, stats_store, tmp_path: Path
) -> None:
    _, own, _ = stats_store
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    base = f"http://admin.localhost:{served}"  # the operator pages' own origin
    page.goto(f"{base}/admin/login")
    page.fill("input[name=email]", ANALYST)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/admin/{own.tenant_id}/statistik?{RANGE}")
    page.wait_for_selector("body[data-charts=drawn]", timeout=20_000)

    charts = page.locator(".stats-chart")
    assert charts.count() == len(data.TABLES)
    assert page.locator(".stats-chart[data-drawn=yes]").count() == len(data.TABLES)
    assert page.locator(".stats-chart svg").count() == len(data.TABLES)
    # The funnel's bars and the heatmap's cells are really there.
    assert page.locator("#panel-tratt svg .mark-rect path").count() == len(VISIT_FUNNEL)
    assert page.locator("#panel-belaggning svg .mark-rect path").count() >= 4
    # Swedish dates on the Swedish page: 10-14 March 2025 is Monday to Friday.
    days = page.locator("#panel-besok svg .role-axis-label text").all_text_contents()
    assert any(d.startswith(("mån", "tis", "ons", "tor", "fre")) for d in days), days
    assert not any(d.startswith(("Mon", "Tue", "Wed", "Thu", "Fri")) for d in days), days
    assert problems == []  # a CSP violation would be a console error
    # Every chart has an accessible name (its title), for screen readers and axe.
    labels = page.locator(".stats-chart svg").evaluate_all(
        "svgs => svgs.map(s => s.getAttribute('aria-label') || '')"
    )
    assert all(labels), labels
    for folder in (tmp_path, ARTIFACTS):
        folder.mkdir(exist_ok=True)
        page.screenshot(path=folder / "dashboard.png", full_page=True)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
    # A period without data: each panel says so instead of drawing empty axes.
    page.goto(f"{base}/admin/{own.tenant_id}/statistik?fran=2024-01-01&till=2024-01-07")
    page.wait_for_selector("body[data-charts=drawn]", timeout=20_000)
    assert page.locator(".stats-chart").count() == 0
    assert page.get_by_text("Inga data för perioden").count() == len(data.TABLES)
    page.close()
