"""The schedule sync's steps end to end: demo Opus (SQLite) → judge → store, on both
stores (the `store` fixture runs each test on SQLite and on PostgreSQL)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select, update

from connectors.store.db import session_scope
from connectors.store.models import (
    Clinic,
    ClinicPractitioner,
    FreeRange,
    Practitioner,
    QuarantinedRow,
    SyncState,
    TenantSettings,
    TreatmentSet,
)
from demo.opus_data import DemoOpus, DemoSpec, generate, write
from demo.store_seed import seed_demo_tenant
from flows.schedule_sync import treatment_set_keys
from tests.helpers import sync_tenant


def published(engine: Engine) -> pd.DataFrame:
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                FreeRange.opus_range_id,
                FreeRange.starts_at,
                FreeRange.ends_at,
                FreeRange.row_version,
            )
        ).all()
    return pd.DataFrame(rows, columns=["id", "starts_at", "ends_at", "row_version"]).set_index("id")


def quarantine(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(QuarantinedRow.stream, QuarantinedRow.source_id, QuarantinedRow.reasons)
        ).all()
    return {f"{stream}:{source}": reasons for stream, source, reasons in rows}


def opus(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def test_full_sync_publishes_every_valid_range_in_utc(store, demo: DemoOpus, demo_tenant: str):
    (counts,) = sync_tenant(store, demo_tenant)

    assert counts.mode == "full"
    assert counts.quarantined == 0
    assert counts.added == len(demo.free_ranges)
    table = published(store)
    first = demo.free_ranges.iloc[0]
    expected_start = (
        pd.Timestamp(first["StartTime"]).tz_localize("Europe/Stockholm").tz_convert("UTC")
    )
    assert pd.Timestamp(table.loc[int(first["FreeRangeID"]), "starts_at"]) == expected_start


def test_treatment_sets_are_shared_and_match_the_links(store, demo: DemoOpus, demo_tenant: str):
    sync_tenant(store, demo_tenant)

    with session_scope(store) as session:
        sets = dict(session.execute(select(TreatmentSet.id, TreatmentSet.opus_treatment_ids)).all())
        by_range = dict(
            session.execute(select(FreeRange.opus_range_id, FreeRange.treatment_set_id)).all()
        )
    links = demo.free_range_treatments.groupby("FreeRangeID")["TreatmentID"].apply(
        lambda t: ",".join(map(str, sorted(t)))
    )
    assert len(sets) < 10  # a handful of distinct sets for hundreds of ranges
    assert all(sets[by_range[rid]] == key for rid, key in links.items())


def test_second_run_is_incremental_and_changes_nothing(store, demo_tenant: str):
    sync_tenant(store, demo_tenant)
    before = published(store)

    (counts,) = sync_tenant(store, demo_tenant)

    assert counts.mode == "incremental"
    assert (counts.extracted, counts.added, counts.changed, counts.removed) == (0, 0, 0, 0)
    pd.testing.assert_frame_equal(published(store).sort_index(), before.sort_index())


def test_incremental_sync_applies_changes_and_removals(store, demo_tenant: str, opus_sqlite: Path):
    sync_tenant(store, demo_tenant)
    with opus(opus_sqlite) as connection:
        connection.execute(
            "UPDATE OnlineFreeRange SET EndTime = datetime(EndTime, '-30 minutes') "
            "WHERE FreeRangeID IN (3, 4)"
        )
        connection.execute("DELETE FROM OnlineFreeRange WHERE FreeRangeID IN (5, 6, 7)")
        new_end = connection.execute(
            "SELECT EndTime FROM OnlineFreeRange WHERE FreeRangeID = 3"
        ).fetchone()[0]

    (counts,) = sync_tenant(store, demo_tenant)

    assert counts.mode == "incremental"
    assert (counts.extracted, counts.changed, counts.removed, counts.added) == (2, 2, 3, 0)
    table = published(store)
    assert not {5, 6, 7} & set(table.index)
    expected_end = pd.Timestamp(new_end).tz_localize("Europe/Stockholm").tz_convert("UTC")
    assert pd.Timestamp(table.loc[3, "ends_at"]) == expected_end


def test_removals_arrive_through_opus_deletion_log_without_comparing_ids(
    store, demo_tenant, opus_sqlite
):
    sync_tenant(store, demo_tenant)  # the first run compares ids; the next within the hour not
    with opus(opus_sqlite) as connection:
        connection.execute("DELETE FROM OnlineFreeRange WHERE FreeRangeID IN (5, 6)")

    (counts,) = sync_tenant(store, demo_tenant)

    assert (counts.mode, counts.removed, counts.count_mismatch) == ("incremental", 2, False)
    with session_scope(store) as session:
        assert session.scalars(select(SyncState)).one().ids_compared_at is not None
    assert not {5, 6} & set(published(store).index)


def test_a_removal_missing_from_the_deletion_log_is_found_by_the_count_then_the_ids(
    store, demo_tenant, opus_sqlite
):
    sync_tenant(store, demo_tenant)
    with opus(opus_sqlite) as connection:  # a site whose deletion log misses a removal
        connection.execute("DELETE FROM OnlineFreeRange WHERE FreeRangeID = 5")
        connection.execute("DELETE FROM OnlineFreeRangeDeleted WHERE FreeRangeID = 5")

    (noticed,) = sync_tenant(store, demo_tenant)
    assert (noticed.removed, noticed.count_mismatch) == (0, True)
    assert 5 in published(store).index

    (corrected,) = sync_tenant(store, demo_tenant)
    assert (corrected.removed, corrected.count_mismatch) == (1, False)
    assert 5 not in published(store).index


def test_a_range_changed_into_an_overlap_is_withdrawn_and_quarantined(
    store, demo_tenant, opus_sqlite
):
    sync_tenant(store, demo_tenant)
    with opus(opus_sqlite) as connection:
        clinician, start, end = connection.execute(
            "SELECT ClinicianID, StartTime, EndTime FROM OnlineFreeRange WHERE FreeRangeID = 1"
        ).fetchone()
        other = connection.execute(
            "SELECT FreeRangeID FROM OnlineFreeRange WHERE ClinicianID = ? AND FreeRangeID <> 1 "
            "ORDER BY StartTime LIMIT 1",
            (clinician,),
        ).fetchone()[0]
        connection.execute(
            "UPDATE OnlineFreeRange SET StartTime = ?, EndTime = ? WHERE FreeRangeID = ?",
            (start, end, other),
        )

    (counts,) = sync_tenant(store, demo_tenant)

    assert counts.reasons == {"overlaps": 1}
    assert other not in published(store).index
    assert 1 in published(store).index  # the range already published stays
    assert quarantine(store) == {f"free_range:{other}": "overlaps"}


def test_a_new_range_inside_a_long_published_one_is_caught(store, demo_tenant, opus_sqlite):
    with opus(opus_sqlite) as connection:  # a whole day, published on the first run
        (after_the_demo,) = connection.execute(
            "SELECT date(MAX(StartTime), '+1 day') FROM OnlineFreeRange"
        ).fetchone()
        day = f"'{after_the_demo}'"
        connection.execute(
            "INSERT INTO OnlineFreeRange (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime) "
            f"VALUES (7001, 'UPP1', 1, datetime({day}, '+7 hours'), datetime({day}, '+18 hours'))"
        )
        connection.execute("INSERT INTO OnlineFreeRangeTreatment VALUES (7001, 1)")
    sync_tenant(store, demo_tenant)
    assert 7001 in published(store).index
    with opus(opus_sqlite) as connection:  # late in that day, long after it started
        connection.execute(
            "INSERT INTO OnlineFreeRange (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime) "
            f"VALUES (7002, 'UPP1', 1, datetime({day}, '+16 hours'), datetime({day}, '+17 hours'))"
        )
        connection.execute("INSERT INTO OnlineFreeRangeTreatment VALUES (7002, 1)")

    (counts,) = sync_tenant(store, demo_tenant)

    assert counts.mode == "incremental"
    assert counts.reasons == {"overlaps": 1}
    assert 7002 not in published(store).index


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_published(store, tmp_path, start_day):
    demo = generate(DemoSpec(start=start_day, days=14, bad_rows=True))
    path = tmp_path / "bad.db"
    with opus(path) as connection:
        write(demo, connection, "sqlite")
    with session_scope(store) as session:
        subdomain = seed_demo_tenant(session, demo, path).subdomain

    (counts,) = sync_tenant(store, subdomain)

    entries = quarantine(store)
    range_reasons = sorted(r for key, r in entries.items() if key.startswith("free_range:"))
    assert range_reasons == sorted(
        [
            "clinician_missing",
            "end_before_start",
            "overlaps",
            "overlaps",
            "clinician_unknown",
            "practitioner_not_added",
            "treatment_unknown",
            "no_treatments",
            "clinic_unknown",
        ]
    )
    assert "treatment:99" in entries and "duration_invalid" in entries["treatment:99"]
    assert counts.quarantined == len(range_reasons)
    assert counts.added == len(demo.free_ranges) - len(range_reasons)
    assert not set(published(store).index) & {
        int(k.split(":")[1]) for k in entries if k.startswith("free_range:")
    }


def test_a_fixed_row_leaves_the_quarantine_and_is_published(store, demo_tenant, opus_sqlite):
    with opus(opus_sqlite) as connection:
        connection.execute("UPDATE OnlineFreeRange SET ClinicianID = NULL WHERE FreeRangeID = 9")
    sync_tenant(store, demo_tenant)
    assert quarantine(store) == {"free_range:9": "clinician_missing"}

    with opus(opus_sqlite) as connection:
        connection.execute("UPDATE OnlineFreeRange SET ClinicianID = 1 WHERE FreeRangeID = 9")
    (counts,) = sync_tenant(store, demo_tenant)

    assert counts.mode == "incremental"
    assert quarantine(store) == {}
    assert 9 in published(store).index


def test_adding_a_practitioner_publishes_their_ranges_on_the_next_run(store, demo_tenant, demo):
    clinician = int(demo.free_ranges["ClinicianID"].iloc[0])
    with session_scope(store) as session:
        practitioner_id = session.scalar(
            select(Practitioner.id).where(Practitioner.opus_clinician_id == clinician)
        )
        session.execute(
            update(ClinicPractitioner)
            .where(ClinicPractitioner.practitioner_id == practitioner_id)
            .values(added=False)
        )
    (first,) = sync_tenant(store, demo_tenant)
    theirs = int((demo.free_ranges["ClinicianID"] == clinician).sum())
    assert first.reasons == {"practitioner_not_added": theirs}

    with session_scope(store) as session:  # the operator clicks *Lägg till*
        session.execute(
            update(ClinicPractitioner)
            .where(ClinicPractitioner.practitioner_id == practitioner_id)
            .values(added=True)
        )
    (second,) = sync_tenant(store, demo_tenant)

    assert second.mode == "full"  # what decides validity changed: judge everything again
    assert second.added == theirs
    assert quarantine(store) == {}


def test_the_moving_window_publishes_new_days_and_drops_past_ones(store, tmp_path, start_day):
    demo = generate(DemoSpec(start=start_day, days=62))
    path = tmp_path / "long.db"
    with opus(path) as connection:
        write(demo, connection, "sqlite")
    with session_scope(store) as session:
        subdomain = seed_demo_tenant(session, demo, path).subdomain
        session.execute(update(TenantSettings).values(months_to_sync=1))
    today = datetime.now(UTC)
    sync_tenant(store, subdomain, now=today)
    week_later = today + timedelta(days=7)

    (counts,) = sync_tenant(store, subdomain, now=week_later)

    local = lambda moment: moment.astimezone(ZoneInfo("Europe/Stockholm")).replace(tzinfo=None)  # noqa: E731
    starts, ends = demo.free_ranges["StartTime"], demo.free_ranges["EndTime"]
    window_end_then = pd.Timestamp(local(today)) + pd.DateOffset(months=1)
    window_end_now = pd.Timestamp(local(week_later)) + pd.DateOffset(months=1)
    entered = ((starts >= window_end_then) & (starts < window_end_now)).sum()
    # The window starts at midnight: ranges that ended before today leave.
    midnight = local(week_later).replace(hour=0, minute=0, second=0, microsecond=0)
    expired = ((ends <= midnight) & (starts < window_end_then)).sum()
    assert counts.mode == "incremental"
    assert entered > 0 and expired > 0
    assert (counts.added, counts.removed, counts.changed) == (entered, expired, 0)


def test_clinic_gone_from_opus_is_hidden_not_deleted(store, demo_tenant, opus_sqlite):
    sync_tenant(store, demo_tenant)
    with opus(opus_sqlite) as connection:
        connection.execute("DELETE FROM OnlineFreeRange WHERE ClinicID = 'ENK1'")
        connection.execute("DELETE FROM OnlineClinicianClinic WHERE ClinicID = 'ENK1'")
        connection.execute("DELETE FROM OnlineClinic WHERE ClinicID = 'ENK1'")

    sync_tenant(store, demo_tenant)

    with session_scope(store) as session:
        clinic = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == "ENK1")).one()
        assert clinic.in_opus is False
        assert clinic.display_order == 4  # the operator's settings survive
        left = session.scalar(
            select(func.count()).select_from(FreeRange).where(FreeRange.clinic_id == clinic.id)
        )
    assert left == 0


def test_opus_edits_to_reference_data_are_written_and_a_clinic_that_returns_is_shown(
    store, demo_tenant, opus_sqlite
):
    """The reference upsert writes Opus's changed fields, keeps the operator's, and
    marks a returning clinic and its memberships in Opus again."""
    sync_tenant(store, demo_tenant)
    with session_scope(store) as session:
        session.execute(
            update(Clinic).where(Clinic.opus_clinic_id == "ENK1").values(group_name="Norr")
        )
    with opus(opus_sqlite) as connection:
        saved = connection.execute("SELECT * FROM OnlineClinic WHERE ClinicID = 'ENK1'").fetchone()
        links = connection.execute(
            "SELECT * FROM OnlineClinicianClinic WHERE ClinicID = 'ENK1'"
        ).fetchall()
        connection.execute("DELETE FROM OnlineClinicianClinic WHERE ClinicID = 'ENK1'")
        connection.execute("DELETE FROM OnlineClinic WHERE ClinicID = 'ENK1'")
    sync_tenant(store, demo_tenant)
    with opus(opus_sqlite) as connection:
        connection.execute(
            f"INSERT INTO OnlineClinic VALUES ({', '.join('?' * len(saved))})", saved
        )
        connection.executemany("INSERT INTO OnlineClinicianClinic VALUES (?, ?)", links)
        connection.execute("UPDATE OnlineClinic SET City = 'Kiruna' WHERE ClinicID = 'ENK1'")
        connection.execute("UPDATE OnlineClinician SET Title = 'Tandhygienist'")

    (counts,) = sync_tenant(store, demo_tenant)

    assert counts.mode == "full"
    with session_scope(store) as session:
        clinic = session.scalars(select(Clinic).where(Clinic.opus_clinic_id == "ENK1")).one()
        assert (clinic.in_opus, clinic.city, clinic.group_name) == (True, "Kiruna", "Norr")
        assert {p.in_opus for p in clinic.practitioners} == {True}
        assert len(clinic.practitioners) == len(links)
        assert set(session.scalars(select(Practitioner.title))) == {"Tandhygienist"}


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ([(1, 3), (1, 1), (2, 1), (2, 3), (3, 2)], ["1,3", "1,3", "2", None]),
        ([], [None, None, None, None]),
        # a link listed twice counts once; a link of a range not asked about is ignored
        ([(1, 3), (1, 3), (2, 3), (9, 1), (4, 70), (4, 5), (3, 70)], ["3", "3", "70", "5,70"]),
        # more than 64 distinct treatments: the bit masks take a second word
        (
            [(r, t) for r in (1, 3) for t in range(1, 71)] + [(2, 70)],
            [",".join(map(str, range(1, 71))), "70", ",".join(map(str, range(1, 71))), None],
        ),
    ],
)
def test_treatment_set_keys(links, expected):
    frame = pd.DataFrame(links, columns=["FreeRangeID", "TreatmentID"], dtype="int64")
    ranges = pd.Series([1, 2, 3, 4], index=[10, 11, 12, 13])

    keys = treatment_set_keys(ranges, frame)

    assert list(keys.index) == [10, 11, 12, 13]
    assert [None if pd.isna(k) else k for k in keys] == expected
