"""A patient's export and erasure in the store, on both stores: the export holds the
patient's rows of every patient table and nobody else's; erasure leaves nothing of
the patient's personal data, touches no other patient (not one with the same name,
e-mail and phone), keeps every statistic as it was, refuses while the patient's data
is still needed, and is audited with a keyed hash, never the number."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from connectors.store import bookings, patient_data, patient_erasure
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import (
    AuditEntry,
    BankIdOrder,
    Booking,
    Operator,
    OutboxMessage,
    PatientSession,
    Tenant,
)
from connectors.store.operators import create_operator
from connectors.store.personal_data import PATIENT_TABLES
from connectors.store.waitlist_models import WaitlistEntry
from flows.visit_stats import TABLES as STATS_TABLES
from flows.visit_stats import run_days
from tests.helpers import first_slots, request_for
from tests.patients import (
    NAMESAKE,
    TOLVAN,
    every_text_value,
    login,
    make_patients,
    now,
    rows_of,
)

SECRET = b"test-secret"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def patients(synced: Engine):
    return make_patients(synced, TOLVAN, NAMESAKE)


def _tenant(session) -> Tenant:
    return session.scalars(select(Tenant).order_by(Tenant.id)).first()


def test_the_export_holds_every_patient_table_and_only_the_patients_rows(synced, patients):
    with session_scope(synced) as session:
        document = patient_data.export(session, _tenant(session), TOLVAN, now())
    text = json.dumps(document, ensure_ascii=False)  # it is one JSON document

    tables = document["tables"]
    assert set(tables) == {t.name for t in PATIENT_TABLES}
    assert all(tables[t.name] for t in PATIENT_TABLES), {k: len(v) for k, v in tables.items()}
    assert {b["id"] for b in tables["booking"]} == set(patients[TOLVAN].booking_ids)
    assert {b["personal_number"] for b in tables["booking"]} == {TOLVAN}
    assert [s["personal_number"] for s in tables["patient_session"]] == [TOLVAN]
    assert [a["personal_number"] for a in tables["opus_appointment"]] == [TOLVAN]
    assert {m["booking_id"] for m in tables["outbox_message"]} <= set(patients[TOLVAN].booking_ids)
    # Names the patient knows, and none of our secrets.
    assert tables["booking"][0]["clinic"] and tables["booking"][0]["treatment"]
    assert "code_hash" not in tables["booking"][0]
    assert "token_hash" not in tables["patient_session"][0]
    assert "qr_start_secret" not in tables["bankid_order"][0]
    # The namesake (same name, e-mail and phone) is not in it.
    assert NAMESAKE not in text
    assert "Ring mig, 9876" not in text


def _erase(engine: Engine, number: str) -> dict[str, int]:
    with write_session_scope(engine) as session:
        return patient_erasure.erase(session, _tenant(session).id, number, now())


def test_erasure_leaves_no_personal_data_and_the_namesake_untouched(synced, patients):
    namesake_before = rows_of(synced, patients[NAMESAKE])
    with session_scope(synced) as session:
        namesake_export = patient_data.export(session, _tenant(session), NAMESAKE, now())

    done = _erase(synced, TOLVAN)

    assert done["booking"] == 2 and done["patient_session"] == 1 and done["bankid_order"] == 1
    assert done["opus_appointment"] == 1 and done["outbox_message"] >= 2
    assert done["marketplace_appointment"] == 1  # kept: nothing personal in it
    assert done["reminder"] == 1  # deleted: an erased patient is reminded of nothing
    assert done["waitlist_entry"] == 1 and done["waitlist_offer"] == 1  # kept, ended:
    with session_scope(synced) as session:
        statuses = session.execute(select(WaitlistEntry.booking_id, WaitlistEntry.status)).all()
    assert {(b, s) for b, s in statuses if b in patients[TOLVAN].booking_ids} == {
        (patients[TOLVAN].booking_ids[0], "left")
    }
    assert (patients[NAMESAKE].booking_ids[0], "active") in statuses
    everything = every_text_value(synced)
    assert TOLVAN not in everything
    assert "Ring mig, 1212" not in everything
    erased = rows_of(synced, patients[TOLVAN])
    for booking in erased["booking"]:
        for column in ("personal_number", "first_name", "email", "mobile", "address1", "message"):
            assert booking[column] is None
        assert booking["opus_patient_id"] is None and booking["client_address_key"] is None
    assert {b["status"] for b in erased["booking"]} == {"confirmed", "cancelled"}
    for message in erased["outbox_message"]:
        assert (message["recipient"], message["payload"], message["provider_id"]) == (
            "",
            "{}",
            None,
        )
        assert message["status"] in ("sent", "failed")  # the unsent ones given up
    with session_scope(synced) as session:
        assert patient_data.counts(session, _tenant(session).id, TOLVAN) == {
            t.name: 0 for t in PATIENT_TABLES
        }
        assert session.scalars(select(PatientSession.personal_number)).all() == [NAMESAKE]
        # The namesake's data is exactly as it was, and still theirs.
        assert rows_of(synced, patients[NAMESAKE]) == namesake_before
        again = patient_data.export(session, _tenant(session), NAMESAKE, now())
    assert again["tables"] == namesake_export["tables"]


def _statistics(engine: Engine) -> dict[str, list]:
    with session_scope(engine) as session:
        return {
            name: sorted(
                tuple(getattr(row, c.key) for c in model.__table__.columns)
                for row in session.scalars(select(model))
            )
            for name, model in STATS_TABLES.items()
        }


def test_statistics_are_the_same_before_and_after_erasure(synced, patients):
    today = now().astimezone(STOCKHOLM).date()
    last = today + timedelta(days=16)  # the appointments' days too (utilisation)
    run_days(synced, today, last, STOCKHOLM)
    before = _statistics(synced)
    assert before["bookings"] and before["campaigns"]  # there is something to compare

    _erase(synced, TOLVAN)
    run_days(synced, today, last, STOCKHOLM)

    assert _statistics(synced) == before


def test_erasure_waits_for_a_live_hold_and_for_write_back(synced, patients):
    with session_scope(synced) as session:
        tenant, clinic, treatment, slots = first_slots(session)
        booked = {b.starts_at for b in session.scalars(select(Booking))}
        free = [s for s in slots if s.starts_at not in booked][-1]
        held = bookings.hold(session, request_for(tenant, clinic, treatment, free), now())
        held.personal_number = TOLVAN
        held_id = held.id
    with pytest.raises(patient_erasure.ErasureBlocked) as blocked:
        _erase(synced, TOLVAN)
    assert blocked.value.blockers == ("hold_in_progress",)

    with session_scope(synced) as session:
        held = session.get(Booking, held_id)
        held.first_name = "Tolvan"
        bookings.confirm(session, held, now())  # write-back is now due
    with pytest.raises(patient_erasure.ErasureBlocked) as blocked:
        _erase(synced, TOLVAN)
    assert blocked.value.blockers == ("write_back_pending",)
    with session_scope(synced) as session:
        # Nothing was changed by the refusals.
        assert patient_data.counts(session, _tenant(session).id, TOLVAN)["booking"] == 3
        preview = patient_erasure.preview(session, _tenant(session).id, TOLVAN, now())
    assert preview.coming == 2 and preview.unsent >= 1
    assert [(o.patient_ids, o.written_appointments) for o in preview.in_opus] == [((8212,), 2)]


def test_the_audit_names_the_patient_by_a_keyed_hash_and_limits_lookups(synced, patients):
    with session_scope(synced) as session:
        tenant_id = _tenant(session).id
        operator = create_operator(session, "dso@klinik.se", "ett-långt-lösenord")
        actor = patient_data.Actor.of(operator)
    subject = patient_data.subject_key(SECRET, tenant_id, TOLVAN)
    assert subject == patient_data.subject_key(SECRET, tenant_id, TOLVAN)
    assert subject != patient_data.subject_key(SECRET, tenant_id, NAMESAKE)
    assert subject != patient_data.subject_key(b"another secret", tenant_id, TOLVAN)
    assert subject != patient_data.subject_key(SECRET, tenant_id + 1, TOLVAN)

    for _ in range(patient_data.LOOKUPS_PER_HOUR):
        with write_session_scope(synced) as session:
            patient_data.check_rate(session, actor, now())
            patient_data.record(
                session,
                tenant_id=tenant_id,
                actor=actor,
                action="patient.export",
                subject=subject,
                outcome="booking 2",
                now=now(),
            )
    with write_session_scope(synced) as session, pytest.raises(patient_data.TooManyLookups):
        patient_data.check_rate(session, actor, now())
    with write_session_scope(synced) as session:  # an hour later it is allowed again
        patient_data.check_rate(session, actor, now() + timedelta(hours=1, seconds=1))
        entries = session.scalars(select(AuditEntry)).all()
        assert session.get(Operator, actor.operator_id) is not None
    assert {e.setting for e in entries} == {"patient.export"}
    assert all(TOLVAN not in (e.new_value or "") and subject in e.new_value for e in entries)


def test_the_sessions_orders_and_messages_of_erasure_are_the_patients_only(synced, patients):
    with session_scope(synced) as session:
        orders_before = session.scalars(select(BankIdOrder.id)).all()
        messages_before = sorted(session.scalars(select(OutboxMessage.id)))
    _erase(synced, TOLVAN)
    with session_scope(synced) as session:
        assert len(session.scalars(select(BankIdOrder.id)).all()) == len(orders_before) - 1
        # Messages are pseudonymised, never deleted: counts of sent messages add up.
        assert sorted(session.scalars(select(OutboxMessage.id))) == messages_before


def test_another_tenants_data_of_the_same_patient_is_neither_exported_nor_erased(synced, patients):
    with session_scope(synced) as session:
        other = Tenant(name="Annan klinik", subdomain="annan")
        session.add(other)
        session.flush()
        login(session, other.id, TOLVAN)
        other_id = other.id

    with session_scope(synced) as session:
        document = patient_data.export(session, _tenant(session), TOLVAN, now())
    assert all(s["tenant_id"] != other_id for s in document["tables"]["patient_session"])
    _erase(synced, TOLVAN)

    with session_scope(synced) as session:
        assert patient_data.counts(session, other_id, TOLVAN)["patient_session"] == 1
        assert patient_data.counts(session, other_id, TOLVAN)["bankid_order"] == 1
