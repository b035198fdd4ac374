"""*Avancerat* → *Gallring*: every role sees the tenant's retention; an administrator
changes it within the allowed ranges (audited); anything else is refused and saves
nothing."""

from __future__ import annotations

from sqlalchemy import Engine, select

from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, TenantSettings
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, tenant_id

ADMIN = "admin@tandmottagningen.se"
OPERATOR = "reception@tandmottagningen.se"
FIELDS = ("retention_visit_event_days", "retention_booking_months", "retention_message_days")


def _values(engine: Engine, tenant: int) -> tuple[int, int, int]:
    with session_scope(engine) as session:
        settings = session.get(TenantSettings, tenant)
        return tuple(getattr(settings, name) for name in FIELDS)


def test_retention_is_shown_changed_by_an_administrator_and_checked(
    booking_client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, ADMIN, {own: "administrator"})
    operator(booking_store, OPERATOR, {own: "operator"})
    page_path, post_path = f"/admin/{own}/avancerat", f"/admin/{own}/avancerat/gallring"

    def post(**values: str):
        token = csrf_token(booking_client.get(page_path))
        return booking_client.post(
            post_path, data={"csrf_token": token, **values}, follow_redirects=False
        )

    # The safe defaults, shown to an operator who may not change them.
    log_in(booking_client, OPERATOR)
    page = booking_client.get(page_path)
    assert page.status_code == 200 and "Gallring av personuppgifter" in page.text
    assert 'name="retention_visit_event_days"' in page.text and 'value="400"' in page.text
    assert _values(booking_store, own) == (400, 24, 30)
    keep = {"retention_visit_event_days": "90", "retention_booking_months": "12"}
    assert post(**keep, retention_message_days="14").status_code == 403

    log_in(booking_client, ADMIN)
    refused = post(**keep, retention_message_days="3650")  # "keep messages ten years"
    assert refused.status_code == 400
    assert "Meddelanden: ange ett helt antal dagar från 1 till 30." in refused.text
    assert _values(booking_store, own) == (400, 24, 30)
    assert post(**keep, retention_message_days="x").status_code == 400

    assert post(**keep, retention_message_days="14").status_code == 303
    assert _values(booking_store, own) == (90, 12, 14)
    with session_scope(booking_store) as session:
        changes = session.execute(
            select(AuditEntry.setting, AuditEntry.old_value, AuditEntry.new_value)
            .where(AuditEntry.tenant_id == own)
            .order_by(AuditEntry.setting)
        ).all()
    assert [tuple(c) for c in changes] == [
        ("retention_booking_months", "24", "12"),
        ("retention_message_days", "30", "14"),
        ("retention_visit_event_days", "400", "90"),
    ]
