"""*Avancerat* → Patientdata: an administrator exports a patient's data as a JSON
download and erases it after a confirm step, the personal number only ever posted and
never shown back, every look-up audited by keyed hash; operators, analysts, another
tenant's administrators and forged forms get nowhere."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import AuditEntry
from connectors.store.patient_data import counts
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, other_tenant
from tests.patients import NAMESAKE, TOLVAN, demo_tenant_id, make_patients, rows_of

ADMIN = "admin@klinik.se"
TYPED = "19121212-1212"


def page(tenant: int, action: str = "") -> str:
    return f"/admin/{tenant}/avancerat/patientdata" + (f"/{action}" if action else "")


def _audit(engine: Engine) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_an_administrator_exports_then_erases_a_patient(
    booking_client: TestClient, booking_store: Engine
):
    patients = make_patients(booking_store, TOLVAN, NAMESAKE)
    namesake = rows_of(booking_store, patients[NAMESAKE])
    own = demo_tenant_id(booking_store)
    operator(booking_store, ADMIN, {own: "administrator"})
    log_in(booking_client, ADMIN)
    start = booking_client.get(page(own))
    assert start.status_code == 200 and start.headers["cache-control"] == "no-store"
    token = csrf_token(start)

    exported = booking_client.post(
        page(own, "export"), data={"csrf_token": token, "personal_number": TYPED}
    )
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith('attachment; filename="patientdata-')
    assert TOLVAN not in exported.headers["content-disposition"]
    assert exported.headers["cache-control"] == "no-store"
    document = json.loads(exported.text)
    assert {b["id"] for b in document["tables"]["booking"]} == set(patients[TOLVAN].booking_ids)

    reviewed = booking_client.post(
        page(own, "granska"), data={"csrf_token": token, "personal_number": TYPED}
    )
    assert reviewed.status_code == 200
    assert "Bokningar: 2 st." in reviewed.text and "patient-id 8212" in reviewed.text
    assert "journalen" in reviewed.text
    assert TOLVAN not in reviewed.text and TYPED not in reviewed.text  # never shown back
    subject = re.search(r'name="subject" value="([0-9a-f]{32})"', reviewed.text).group(1)

    def erase(**fields: str):
        data = {"csrf_token": token, "subject": subject, **fields}
        return booking_client.post(page(own, "radera"), data=data)

    unticked = erase(personal_number=TYPED)
    assert unticked.status_code == 400 and "Kryssa i rutan" in unticked.text
    other_number = erase(personal_number=NAMESAKE, confirm="ja")
    assert other_number.status_code == 400 and "inte samma personnummer" in other_number.text
    with session_scope(booking_store) as session:
        assert counts(session, own, TOLVAN)["booking"] == 2  # nothing erased yet

    erased = erase(personal_number=TYPED, confirm="ja")
    assert erased.status_code == 200, erased.text
    assert "Patientens uppgifter är raderade" in erased.text
    with session_scope(booking_store) as session:
        assert not any(counts(session, own, TOLVAN).values())
    assert rows_of(booking_store, patients[NAMESAKE]) == namesake

    entries = _audit(booking_store)
    assert [e.setting for e in entries] == [
        "patient.export",
        "patient.erase.preview",
        "patient.erase",
    ]
    assert all(e.operator_email == ADMIN and subject in e.new_value for e in entries)
    assert all(TOLVAN not in e.new_value for e in entries)
    assert "patient.erase" in booking_client.get(f"/admin/{own}/logg").text


def test_only_an_administrator_of_the_tenant_gets_in(
    booking_client: TestClient, booking_store: Engine
):
    make_patients(booking_store, TOLVAN)
    own = demo_tenant_id(booking_store)
    other = other_tenant(booking_store)
    # An operator here (though an administrator elsewhere), an analyst, and another
    # tenant's administrator.
    operator(booking_store, "reception@klinik.se", {own: "operator", other: "administrator"})
    operator(booking_store, "analytiker@klinik.se", {own: "analyst"})
    operator(booking_store, "annan@klinik.se", {other: "administrator"})

    for email, status in (
        ("reception@klinik.se", 403),
        ("analytiker@klinik.se", 403),
        ("annan@klinik.se", 404),  # no grant here: the tenant does not exist for them
    ):
        log_in(booking_client, email)
        token = csrf_token(booking_client.get("/admin/"))  # the logout form's
        assert booking_client.get(page(own)).status_code == status
        for action in ("export", "granska"):
            answer = booking_client.post(
                page(own, action), data={"csrf_token": token, "personal_number": TYPED}
            )
            assert answer.status_code == status, (email, action)
        booking_client.cookies.clear()
    assert _audit(booking_store) == []


def test_a_forged_form_is_refused_and_looks_nobody_up(
    booking_client: TestClient, booking_store: Engine
):
    make_patients(booking_store, TOLVAN)
    own = demo_tenant_id(booking_store)
    operator(booking_store, ADMIN, {own: "administrator"})
    log_in(booking_client, ADMIN)
    token = csrf_token(booking_client.get(page(own)))
    altered = ("B" if token[0] != "B" else "C") + token[1:]

    for data in ({"personal_number": TYPED}, {"csrf_token": altered, "personal_number": TYPED}):
        assert booking_client.post(page(own, "export"), data=data).status_code == 403
    cross_site = booking_client.post(
        page(own, "granska"),
        data={"csrf_token": token, "personal_number": TYPED},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    bad = booking_client.post(
        page(own, "export"), data={"csrf_token": token, "personal_number": "19121212-1213"}
    )
    assert bad.status_code == 400 and "kontrollsiffran är fel" in bad.text
    assert "19121212-1213" not in bad.text
    assert _audit(booking_store) == []
