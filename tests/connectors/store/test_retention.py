"""Retention (connectors.store.retention, flows.retention) on both stores: every rule
applied and nothing else touched, a second run changes nothing, statistics add up the
same after pseudonymisation, a second worker stands aside; and every table with
personal columns has a rule."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, MetaData, select, text

from connectors.store import retention, retention_rules
from connectors.store.models import Base, Booking, StatsBookingDaily
from flows.retention_run import run_retention
from flows.visit_stats import run_days
from tests.connectors.store.retention_world import NOW, TZ, build, check_applied

PERSONAL_LOOKING = re.compile(
    r"(personal_number|first_name|last_name|given_name|surname|\w*email|mobile|phone"
    r"|address\d?|postal_code|city|recipient|payload|message|visitor|client|client_\w+_key"
    r"|row_data|order_ref|browser_hash|salt)"
)
"""Column names that hold (or may hold) data about a person."""

ISSUE_TABLES = {
    "booking", "patient_session", "bankid_order", "outbox_message", "visit_event",
    "opus_appointment",
}  # fmt: skip
"""The tables the issue names (pending address changes are the booking's address,
sent to Opus), and the mirror of Opus appointments: each must lose its data in time."""


def test_every_table_with_personal_columns_has_a_rule() -> None:
    named = {(rule.table, column) for rule in retention_rules.RULES for column in rule.columns}
    missing = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if PERSONAL_LOOKING.fullmatch(column.name)
        and (table.name, column.name) not in named
        and not column.name.endswith(("_id", "_at"))  # keys and times, e.g. opus_patient_id
    ]
    assert missing == [], f"personal columns with no retention rule: {missing}"
    acted_on = {rule.table for rule in retention_rules.RULES if rule.action != "keep"}
    assert acted_on >= ISSUE_TABLES
    # The pseudonymisation writes over exactly the columns its rule names.
    [pseudonymise] = [rule for rule in retention_rules.RULES if rule.action == "pseudonymise"]
    assert set(pseudonymise.columns) <= set(retention.PSEUDONYMISED)


def test_retention_applies_every_rule_and_touches_nothing_else(store: Engine) -> None:
    world = build(store)
    outcome = run_retention(store, NOW, TZ, batch=2)  # small batches: several each
    assert outcome.ran
    check_applied(store, world)
    counts = outcome.counts.rows
    assert counts[("visit_event", "delete")] == 9
    assert counts[("booking", "pseudonymise")] == 3
    assert counts[("booking", "delete expired holds")] == 1
    assert counts[("outbox_message", "clear")] == 3
    assert outcome.waiting_for_write_back == 1  # kept for the write-back, and said so
    # The artifact's rows are counts, never a row's content.
    shown = repr(outcome.table())
    assert "anna" not in shown.lower() and "199001011234" not in shown


def _snapshot(engine: Engine) -> dict[str, list[tuple]]:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            name: sorted(connection.execute(table.select()).all(), key=repr)
            for name, table in metadata.tables.items()
            if name != "alembic_version"
        }


def test_a_second_run_changes_nothing(store: Engine) -> None:
    build(store)
    run_retention(store, NOW, TZ, batch=3)
    before = _snapshot(store)
    again = run_retention(store, NOW + timedelta(minutes=5), TZ, batch=3)
    assert again.ran and sum(again.counts.rows.values()) == 0
    assert _snapshot(store) == before


def _booking_totals(engine: Engine) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(
            select(StatsBookingDaily).order_by(
                StatsBookingDaily.day, StatsBookingDaily.tenant_id, StatsBookingDaily.channel
            )
        ).all()


def test_statistics_add_up_the_same_after_pseudonymisation(store: Engine) -> None:
    build(store)
    with store.connect() as connection:  # the days on which the bookings count
        moments = connection.execute(
            select(Booking.confirmed_at, Booking.cancelled_at, Booking.created_at)
        ).all()
    booking_days = sorted({m.astimezone(TZ).date() for row in moments for m in row if m})

    def make_days() -> None:
        for day in booking_days:
            run_days(store, day, day, TZ)

    make_days()
    before = _booking_totals(store)
    assert sum(row.booked for row in before) >= 5 and any(row.cancelled for row in before)
    outcome = run_retention(store, NOW, TZ)
    assert outcome.counts.rows[("booking", "pseudonymise")] == 3
    make_days()  # the days made again from the pseudonymised rows
    assert _booking_totals(store) == before


def test_a_second_worker_stands_aside_while_one_runs(postgres_store: Engine) -> None:
    build(postgres_store)
    with retention.run_lock(postgres_store) as first:
        assert first
        outcome = run_retention(postgres_store, NOW, TZ)
    assert not outcome.ran and outcome.counts.rows == {}
    with postgres_store.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM visit_event")).scalar() == 18
    assert run_retention(postgres_store, NOW, TZ).ran  # the lock went with its holder


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2026-03-31", 1, "2026-02-28"),
        ("2026-06-15", 24, "2024-06-15"),
        ("2024-02-29", 12, "2023-02-28"),
    ],
)
def test_months_before_keeps_the_day_within_the_month(day, months, expected) -> None:
    earlier = retention_rules.months_before(date.fromisoformat(day), months)
    assert earlier == date.fromisoformat(expected)


def test_a_cleared_failed_message_cannot_be_sent_again(sqlite_store: Engine) -> None:
    from connectors.store import outbox
    from connectors.store.db import session_scope

    world = build(sqlite_store)
    run_retention(sqlite_store, NOW, TZ)
    with session_scope(sqlite_store) as session:  # it has no recipient left
        assert not outbox.retry_message(session, world.a.tenant_id, world.id("msg_failed_old"), NOW)
