"""*Kliniker*: the up/down buttons reorder clinics and practitioners as the patient
site shows them; another tenant's ids in a form answer 404 and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from connectors.store.availability import practitioners_at
from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, Clinic, ClinicPractitioner
from tests.booking_app.admin.admin_pages import (
    csrf_token,
    log_in,
    operator,
    other_tenant,
    post_tab,
    tenant_id,
)

A = "a@tandmottagningen.se"


@pytest.fixture
def own(booking_client, booking_store: Engine) -> int:
    tenant = tenant_id(booking_store)
    operator(booking_store, A, {tenant: "administrator"})
    assert log_in(booking_client, A).status_code == 303
    return tenant


def _clinic_names(engine: Engine, tenant: int) -> list[str]:
    with session_scope(engine) as session:
        return list(
            session.scalars(
                select(Clinic.name)
                .where(Clinic.tenant_id == tenant, Clinic.in_opus)
                .order_by(Clinic.display_order, Clinic.id)
            )
        )


def _move(client, tenant: int, value: str):
    token = csrf_token(client.get(f"/admin/{tenant}/kliniker"))
    return client.post(
        f"/admin/{tenant}/kliniker/flytta",
        data={"csrf_token": token, "move": value},
        follow_redirects=False,
    )


def _positions(text: str, names: list[str]) -> list[int]:
    return [text.index(name) for name in names]


def test_moving_a_clinic_changes_the_patient_sites_order(
    booking_client, booking_store: Engine, own: int
) -> None:
    before = _clinic_names(booking_store, own)
    assert len(before) >= 2
    page = booking_client.get(f"/admin/{own}/kliniker")
    assert f"Flytta ned {before[0]}" in page.text  # each button says what it moves
    with session_scope(booking_store) as session:
        first = session.scalars(select(Clinic.id).where(Clinic.name == before[0])).one()
    assert _move(booking_client, own, f"clinic:{first}:down").status_code == 303
    after = _clinic_names(booking_store, own)
    assert after == [before[1], before[0], *before[2:]]
    front = booking_client.get("/").text
    assert _positions(front, after[:2]) == sorted(_positions(front, after[:2]))
    # Up on the first one changes nothing.
    with session_scope(booking_store) as session:
        top = session.scalars(select(Clinic.id).where(Clinic.name == after[0])).one()
        entries = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    assert _move(booking_client, own, f"clinic:{top}:up").status_code == 303
    assert _clinic_names(booking_store, own) == after
    with session_scope(booking_store) as session:
        assert session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) == (
            entries
        )
        logged = set(session.scalars(select(AuditEntry.setting)))
    assert f"clinic {first}.display_order" in logged


def test_moving_a_practitioner_changes_their_order_at_the_clinic(
    booking_client, booking_store: Engine, own: int
) -> None:
    with session_scope(booking_store) as session:
        clinic = next(
            c
            for c in session.scalars(select(Clinic).where(Clinic.tenant_id == own))
            if len(practitioners_at(session, own, c.id)) >= 2
        )
        clinic_id = clinic.id
        before = [p.id for p in practitioners_at(session, own, clinic_id)]
    answer = _move(booking_client, own, f"practitioner:{clinic_id}:{before[1]}:up")
    assert answer.status_code == 303
    with session_scope(booking_store) as session:
        after = [p.id for p in practitioners_at(session, own, clinic_id)]
        assert session.get(ClinicPractitioner, (clinic_id, before[1])).display_order == 1
    assert after[:2] == [before[1], before[0]]


@pytest.mark.parametrize(
    "value",
    ["clinic:{theirs}:up", "practitioner:{theirs}:1:down", "practitioner:{mine}:999999:up",
     "clinic:{mine}:sideways", "clinic:x:up", ""],
)  # fmt: skip
def test_moves_of_unknown_or_foreign_ids_are_not_found(
    booking_client, booking_store: Engine, own: int, value: str
) -> None:
    theirs = _foreign_clinic(booking_store)
    with session_scope(booking_store) as session:
        mine = session.scalars(select(Clinic.id).where(Clinic.tenant_id == own)).first()
    answer = _move(booking_client, own, value.format(theirs=theirs, mine=mine))
    assert answer.status_code == 404


def _foreign_clinic(engine: Engine) -> int:
    from connectors.store.models import OpusDatabase

    other = other_tenant(engine)
    with session_scope(engine) as session:
        database = OpusDatabase(tenant_id=other, name="Annan", connection_ref="env:ANNAN")
        session.add(database)
        session.flush()
        clinic = Clinic(
            tenant_id=other, opus_database_id=database.id, opus_clinic_id="1", name="Deras"
        )
        session.add(clinic)
        session.flush()
        return clinic.id


def test_saving_with_another_tenants_clinic_id_is_not_found(
    booking_client, booking_store: Engine, own: int
) -> None:
    theirs = _foreign_clinic(booking_store)
    answer = post_tab(booking_client, f"/admin/{own}/kliniker", **{f"group_{theirs}": "Stulen"})
    assert answer.status_code == 404
    with session_scope(booking_store) as session:
        assert session.get(Clinic, theirs).group_name is None
        assert list(session.scalars(select(AuditEntry))) == []
