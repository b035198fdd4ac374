"""*Kliniker* → *Anslutning till Opus*: an operator sets an Opus database's own connect
timeout and retry count (empty: the global settings), checked on the server, audited,
and read by the schedule sync's plan; bad values save nothing; another tenant's
database answers 404."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from connectors.store import schedules
from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, OpusDatabase, Tenant
from demo.store_seed import DEMO_SUBDOMAIN
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, tenant_id

A = "a@tandmottagningen.se"


@pytest.fixture
def own(booking_client, booking_store: Engine) -> int:
    tenant = tenant_id(booking_store)
    operator(booking_store, A, {tenant: "operator"})
    assert log_in(booking_client, A).status_code == 303
    return tenant


def _database(engine: Engine, tenant: int) -> OpusDatabase:
    with session_scope(engine) as session:
        return session.scalars(select(OpusDatabase).where(OpusDatabase.tenant_id == tenant)).one()


def _post(client, tenant: int, **fields: str):
    token = csrf_token(client.get(f"/admin/{tenant}/kliniker"))
    return client.post(
        f"/admin/{tenant}/kliniker/anslutning",
        data={"csrf_token": token, **fields},
        follow_redirects=False,
    )


def _audit(engine: Engine) -> list[tuple[str, str | None, str | None]]:
    with session_scope(engine) as session:
        return list(
            session.execute(
                select(AuditEntry.setting, AuditEntry.old_value, AuditEntry.new_value)
                .where(AuditEntry.setting.like("database %"))
                .order_by(AuditEntry.id)
            ).tuples()
        )


def test_an_operator_sets_and_clears_a_databases_own_timeout_and_retries(
    booking_client, booking_store: Engine, own: int
) -> None:
    database = _database(booking_store, own)
    page = booking_client.get(f"/admin/{own}/kliniker")
    assert "Anslutning till Opus" in page.text and "standard: " in page.text  # the global
    timeout, retries = f"connect_timeout_s_{database.id}", f"retries_{database.id}"

    saved = _post(booking_client, own, **{timeout: " 45 ", retries: "0"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("#opus-anslutning")
    with session_scope(booking_store) as session:  # what the schedule sync will use
        (plan,) = schedules.plan_tenant(session, DEMO_SUBDOMAIN).databases
    assert (plan.connect_timeout_s, plan.retries) == (45, 0)  # 0 retries is a choice
    assert 'value="45"' in booking_client.get(f"/admin/{own}/kliniker").text

    # Empty: back to the global settings.
    assert _post(booking_client, own, **{timeout: "", retries: ""}).status_code == 303
    stored = _database(booking_store, own)
    assert (stored.connect_timeout_s, stored.retries) == (None, None)
    assert _audit(booking_store) == [
        (f"database {database.id}.connect_timeout_s", None, "45"),
        (f"database {database.id}.retries", None, "0"),
        (f"database {database.id}.connect_timeout_s", "45", None),
        (f"database {database.id}.retries", "0", None),
    ]


def test_values_out_of_range_save_nothing_and_say_what_is_wrong(
    booking_client, booking_store: Engine, own: int
) -> None:
    database = _database(booking_store, own)
    timeout, retries = f"connect_timeout_s_{database.id}", f"retries_{database.id}"
    for bad_timeout, bad_retries in (("0", "11"), ("301", "-1"), ("1.5", "²"), ("<b>x", "3")):
        refused = _post(booking_client, own, **{timeout: bad_timeout, retries: bad_retries})
        assert refused.status_code == 400
        assert "Anslutningstiden ska vara ett heltal från 1 till 300" in refused.text
        assert 'aria-invalid="true"' in refused.text
        assert "<b>x" not in refused.text  # what was typed comes back escaped
        retries_wrong = "Antalet nya försök ska vara ett heltal från 0 till 10" in refused.text
        assert retries_wrong == (bad_retries != "3")
    stored = _database(booking_store, own)
    assert (stored.connect_timeout_s, stored.retries) == (None, None)
    assert _audit(booking_store) == []


def test_another_tenants_database_answers_404_and_an_analyst_may_not_change(
    booking_client, booking_store: Engine, own: int
) -> None:
    with session_scope(booking_store) as session:
        other = Tenant(name="Annan", subdomain="annan")
        session.add(other)
        session.flush()
        foreign = OpusDatabase(tenant_id=other.id, name="Opus", connection_ref="env:X")
        session.add(foreign)
        session.flush()
        foreign_id = foreign.id
    assert _post(booking_client, own, **{f"retries_{foreign_id}": "2"}).status_code == 404
    analyst = "analys@tandmottagningen.se"
    operator(booking_store, analyst, {own: "analyst"})
    assert log_in(booking_client, analyst).status_code == 303
    database = _database(booking_store, own)
    assert _post(booking_client, own, **{f"retries_{database.id}": "2"}).status_code == 403
    with session_scope(booking_store) as session:
        assert session.scalar(select(func.count()).where(OpusDatabase.retries.is_not(None))) == 0
