"""The tabs: each change is refused when invalid, audited when saved, and visible on
the patient site at once (the site reads the settings per request)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from booking_app.admin.forms import contrast_ratio
from connectors.store.db import session_scope
from connectors.store.models import (
    AuditEntry,
    Clinic,
    ClinicPractitioner,
    MarketplaceAccount,
    MessageTemplate,
    Tenant,
    TenantSettings,
)
from tests.booking_app.admin.admin_pages import log_in, operator, other_tenant, post_tab, tenant_id

A = "a@tandmottagningen.se"


@pytest.fixture
def own(booking_client, booking_store: Engine) -> int:
    """The demo tenant's id, with operator A logged in as its administrator."""
    tenant = tenant_id(booking_store)
    operator(booking_store, A, {tenant: "administrator"})
    assert log_in(booking_client, A).status_code == 303
    return tenant


def _entries(engine: Engine, tenant: int) -> list[AuditEntry]:
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.tenant_id == tenant)).all())


def test_maintenance_mode_closes_the_patient_page_at_once_and_is_audited(
    booking_client, booking_store: Engine, own: int
) -> None:
    assert booking_client.get("/").status_code == 200
    answer = post_tab(booking_client, f"/admin/{own}/flexibilitet", maintenance_mode="on")
    assert answer.status_code == 303
    assert booking_client.get("/").status_code == 503
    [entry] = _entries(booking_store, own)
    assert (entry.setting, entry.old_value, entry.new_value) == (
        "maintenance_mode",
        "false",
        "true",
    )
    assert entry.operator_email == A
    log = booking_client.get(f"/admin/{own}/logg")
    assert "maintenance_mode" in log.text and A in log.text
    post_tab(booking_client, f"/admin/{own}/flexibilitet", maintenance_mode=None)
    assert booking_client.get("/").status_code == 200


def test_new_booking_off_closes_booking_on_the_patient_page(
    booking_client, booking_store: Engine, own: int
) -> None:
    assert 'href="/boka"' in booking_client.get("/").text
    post_tab(booking_client, f"/admin/{own}/flexibilitet", new_booking_enabled=None)
    assert 'href="/boka"' not in booking_client.get("/").text


def test_flexibility_refuses_a_repeated_step_and_bad_numbers(
    booking_client, booking_store: Engine, own: int
) -> None:
    path = f"/admin/{own}/flexibilitet"
    answer = post_tab(booking_client, path, first_step="time", months_to_sync="99")
    assert answer.status_code == 400
    assert "exakt en gång" in answer.text and "från 1 till 24" in answer.text
    assert _entries(booking_store, own) == []
    ok = post_tab(
        booking_client, path, first_step="time", fourth_step="clinic", change_cutoff_hours="48"
    )
    assert ok.status_code == 303
    with session_scope(booking_store) as session:
        settings = session.get(TenantSettings, own)
        assert settings.step_order == ("time", "treatment", "practitioner", "clinic")
        assert settings.change_cutoff_hours == 48


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Skriv en underdomän"),
        ("-klinik", "bindestreck"),
        ("klinik_1", "bindestreck"),
        ("www", "reserverat"),
        ("ADMIN", "reserverat"),
        ("a" * 64, "63 tecken"),
        ("Annanklinik", "används redan"),
    ],
)
def test_subdomain_rules(booking_client, booking_store: Engine, own: int, name, message) -> None:
    other_tenant(booking_store, "annanklinik")
    answer = post_tab(booking_client, f"/admin/{own}/underdoman", subdomain=name, action="save")
    assert answer.status_code == 400
    assert message in answer.text


def test_subdomain_check_then_save_moves_the_site(
    booking_client, booking_store: Engine, own: int
) -> None:
    path = f"/admin/{own}/underdoman"
    check = post_tab(booking_client, path, subdomain=" Nyklinik ", action="check")
    assert check.status_code == 200 and "Namnet är ledigt" in check.text
    with session_scope(booking_store) as session:
        assert session.get(Tenant, own).subdomain == "tandmottagningen"  # only checked
    assert post_tab(booking_client, path, subdomain="Nyklinik", action="save").status_code == 303
    assert booking_client.get("http://nyklinik.booking.test/").status_code == 200
    # The old name redirects to the same path and query on the new host.
    old = booking_client.get("/boka?lang=en", follow_redirects=False)
    assert old.status_code == 308
    assert old.headers["location"] == "http://nyklinik.booking.test/boka?lang=en"
    [entry] = _entries(booking_store, own)
    assert (entry.old_value, entry.new_value) == ("tandmottagningen", "nyklinik")


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)


def test_media_texts_show_at_once_and_pale_colours_are_refused(
    booking_client, booking_store: Engine, own: int
) -> None:
    path = f"/admin/{own}/media"
    pale = post_tab(booking_client, path, color_primary="#EEEEEE")
    assert pale.status_code == 400 and "WCAG AA" in pale.text
    bad = post_tab(booking_client, path, color_primary="red;}")
    assert bad.status_code == 400 and "#RRGGBB" in bad.text
    answer = post_tab(
        booking_client, path, welcome_text="Hej <b>alla</b>!", color_primary="#003366"
    )
    assert answer.status_code == 303
    front = booking_client.get("/")
    assert "Hej &lt;b&gt;alla&lt;/b&gt;!" in front.text  # text, never markup
    assert "#003366" in booking_client.get("/theme.css").text
    settings = {e.setting for e in _entries(booking_store, own)}
    assert {"welcome_text", "color_primary"} <= settings


def test_clinics_group_order_and_removing_a_practitioner(
    booking_client, booking_store: Engine, own: int
) -> None:
    other = other_tenant(booking_store)
    with session_scope(booking_store) as session:
        clinic = session.scalars(
            select(Clinic).where(Clinic.tenant_id == own).order_by(Clinic.id)
        ).first()
        link = session.scalars(
            select(ClinicPractitioner).where(
                ClinicPractitioner.clinic_id == clinic.id, ClinicPractitioner.added
            )
        ).first()
        clinic_id, practitioner_id = clinic.id, link.practitioner_id
    key = f"{clinic_id}_{practitioner_id}"
    answer = post_tab(
        booking_client,
        f"/admin/{own}/kliniker",
        **{f"group_{clinic_id}": "Norrland", f"order_{clinic_id}": "7", f"added_{key}": None},
    )
    assert answer.status_code == 303
    with session_scope(booking_store) as session:
        clinic = session.get(Clinic, clinic_id)
        assert (clinic.group_name, clinic.display_order) == ("Norrland", 7)
        assert session.get(ClinicPractitioner, (clinic_id, practitioner_id)).added is False
    assert "Norrland" in booking_client.get("/").text
    assert other != own


def test_sms_template_shows_its_length_and_invalid_templates_are_refused(
    booking_client, booking_store: Engine, own: int
) -> None:
    path = f"/admin/{own}/sms"
    bad = post_tab(booking_client, path, body_new="Hej {{ personnummer }}")
    assert bad.status_code == 400
    assert "personnummer" in bad.text
    broken = post_tab(booking_client, path, body_new="Hej {{ first_name ")
    assert broken.status_code == 400 and "Syntaxfel" in broken.text
    ok = post_tab(booking_client, path, body_new="Hej {{ first_name }}! Välkommen {{ time }}.")
    assert ok.status_code == 303
    page = booking_client.get(path)
    assert "GSM-7" in page.text and "1 SMS" in page.text
    with session_scope(booking_store) as session:
        [row] = session.scalars(select(MessageTemplate).where(MessageTemplate.tenant_id == own))
        assert (row.channel, row.kind) == ("sms", "new")
    assert "sms.new.body" in {e.setting for e in _entries(booking_store, own)}


@pytest.mark.parametrize(
    ("sender", "accepted"),
    [
        ("Tandvard", True),
        ("+4670123456", True),
        ("Tand Vard", False),
        ("12345", False),
        ("+46701234567", False),  # a valid number, but longer than the stored 11
    ],
)
def test_an_sms_sender_is_judged_by_the_gateways_own_rule(
    booking_client, own: int, sender: str, accepted: bool
) -> None:
    # A sender the SMS client would refuse must not be saved, or messages would quietly
    # go out from the default sender instead.
    answer = post_tab(booking_client, f"/admin/{own}/sms", sender=sender)
    assert answer.status_code == (303 if accepted else 400)


@pytest.mark.parametrize(
    ("sender", "accepted"),
    [
        ("bokning@tandmottagningen.se", True),
        ("Bokning@TANDMOTTAGNINGEN.se", True),
        ("", True),  # none: the default sender, with the clinic's name
        ("vd@storbank.se", False),  # anyone's domain: spoofing
        ("bokning@tandmottagningen.se.storbank.se", False),
        ("bokning@post.tandmottagningen.se", False),  # a subdomain is verified on its own
    ],
)
def test_an_email_sender_must_be_on_a_verified_domain(
    booking_client, booking_store: Engine, own: int, sender: str, accepted: bool
) -> None:
    booking_client.app.state.settings.email_verified_domains = (
        "opusdentalonline.com, tandmottagningen.se"
    )
    answer = post_tab(booking_client, f"/admin/{own}/e-post", sender=sender)
    assert answer.status_code == (303 if accepted else 400)
    with session_scope(booking_store) as session:
        stored = session.get_one(TenantSettings, own).email_sender
    assert stored == ((sender or None) if accepted else None)
    if not accepted:
        assert "Avsändaradressens domän är inte verifierad för utskick." in answer.text


def test_flexibility_says_whether_boka_vard_can_publish(
    booking_client, booking_store: Engine, own: int
) -> None:
    """Next to *Publicera på "Boka vård"*, the account's state as the last marketplace
    run found it: the setting alone publishes nothing until the account is active."""

    def shown() -> str:
        page = booking_client.get(f"/admin/{own}/flexibilitet")
        assert page.status_code == 200
        assert 'aria-describedby="boka_vard_state"' in page.text
        return page.text.split('id="boka_vard_state"', 1)[1].split("</small>", 1)[0]

    assert "Inget konto hos Boka vård är kopplat" in shown()
    with session_scope(booking_store) as session:
        session.add(MarketplaceAccount(tenant_id=own, account="tandmottagningen", state="waiting"))
    assert "Boka vård har inte aktiverat kontot än" in shown()
    with session_scope(booking_store) as session:
        account = session.get(MarketplaceAccount, own)
        account.state = "active"
        account.last_success_at = datetime(2026, 11, 20, 13, 5, tzinfo=UTC)
    assert "Kontot hos Boka vård är aktivt. Senast publicerat utan fel" in shown()
    assert "14:05" in shown()  # Stockholm time
    with session_scope(booking_store) as session:
        account = session.get(MarketplaceAccount, own)
        account.state, account.last_error = "refused", "401 <Unauthorized>"
    assert "godtar inte vår nyckel" in shown()
    assert "Senaste felet: 401 &lt;Unauthorized&gt;" in shown()  # escaped
