"""The *Påminnelser* section of the E-post and SMS tabs: saved and audited, refused with
the reason when wrong, planned reminders planned again after a change; the reminder's
template with its length estimate (the signed link counted)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from connectors.notifications.templates import estimate_sms_length
from connectors.store.db import session_scope
from connectors.store.models import AuditEntry, Reminder, TenantSettings
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, tenant_id
from tests.booking_app.test_manage_booking import book

A = "a@tandmottagningen.se"


@pytest.fixture
def own(booking_client, booking_store: Engine) -> int:
    tenant = tenant_id(booking_store)
    operator(booking_store, A, {tenant: "administrator"})
    assert log_in(booking_client, A).status_code == 303
    return tenant


def reminder_form(**values: str) -> dict[str, str]:
    return {
        "reminder_sms_enabled": "on",
        "reminder_sms_hours": "48",
        "reminder_scope": "online",
        "reminder_quiet_start": "21",
        "reminder_quiet_end": "8",
        **values,
    }


def test_the_sms_tab_saves_the_reminder_settings_audited_and_plans_again(
    booking_client, booking_store: Engine, own: int
) -> None:
    page = booking_client.get(f"/admin/{own}/sms")
    assert "Påminnelser" in page.text and 'name="reminder_scope"' in page.text
    token = csrf_token(page)
    booking = book(booking_store)
    with session_scope(booking_store) as session:  # planned under the settings before
        session.add(
            Reminder(
                tenant_id=own, booking_id=booking.id, channel="sms", status="planned",
                starts_at=booking.starts_at, due_at=booking.starts_at - timedelta(hours=48),
            )
        )  # fmt: skip
    answer = booking_client.post(
        f"/admin/{own}/sms/paminnelser",
        data={
            "csrf_token": token,
            **reminder_form(reminder_scope="all", manage_without_login="on"),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with session_scope(booking_store) as session:
        settings = session.get_one(TenantSettings, own)
        assert settings.reminder_sms_enabled and settings.reminder_sms_hours == 48
        assert settings.reminder_scope == "all" and settings.manage_without_login
        assert not settings.reminder_email_enabled  # the other tab's channel untouched
        changed = set(
            session.scalars(select(AuditEntry.setting).where(AuditEntry.tenant_id == own))
        )
    assert {"reminder_sms_enabled", "reminder_scope", "manage_without_login"} <= changed
    with session_scope(booking_store) as session:  # to be planned again by the worker
        assert session.scalars(select(Reminder)).all() == []
    # The shared settings show on the E-post tab too.
    email_tab = booking_client.get(f"/admin/{own}/e-post").text
    assert re.search(r'<input type="checkbox" id="manage_without_login"[^>]* checked>', email_tab)


@pytest.mark.parametrize(
    "change, error",
    [
        ({"reminder_sms_hours": "0"}, "en siffra 1–336"),
        ({"reminder_sms_hours": "999"}, "en siffra 1–336"),
        ({"reminder_quiet_start": "24"}, "en hel timme 0–23"),
        ({"reminder_scope": "everyone"}, "Välj vilka tider"),
    ],
)
def test_wrong_reminder_settings_are_refused_with_the_reason(
    booking_client, booking_store: Engine, own: int, change: dict, error: str
) -> None:
    token = csrf_token(booking_client.get(f"/admin/{own}/sms"))
    answer = booking_client.post(
        f"/admin/{own}/sms/paminnelser", data={"csrf_token": token, **reminder_form(**change)}
    )
    assert answer.status_code == 400 and error in answer.text
    with session_scope(booking_store) as session:
        assert not session.get_one(TenantSettings, own).reminder_sms_enabled


def test_a_lead_time_within_the_cutoff_is_pointed_out(booking_client, own: int) -> None:
    token = csrf_token(booking_client.get(f"/admin/{own}/e-post"))
    form = {
        "csrf_token": token,
        "reminder_email_enabled": "on",
        "reminder_email_hours": "12",
        "reminder_quiet_start": "21",
        "reminder_quiet_end": "8",
    }
    assert booking_client.post(f"/admin/{own}/e-post/paminnelser", data=form).status_code == 200
    assert "stänger 24 timmar före" in booking_client.get(f"/admin/{own}/e-post").text


def test_the_reminder_template_is_measured_with_the_signed_link(booking_client, own: int) -> None:
    text = "Påminnelse {{ clinic_name }} {{ date }} {{ time }}. Avboka/ändra: {{ link }}"
    assert estimate_sms_length(text, "reminder").characters > estimate_sms_length(text).characters
    token = csrf_token(booking_client.get(f"/admin/{own}/sms"))
    answer = booking_client.post(
        f"/admin/{own}/sms/forhandsvisning",
        data={"csrf_token": token, "text": text, "kind": "reminder"},
    ).json()
    assert answer["length"]["characters"] == estimate_sms_length(text, "reminder").characters
    assert "/h/" in answer["preview"]
