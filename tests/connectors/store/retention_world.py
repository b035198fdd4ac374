"""A store with something for every retention rule, placed around a fixed ``NOW``:
two tenants, one with the default retention (A) and one with short retention (B),
and for each rule rows that must go and rows that must stay. :func:`check_applied`
says what a finished retention run leaves."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select, update

from connectors.store.db import session_scope
from connectors.store.models import (
    BankIdOrder,
    Booking,
    LoginThrottle,
    OpusAppointment,
    OutboxMessage,
    PatientSession,
    StatsVisitsDaily,
    TenantSettings,
    VisitEvent,
    VisitSalt,
)
from connectors.store.waitlist_models import WaitlistEntry, WaitlistOffer
from tests.dashboards.stats_data import Chain, events, make_chain

TZ = ZoneInfo("Europe/Stockholm")
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PERSONAL_NUMBER = "199001011234"


@dataclass
class World:
    a: Chain
    b: Chain
    ids: dict[str, int]

    def id(self, name: str) -> int:
        return self.ids[name]


def _booking(
    session, chain: Chain, starts: datetime, status: str = "confirmed", **fields
) -> Booking:
    row = Booking(
        reference=uuid.uuid4().hex,
        tenant_id=chain.tenant_id,
        clinic_id=chain.clinic_id,
        practitioner_id=chain.practitioner_id,
        treatment_id=chain.treatment_id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        blocks_from=starts,
        blocks_until=starts + timedelta(minutes=30),
        status=status,
        channel=fields.pop("channel", "site"),
        idempotency_key=str(uuid.uuid4()),
        created_at=fields.pop("created_at", starts - 3 * DAY),
        confirmed_at=fields.pop(
            "confirmed_at", starts - 3 * DAY if status in ("confirmed", "cancelled") else None
        ),
        personal_number=PERSONAL_NUMBER,
        first_name="Anna",
        last_name="Svensson",
        email="anna@example.se",
        mobile="+46701234567",
        address1="Storgatan 1",
        postal_code="11122",
        city="Stockholm",
        message="Ont i en tand",
        campaign_code=fields.pop("campaign_code", "VÅR26"),
        client_address_key="a" * 64,
        client_cookie_key="c" * 64,
        opus_patient_id=77,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def _message(session, chain: Chain, created: datetime, status: str, **fields) -> OutboxMessage:
    row = OutboxMessage(
        tenant_id=chain.tenant_id,
        channel="email",
        kind=fields.pop("kind", "new"),
        recipient="anna@example.se",
        payload=json.dumps({"original_stands": True}),
        status=status,
        created_at=created,
        next_attempt_at=created,
        sent_at=created if status != "pending" else None,
        provider_id="gw-1" if status != "pending" else None,
        **fields,
    )
    session.add(row)
    session.flush()
    return row


def _login(session, chain: Chain, started: datetime, *, session_ends: datetime | None):
    order = BankIdOrder(
        tenant_id=chain.tenant_id,
        browser_hash=uuid.uuid4().hex,
        order_ref=uuid.uuid4().hex,
        auto_start_token="t",
        qr_start_token="q",
        method="qr",
        status="complete" if session_ends else "pending",
        started_at=started,
        ended_at=started + timedelta(minutes=1) if session_ends else None,
    )
    session.add(order)
    session.flush()
    if session_ends is None:
        return order, None
    patient = PatientSession(
        tenant_id=chain.tenant_id,
        token_hash=uuid.uuid4().hex,
        order_id=order.id,
        personal_number=PERSONAL_NUMBER,
        given_name="Anna",
        surname="Svensson",
        created_at=started + timedelta(minutes=1),
        last_seen_at=started + timedelta(minutes=2),
        expires_at=session_ends,
    )
    session.add(patient)
    session.flush()
    return order, patient


def build(engine: Engine) -> World:
    a, b = make_chain(engine, "tandvard-a"), make_chain(engine, "tandvard-b")
    with session_scope(engine) as session:
        session.execute(
            update(TenantSettings)
            .where(TenantSettings.tenant_id == b.tenant_id)
            .values(
                retention_visit_event_days=30,
                retention_booking_months=3,
                retention_message_days=7,
            )
        )
    # Visit events: 500 days old (both go), 100 days (B's go), yesterday (all stay).
    for chain in (a, b):
        rows = []
        for age in (500, 100, 1):
            for i in range(3):
                at = NOW - age * DAY + timedelta(minutes=10 * i)
                rows.append((at, 1000 + i, "start", "google.se", "mobile"))
        events(engine, chain, rows)
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        session.add(VisitSalt(tenant_id=a.tenant_id, day=(NOW - 2 * DAY).date(), salt=b"s" * 32))
        # Bookings past A's 24 months, one of them not yet written back to Opus.
        ids["old"] = _booking(session, a, NOW - 800 * DAY, channel="api").id
        ids["old_cancelled"] = _booking(
            session, a, NOW - 790 * DAY, "cancelled", cancelled_at=NOW - 795 * DAY
        ).id
        ids["old_unwritten"] = _booking(session, a, NOW - 780 * DAY, change_seq=1).id
        ids["recent"] = _booking(session, a, NOW - 30 * DAY).id
        ids["b_old"] = _booking(session, b, NOW - 120 * DAY).id
        ids["b_recent"] = _booking(session, b, NOW - 60 * DAY).id
        # Holds: one lapsed two days ago (with its code message), one an hour ago.
        hold = _booking(
            session, a, NOW + 5 * DAY, "expired", hold_expires_at=NOW - 2 * DAY,
            created_at=NOW - 2 * DAY - timedelta(minutes=15),
        )  # fmt: skip
        ids["expired_hold"] = hold.id
        ids["hold_code"] = _message(
            session, a, NOW - 2 * DAY, "sent", kind="code", booking_id=hold.id
        ).id
        # A time offered from the återbudslista that lapsed two days ago: its offer
        # row refers to it, so it stays (the refill statistics count the offer).
        offered = _booking(
            session, a, NOW + 8 * DAY, "expired", hold_expires_at=NOW - 2 * DAY,
            created_at=NOW - 2 * DAY - timedelta(minutes=15),
        )  # fmt: skip
        entry = WaitlistEntry(
            tenant_id=a.tenant_id,
            booking_id=ids["recent"],
            clinic_id=a.clinic_id,
            treatment_id=a.treatment_id,
        )
        session.add(entry)
        session.flush()
        session.add(
            WaitlistOffer(
                tenant_id=a.tenant_id,
                entry_id=entry.id,
                held_booking_id=offered.id,
                clinic_id=a.clinic_id,
                practitioner_id=a.practitioner_id,
                starts_at=offered.starts_at,
                status="expired",
                expires_at=NOW - 2 * DAY,
            )
        )
        ids["offered_hold"] = offered.id
        ids["fresh_hold"] = _booking(
            session, a, NOW + 6 * DAY, "held", hold_expires_at=NOW - timedelta(hours=1),
            created_at=NOW - timedelta(hours=1, minutes=15),
        ).id  # fmt: skip
        ids["coming"] = _booking(
            session, a, NOW + 7 * DAY, created_at=NOW - 3 * DAY, confirmed_at=NOW - 3 * DAY
        ).id
        # Messages: A keeps 30 days, B 7; a pending one is never cleared.
        ids["msg_old"] = _message(session, a, NOW - 40 * DAY, "delivered").id
        ids["msg_failed_old"] = _message(session, a, NOW - 40 * DAY, "failed").id
        ids["msg_recent"] = _message(session, a, NOW - 10 * DAY, "sent").id
        ids["msg_pending_old"] = _message(session, a, NOW - 40 * DAY, "pending").id
        ids["msg_b"] = _message(session, b, NOW - 10 * DAY, "sent").id
        # Logins: one ended two days ago, one live; an order left pending three days ago.
        order, patient = _login(
            session, a, NOW - 2 * DAY, session_ends=NOW - 2 * DAY + 2 * DAY / 24
        )
        ids["old_order"], ids["old_session"] = order.id, patient.id
        order, patient = _login(
            session, a, NOW - timedelta(minutes=10), session_ends=NOW + timedelta(hours=1)
        )
        ids["live_order"], ids["live_session"] = order.id, patient.id
        ids["lost_order"] = _login(session, a, NOW - 3 * DAY, session_ends=None)[0].id
        # Opus appointments mirrored for Mina bokningar: one past, one coming.
        for name, starts, number in (
            ("opus_past", NOW - 2 * DAY, 1),
            ("opus_coming", NOW + DAY, 2),
        ):
            row = OpusAppointment(
                tenant_id=a.tenant_id, opus_database_id=a.database_id, opus_appointment_id=number,
                personal_number=PERSONAL_NUMBER, starts_at=starts,
                ends_at=starts + timedelta(minutes=30), status="booked", row_version=number,
            )  # fmt: skip
            session.add(row)
            session.flush()
            ids[name] = row.id
        session.add_all(
            [
                LoginThrottle(kind="operator", client="10.0.0.1", window_start=NOW - 2 * DAY),
                LoginThrottle(
                    kind="operator", client="10.0.0.2", window_start=NOW - 300 * DAY / 86400
                ),
            ]
        )
    return World(a, b, ids)


def check_applied(engine: Engine, world: World) -> None:
    """What a finished run leaves: every rule applied, everything else untouched."""
    with session_scope(engine) as session:
        at = session.execute(
            select(VisitEvent.tenant_id, func.count()).group_by(VisitEvent.tenant_id)
        ).all()
        assert dict(at) == {world.a.tenant_id: 6, world.b.tenant_id: 3}
        # The statistics of every day whose events went were made first.
        stats_days = set(session.scalars(select(StatsVisitsDaily.day)))
        assert {
            (NOW - 500 * DAY).astimezone(TZ).date(),
            (NOW - 100 * DAY).astimezone(TZ).date(),
        } <= stats_days
        assert session.scalars(select(VisitSalt)).all() == []

        def booking(name: str) -> Booking | None:
            return session.get(Booking, world.id(name))

        for name in ("old", "old_cancelled", "b_old"):
            row = booking(name)
            assert row.pseudonymised_at == NOW, name
            assert (row.personal_number, row.first_name, row.last_name, row.email) == (None,) * 4
            assert (row.mobile, row.address1, row.postal_code, row.city, row.message) == (None,) * 5
            assert (row.client_address_key, row.client_cookie_key, row.opus_patient_id) == (
                None,
            ) * 3
            assert row.campaign_code == "VÅR26" and row.status in ("confirmed", "cancelled")
        for name in ("old_unwritten", "recent", "b_recent", "coming"):
            row = booking(name)
            assert row.pseudonymised_at is None and row.personal_number == PERSONAL_NUMBER, name
        # Client keys: cleared after two days, kept on the hold of an hour ago.
        assert booking("recent").client_address_key is None
        assert booking("coming").client_address_key is None  # made three days ago
        assert booking("fresh_hold").client_address_key == "a" * 64
        assert booking("expired_hold") is None
        assert booking("offered_hold") is not None  # its lapsed offer refers to it
        assert session.get(OutboxMessage, world.id("hold_code")) is None
        assert booking("fresh_hold").personal_number == PERSONAL_NUMBER

        def message(name: str) -> OutboxMessage:
            return session.get(OutboxMessage, world.id(name))

        for name in ("msg_old", "msg_failed_old", "msg_b"):
            row = message(name)
            assert (row.recipient, row.payload, row.provider_id) == ("", "{}", None), name
            assert row.sent_at is not None and row.kind == "new"
        for name in ("msg_recent", "msg_pending_old"):
            assert message(name).recipient == "anna@example.se", name

        assert session.get(PatientSession, world.id("old_session")) is None
        assert session.get(BankIdOrder, world.id("old_order")) is None
        assert session.get(BankIdOrder, world.id("lost_order")) is None
        assert session.get(PatientSession, world.id("live_session")) is not None
        assert session.get(BankIdOrder, world.id("live_order")) is not None
        assert session.get(OpusAppointment, world.id("opus_past")).personal_number is None
        coming = session.get(OpusAppointment, world.id("opus_coming"))
        assert coming.personal_number == PERSONAL_NUMBER
        assert session.scalars(select(LoginThrottle.client)).all() == ["10.0.0.2"]
