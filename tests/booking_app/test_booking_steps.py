"""The booking steps take the tenant's settings: step order, merged view, "any"
buttons, what each step offers, texts, images, unknown ids."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from connectors.store.db import session_scope
from connectors.store.models import (
    Booking,
    Clinic,
    ClinicPractitioner,
    Image,
    Practitioner,
    Tenant,
    Treatment,
)
from tests.booking_app.booking_pages import change_settings
from tests.booking_app.booking_steps import (
    booking,
    follow,
    get,
    link_values,
    names,
    press,
    read,
    reference_of,
    time_buttons,
)

CENTRUM, ENKOPING = "Tandmottagningen Centrum", "Tandmottagningen Enköping"
WEB_TREATMENTS = [
    "Undersökning",
    "Akut tandvärk",
    "Lagning",
    "Implantatkonsultation",
    "Tandstensborttagning",
    "Barnundersökning",
    "Blekning, konsultation",
]


def step_headings(client: TestClient, path: str) -> str:
    return get(client, path).h1


def test_first_page_links_into_the_first_step(booking_client: TestClient, booking_store: Engine):
    front = get(booking_client, "/")
    start = front.link("Boka tid")
    assert start.href == "/boka"
    assert follow(booking_client, start).h1 == "Välj klinik"
    ids = names(booking_store)
    clinic_link = front.link(f"Boka tid på {ENKOPING}")
    assert httpx.URL(clinic_link.href).params["clinic"] == str(ids.clinics[ENKOPING])
    # With the clinic chosen on the first page, the steps go on with the treatment.
    assert follow(booking_client, clinic_link).h1 == "Välj behandling"


def test_default_order_clinic_treatment_practitioner_time(
    booking_client: TestClient, booking_store: Engine
):
    ids = names(booking_store)
    page = get(booking_client, "/boka")
    assert page.h1 == "Välj klinik"
    # Grouped as on the first page; the clinics link to the next step.
    assert [int(v) for v in link_values(page, "clinic")] == [
        ids.clinics[n]
        for n in (CENTRUM, "Tandmottagningen Gränby", "Tandmottagningen Stora torget", ENKOPING)
    ]
    assert "Ogrupperade kliniker" in page.ids.values()
    page = follow(booking_client, page.link(ENKOPING))
    assert page.h1 == "Välj behandling"
    page = follow(booking_client, page.link("Lagning"))
    assert page.h1 == "Välj behandlare"
    page = follow(booking_client, page.link("Vilken behandlare som helst"))
    assert page.h1 == "Välj tid"
    assert time_buttons(page) or page.has_link("Första lediga tid")


def test_step_order_from_the_settings(booking_client: TestClient, booking_store: Engine):
    change_settings(
        booking_store,
        first_step="practitioner",
        second_step="treatment",
        third_step="time",
        fourth_step="clinic",
    )
    ids = names(booking_store)
    page = get(booking_client, "/boka")
    assert page.h1 == "Välj behandlare"
    # Every added practitioner of every clinic, once (Märta works at two clinics).
    with session_scope(booking_store) as session:
        every = session.scalars(select(Practitioner.id).order_by(Practitioner.id)).all()
    assert sorted(int(v) for v in link_values(page, "practitioner") if v != "any") == every
    page = follow(booking_client, page.link("Märta Karlsson"))
    assert page.h1 == "Välj behandling"
    page = follow(booking_client, page.link("Undersökning"))
    assert page.h1 == "Välj tid"
    # The time comes before the clinic here, so a time is a link, not a hold.
    if not [a for a in page.links if "at=" in a.href]:
        page = follow(booking_client, page.link("Första lediga tid"))
    time_link = next(a for a in page.links if "at=" in a.href)
    assert "hos Märta Karlsson" in (time_link.aria_label or "")
    page = follow(booking_client, time_link)
    assert page.h1 == "Välj klinik"
    # The last step holds: its options are buttons, for the clinics free at that time.
    clinics = [b for b in page.buttons if b.name == "clinic"]
    assert clinics and {int(b.value) for b in clinics} <= {
        ids.clinics[CENTRUM],
        ids.clinics["Tandmottagningen Gränby"],
    }
    details = press(booking_client, clinics[0])
    assert details.h1 == "Dina uppgifter"
    held = booking(booking_store, reference_of(details))
    assert held.practitioner_id == ids.practitioners["Märta Karlsson"]
    assert held.treatment_id == ids.treatments["Undersökning"]


def test_time_first_then_the_rest_narrowed_to_it(booking_client: TestClient, booking_store: Engine):
    change_settings(
        booking_store,
        first_step="time",
        second_step="clinic",
        third_step="treatment",
        fourth_step="practitioner",
    )
    page = follow(booking_client, get(booking_client, "/boka").link("Första lediga tid"))
    assert page.h1 == "Välj tid"
    time_link = next(a for a in page.links if "at=" in a.href)
    page = follow(booking_client, time_link)
    assert page.h1 == "Välj klinik"
    page = follow(booking_client, next(a for a in page.links if "clinic=" in a.href))
    assert page.h1 == "Välj behandling"
    page = follow(booking_client, next(a for a in page.links if "treatment=" in a.href))
    assert page.h1 == "Välj behandlare"
    details = press(booking_client, next(b for b in page.buttons if b.name == "practitioner"))
    assert details.h1 == "Dina uppgifter"
    at = httpx.URL(time_link.href).params["at"]
    assert booking(booking_store, reference_of(details)).starts_at.strftime("%Y-%m-%dT%H:%MZ") == at


def test_merged_view_puts_treatment_and_practitioner_on_one_page(
    booking_client: TestClient, booking_store: Engine
):
    # Merged view fixes the order, whatever the order settings say.
    change_settings(
        booking_store,
        combined_view=True,
        first_step="time",
        second_step="practitioner",
        third_step="treatment",
        fourth_step="clinic",
    )
    page = get(booking_client, "/boka")
    assert page.h1 == "Välj klinik"
    page = follow(booking_client, page.link(CENTRUM))
    assert page.h1 == "Välj behandling och behandlare"
    form = page.form_with("treatment")
    assert form.method == "get"
    treatments = [f for f in form.fields.values() if f.get("name") == "treatment"]
    practitioners = [f for f in form.fields.values() if f.get("name") == "practitioner"]
    assert [page.labels[str(f["id"])].split(" ")[0] for f in treatments][:2] == [
        "Undersökning",
        "Akut",
    ]
    assert "Vilken behandlare som helst" in page.labels["practitioner-any"]
    assert next(f["value"] for f in practitioners) == "any"
    assert sorted(page.labels[str(f["id"])].split(" Tand")[0] for f in practitioners[1:]) == [
        "Björn Svensson",
        "Ida Karlsson",
        "Märta Karlsson",
        "Oskar Öberg",
    ]

    ids = names(booking_store)
    times = press(
        booking_client,
        form.buttons[0],
        treatment=str(ids.treatments["Undersökning"]),
        practitioner="any",
    )
    assert times.h1 == "Välj tid"

    # A practitioner without times for the treatment: said next to the field.
    hygienist = "Ida Karlsson"  # a hygienist at Centrum: no implant consultations
    wrong = press(
        booking_client,
        form.buttons[0],
        treatment=str(ids.treatments["Implantatkonsultation"]),
        practitioner=str(ids.practitioners[hygienist]),
    )
    assert wrong.status == 422
    assert wrong.h1 == "Välj behandling och behandlare"
    assert "inga tider för den behandlingen" in wrong.ids["practitioner-error"]
    assert 'aria-describedby="practitioner-error"' in wrong.html

    missing = press(booking_client, form.buttons[0], treatment=str(ids.treatments["Lagning"]))
    assert missing.status == 422
    assert missing.ids["practitioner-error"] == "Välj en behandlare."


def test_treatment_step_shows_the_clinic_text_or_the_default(
    booking_client: TestClient, booking_store: Engine
):
    ids = names(booking_store)
    change_settings(booking_store, default_clinic_text="Välkommen <b>hit</b>!")
    with session_scope(booking_store) as session:
        session.get(Clinic, ids.clinics[CENTRUM]).clinic_text = "Centrums egen text"
    centrum = get(booking_client, f"/boka?clinic={ids.clinics[CENTRUM]}")
    assert "Centrums egen text" in centrum.html and "Välkommen" not in centrum.html
    enkoping = get(booking_client, f"/boka?clinic={ids.clinics[ENKOPING]}")
    assert "Välkommen &lt;b&gt;hit&lt;/b&gt;!" in enkoping.html
    assert "<b>hit" not in enkoping.html


def test_only_web_treatments_that_added_practitioners_have_time_for(
    booking_client: TestClient, booking_store: Engine
):
    ids = names(booking_store)
    path = f"/boka?clinic={ids.clinics[ENKOPING]}"
    offered = [
        a.text.split(" ")[0] for a in get(booking_client, path).links if "treatment=" in a.href
    ]
    assert [int(v) for v in link_values(get(booking_client, path), "treatment")] == [
        ids.treatments[n] for n in WEB_TREATMENTS
    ]
    assert "Rotfyllning" not in get(booking_client, path).html  # not bookable on the web
    assert offered
    with session_scope(booking_store) as session:
        session.execute(
            update(Treatment).where(Treatment.name == "Undersökning").values(create_in_web=False)
        )
        # Enköping's hygienists are no longer added: their treatments go with them.
        hygienists = select(Practitioner.id).where(Practitioner.title == "Tandhygienist")
        session.execute(
            update(ClinicPractitioner)
            .where(
                ClinicPractitioner.clinic_id == ids.clinics[ENKOPING],
                ClinicPractitioner.practitioner_id.in_(hygienists),
            )
            .values(added=False)
        )
    assert [int(v) for v in link_values(get(booking_client, path), "treatment")] == [
        ids.treatments[n] for n in ("Akut tandvärk", "Lagning", "Implantatkonsultation")
    ]


def add_image(
    engine: Engine, data: bytes, content_type: str = "image/png", tenant: str = "tandmottagningen"
) -> int:
    with session_scope(engine) as session:
        tenant_id = session.scalars(select(Tenant.id).where(Tenant.subdomain == tenant)).one()
        image = Image(
            tenant_id=tenant_id,
            content_type=content_type,
            data=data,
            sha256=hashlib.sha256(data).hexdigest(),
        )
        session.add(image)
        session.flush()
        return image.id


def test_practitioners_show_image_and_text_and_the_logo_is_served(
    booking_client: TestClient, booking_store: Engine
):
    ids = names(booking_store)
    photo = add_image(booking_store, b"\x89PNG fake photo")
    logo = add_image(booking_store, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")
    change_settings(booking_store, logo_image_id=logo)
    with session_scope(booking_store) as session:
        marta = session.get(Practitioner, ids.practitioners["Märta Karlsson"])
        marta.image_id = photo
        marta.info_text = "Tandläkare sedan 1998. <Gillar> barn."
    page = get(
        booking_client,
        f"/boka?clinic={ids.clinics[CENTRUM]}&treatment={ids.treatments['Undersökning']}",
    )
    assert page.h1 == "Välj behandlare"
    assert f'src="/bild/{photo}"' in page.html and 'alt="Foto av Märta Karlsson"' in page.html
    assert "Tandläkare sedan 1998. &lt;Gillar&gt; barn." in page.html
    assert f'src="/bild/{logo}"' in page.html  # the tenant's logo in the header

    image = booking_client.get(f"/bild/{photo}")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content == b"\x89PNG fake photo"
    assert "max-age" in image.headers["cache-control"]
    svg = booking_client.get(f"/bild/{logo}")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in svg.headers["content-security-policy"]  # no script in an SVG


def test_images_are_the_tenants_own(booking_client: TestClient, booking_store: Engine):
    with session_scope(booking_store) as session:
        session.add(Tenant(name="Leendet", subdomain="leendet"))
    theirs = add_image(booking_store, b"GIF89a", "image/gif", tenant="leendet")
    assert booking_client.get(f"/bild/{theirs}").status_code == 404
    for path in ("/bild/abc", "/bild/99999999", "/bild/-1"):
        response = booking_client.get(path)
        assert response.status_code == 404
        assert "Sidan finns inte" in response.text


def test_any_practitioner_button_follows_the_setting_and_the_choice_is_recorded(
    booking_client: TestClient, booking_store: Engine
):
    ids = names(booking_store)
    path = f"/boka?clinic={ids.clinics[CENTRUM]}&treatment={ids.treatments['Undersökning']}"
    page = get(booking_client, path)
    offered = {int(v) for v in link_values(page, "practitioner") if v != "any"}
    assert len(offered) > 1
    page = follow(booking_client, page.link("Vilken behandlare som helst"))
    if not time_buttons(page):
        page = follow(booking_client, page.link("Första lediga tid"))
    button = time_buttons(page)[0]
    assert " hos " not in button.label  # the practitioner is not chosen yet
    details = press(booking_client, button)
    held = booking(booking_store, reference_of(details))
    assert held.any_practitioner
    assert held.practitioner_id in offered

    change_settings(booking_store, any_practitioner_option=False)
    page = get(booking_client, path)
    assert not page.has_link("Vilken behandlare som helst")
    assert booking_client.get(path + "&practitioner=any").status_code == 404


def test_any_clinic_offers_every_clinics_times(booking_client: TestClient, booking_store: Engine):
    assert not get(booking_client, "/boka").has_link("Vilken klinik som helst")  # off
    change_settings(booking_store, any_clinic_option=True)
    ids = names(booking_store)
    page = follow(booking_client, get(booking_client, "/boka").link("Vilken klinik som helst"))
    assert page.h1 == "Välj behandling"
    page = follow(booking_client, page.link("Lagning"))
    page = follow(booking_client, page.link("Vilken behandlare som helst"))
    if not time_buttons(page):
        page = follow(booking_client, page.link("Första lediga tid"))
    buttons = time_buttons(page)
    # Each time says where; together they come from more than one clinic.
    clinics_shown = {b.label.rsplit(" på ", 1)[1] for b in buttons}
    assert len(clinics_shown) > 1 and clinics_shown <= set(ids.clinics)
    chosen = buttons[-1]
    details = press(booking_client, chosen)
    held = booking(booking_store, reference_of(details))
    assert held.any_clinic and held.any_practitioner
    assert held.clinic_id == ids.clinics[chosen.label.rsplit(" på ", 1)[1]]


@pytest.mark.parametrize(
    "path",
    [
        "/boka?clinic=999999",
        "/boka?clinic=abc",
        "/boka?clinic=1&treatment=999999",
        "/boka?clinic=1&treatment=8",  # Rotfyllning: not bookable on the web
        "/boka?clinic=1&treatment=1&practitioner=999999",
        "/boka?clinic=1&treatment=1&practitioner=any&at=2026-13-45T99:99Z",
        "/boka?clinic=1&treatment=1&practitioner=any&week=nästa",
        "/boka?clinic=1&treatment=1&practitioner=any&week=9999-12-27",
        "/boka?clinic=1&treatment=1&practitioner=any&month=9999-12",
        "/boka?clinic=1&treatment=1&at=9999-12-31T23:59Z",
        "/boka/okand-referens/uppgifter",
        "/boka/okand-referens/kod",
        "/boka/okand-referens/bekrafta",
        "/boka/okand-referens/bekraftad",
    ],
)
def test_unknown_ids_are_404_pages(booking_client: TestClient, path: str):
    response = booking_client.get(path)
    assert response.status_code == 404
    assert "Sidan finns inte" in response.text


def test_another_tenants_clinic_is_unknown(booking_client: TestClient, booking_store: Engine):
    with session_scope(booking_store) as session:
        other = Tenant(name="Leendet", subdomain="leendet")
        session.add(other)
        session.flush()
        database = session.get(Clinic, 1).opus_database_id
        # A clinic row of another tenant (same Opus database id: only the tenant differs).
        session.add(
            Clinic(tenant_id=other.id, opus_database_id=database, opus_clinic_id="X", name="X")
        )
        session.flush()
        foreign = session.scalars(select(Clinic.id).where(Clinic.name == "X")).one()
    assert booking_client.get(f"/boka?clinic={foreign}").status_code == 404


def test_english_is_carried_through_the_steps(booking_client: TestClient, booking_store: Engine):
    page = get(booking_client, "/boka?lang=en")
    assert page.h1 == "Choose a clinic"
    page = follow(booking_client, page.link(CENTRUM))
    assert page.h1 == "Choose a treatment"
    page = follow(booking_client, page.link("Lagning"))
    assert page.h1 == "Choose a practitioner"
    page = follow(booking_client, page.link("Any practitioner"))
    assert page.h1 == "Choose a time"
    if not time_buttons(page):
        page = follow(booking_client, page.link("First free time"))
    button = time_buttons(page)[0]
    assert " at " in button.label and button.form.action.endswith("lang=en")
    details = press(booking_client, button)
    assert details.h1 == "Your details"
    assert "Personal identity number" in details.labels.values()
    held = booking(booking_store, reference_of(details))
    assert held.language == "en"
    # Switching language keeps the page and its choices.
    switch = details.link("På svenska")
    assert switch.href == "?lang=sv"
    assert get(booking_client, httpx.URL(details.url).path + switch.href).h1 == "Dina uppgifter"


def test_a_booking_is_the_tenants_own(booking_client: TestClient, booking_store: Engine):
    details = press(
        booking_client,
        time_buttons(
            follow(
                booking_client,
                get(booking_client, "/boka?clinic=1&treatment=1&practitioner=any").link(
                    "Första lediga tid"
                ),
            )
        )[0],
    )
    reference = reference_of(details)
    with session_scope(booking_store) as session:
        session.add(Tenant(name="Leendet", subdomain="leendet"))
    from tests.booking_app.booking_pages import BASE_DOMAIN, client_for

    other = client_for(booking_store, host=f"leendet.{BASE_DOMAIN}")
    assert other.get(f"/boka/{reference}/uppgifter").status_code in (403, 404)
    assert read(booking_client.get(f"/boka/{reference}/uppgifter")).h1 == "Dina uppgifter"
    with session_scope(booking_store) as session:
        assert session.scalars(select(Booking)).one().reference == reference
