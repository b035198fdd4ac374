"""Step 5 and the forms' protections: labels, server-side validation in Swedish and
English, values shown again escaped, the yellow box, CSRF, oversized bodies."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_app.forms import MAX_FORM_BYTES
from tests.booking_app.booking_pages import change_settings
from tests.booking_app.booking_steps import (
    PATIENT,
    Page,
    booking,
    fill_details,
    reference_of,
    submit,
    to_details,
)
from validations.patient import luhn_check_digit


def coordination_number() -> str:
    """A samordningsnummer: the day of birth plus 60 (12 December → 72)."""
    body = "121272123"
    return f"19{body}{luhn_check_digit(body)}"


def errors_of(page: Page) -> dict[str, str]:
    return {
        ident.removesuffix("-error"): text.lstrip("! ")
        for ident, text in page.ids.items()
        if ident.endswith("-error")
    }


def test_every_field_has_a_label_and_the_yellow_box_has_a_heading(
    booking_store: Engine, booking_client: TestClient
):
    change_settings(
        booking_store, ask_address=True, user_message_enabled=True, campaign_code_enabled=True
    )
    page = to_details(booking_client)
    form = page.form_with("first_name")
    visible = [f for f in form.fields.values() if f.get("type") != "hidden"]
    assert {f["name"] for f in visible} == {
        "personal_number", "first_name", "last_name", "mobile", "email",
        "address1", "postal_code", "city", "message", "campaign_code", "code_channel",
    }  # fmt: skip
    for f in visible:
        assert page.labels.get(str(f["id"])), f"{f['id']} has no label"
    assert page.labels["personal_number"] == "Personnummer"
    assert page.labels["message"] == "Meddelande till kliniken (frivilligt)"
    # The patient-info box: the default text, under a heading (not only a colour).
    box = page.html[page.html.index('<aside class="patient-info"') :]
    assert 'aria-labelledby="patient-info-heading"' in box
    assert page.ids["patient-info-heading"].endswith("Viktig information")
    assert "avboka senast 24 timmar innan" in box[: box.index("</aside>")]


def test_the_tenants_patient_info_text(booking_store: Engine, booking_client: TestClient):
    change_settings(booking_store, patient_info_text="Ta med <frikort>!")
    page = to_details(booking_client)
    assert "Ta med &lt;frikort&gt;!" in page.html
    assert "avboka senast 24 timmar" not in page.html


def test_fields_the_tenant_does_not_ask_for_are_absent(booking_client: TestClient):
    page = to_details(booking_client)
    for name in ("address1", "message", "campaign_code"):
        assert name not in page.labels


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("personal_number", "", "Fyll i ditt personnummer."),
        ("personal_number", "1912121212121", "ska ha 10 eller 12 siffror"),
        ("personal_number", "19121312-1212", "inget giltigt födelsedatum"),
        ("personal_number", "19121212-1213", "kontrollsiffran är fel"),
        ("personal_number", "29990101-1234", "inget giltigt födelsedatum"),  # future
        ("personal_number", "19121212-0008", "kan inte vara 000"),  # never issued
        ("first_name", "", "Fyll i ditt förnamn."),
        ("first_name", "x" * 51, "högst 50 tecken"),
        ("last_name", "", "Fyll i ditt efternamn."),
        ("mobile", "", "Fyll i ditt mobilnummer."),
        ("mobile", "070-12a", "bara innehålla siffror"),
        ("mobile", "08-123 456 78", "inte ett svenskt mobilnummer"),
        ("email", "", "Fyll i din e-postadress."),
        ("email", "tolvan.example.se", "ser inte rätt ut"),
    ],
)
def test_each_field_is_checked_on_the_server(
    booking_store: Engine, booking_client: TestClient, field: str, value: str, message: str
):
    page = to_details(booking_client)
    refused = fill_details(booking_client, page, code_channel="email", **{field: value})
    assert refused.status == 422
    assert refused.h1 == "Dina uppgifter"
    errors = errors_of(refused)
    assert list(errors) == [field]
    assert message in errors[field]
    # Tied to its field for screen readers, and listed in the summary at the top.
    tag = re.search(rf'<(?:input|textarea)[^>]*id="{field}"[^>]*>', refused.html).group(0)
    assert f"{field}-error" in re.search(r'aria-describedby="([^"]*)"', tag).group(1)
    assert 'aria-invalid="true"' in tag
    assert f'href="#{field}"' in refused.html
    # Nothing was stored; the hold stands.
    held = booking(booking_store, reference_of(page))
    assert held.status == "held" and held.first_name is None


def test_valid_variants_are_accepted_and_normalised(
    booking_store: Engine, booking_client: TestClient
):
    change_settings(booking_store, skip_confirmation=True)
    page = to_details(booking_client)
    done = fill_details(
        booking_client,
        page,
        personal_number=coordination_number()[2:8] + "-" + coordination_number()[8:],
        mobile="+47 412 34 567",
        email="Tolvan@Example.SE",
    )
    assert done.h1 == "Din tid är bokad", errors_of(done)
    stored = booking(booking_store, reference_of(page))
    # Ten digits: the century is the latest that puts the birth in the past.
    assert stored.personal_number == "20" + coordination_number()[2:]
    assert stored.mobile == "+4741234567"
    assert stored.email == "Tolvan@example.se"


def test_address_message_and_campaign_code(booking_store: Engine, booking_client: TestClient):
    change_settings(
        booking_store,
        ask_address=True,
        user_message_enabled=True,
        campaign_code_enabled=True,
        skip_confirmation=True,
    )
    page = to_details(booking_client)
    refused = fill_details(
        booking_client,
        page,
        address1="",
        postal_code="7532",
        city="Uppsala",
        message="x" * 501,
        campaign_code="y" * 31,
    )
    assert refused.status == 422
    errors = errors_of(refused)
    assert set(errors) == {"address1", "postal_code", "message", "campaign_code"}
    assert "högst 500 tecken" in errors["message"]
    assert "högst 30 tecken" in errors["campaign_code"]
    assert "fem siffror" in errors["postal_code"]

    done = fill_details(
        booking_client,
        refused,
        address1="Kungsgatan 1",
        postal_code="753 21",
        city="Uppsala",
        message="Jag har ont i en visdomstand.",
        campaign_code="VINTER26",
    )
    assert done.h1 == "Din tid är bokad"
    stored = booking(booking_store, reference_of(page))
    assert (stored.address1, stored.postal_code, stored.city) == (
        "Kungsgatan 1",
        "75321",
        "Uppsala",
    )
    assert stored.message == "Jag har ont i en visdomstand."
    assert stored.campaign_code == "VINTER26"


def test_typed_values_come_back_escaped(booking_client: TestClient):
    page = to_details(booking_client)
    nasty = '"><script>alert(1)</script>'
    refused = fill_details(booking_client, page, first_name=nasty, email="fel")
    assert refused.status == 422
    assert "<script>alert(1)</script>" not in refused.html
    assert 'value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in refused.html
    # The other fields keep what was typed, so only the wrong one needs fixing.
    assert f'value="{PATIENT["last_name"]}"' in refused.html


def test_messages_in_english(booking_client: TestClient):
    page = to_details(booking_client, lang="en")
    refused = fill_details(booking_client, page, personal_number="19121212-1213")
    assert refused.status == 422
    assert "the check digit is wrong" in errors_of(refused)["personal_number"]
    assert refused.h1 == "Your details"


# -- CSRF and size ---------------------------------------------------------------------


def test_forms_without_the_csrf_token_are_refused(
    booking_store: Engine, booking_client: TestClient
):
    page = to_details(booking_client)
    form = page.form_with("first_name")
    good = form.hidden["csrf_token"]
    other_last = "B" if good.endswith("A") else "A"  # ("A" on an "A" was the same token)
    for token in ("", "x" * 43, good[:-1] + other_last):
        data = {**form.hidden, **PATIENT, "code_channel": "email", "csrf_token": token}
        response = booking_client.post(form.action, data=data)
        assert response.status_code == 403
        assert "Formuläret kunde inte skickas" in response.text
    # A browser without our cookie (another site's form) is refused too.
    fresh = TestClient(booking_client.app, base_url=str(booking_client.base_url))
    response = fresh.post(form.action, data={**form.hidden, **PATIENT, "code_channel": "email"})
    assert response.status_code == 403
    assert booking(booking_store, reference_of(page)).first_name is None
    # With the token the same form goes through.
    assert submit(booking_client, form, {**PATIENT, "code_channel": "email"}).status == 200


def test_the_browser_id_cookie_is_strict_and_httponly(booking_store: Engine):
    from tests.booking_app.booking_pages import client_for

    client = client_for(booking_store)
    response = client.get("/boka?clinic=1&treatment=1&practitioner=any&week=first")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("opus_browser=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    browser = cookie.split(";")[0].split("=", 1)[1]
    # The form's token is the server's HMAC of the id, not the id itself.
    token = re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)
    assert token != browser and browser not in response.text
    # Pages without a form set no cookie; the next form page reuses the token.
    assert "set-cookie" not in client.get("/static/site.css").headers
    again = client.get("/boka?clinic=1&treatment=1&practitioner=any&week=first")
    assert "set-cookie" not in again.headers and f'value="{token}"' in again.text


def test_oversized_forms_are_refused(booking_store: Engine, booking_client: TestClient):
    page = to_details(booking_client)
    form = page.form_with("first_name")
    big = {**form.hidden, **PATIENT, "message": "x" * (MAX_FORM_BYTES + 1)}
    response = booking_client.post(form.action, data=big)
    assert response.status_code == 413
    assert "För mycket text" in response.text

    def chunks():  # no Content-Length: the limit holds while reading
        yield b"csrf_token=" + form.hidden["csrf_token"].encode() + b"&message="
        for _ in range(MAX_FORM_BYTES // 1000 + 2):
            yield b"y" * 1000

    response = booking_client.post(
        form.action,
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert booking(booking_store, reference_of(page)).first_name is None


def test_a_form_that_is_not_urlencoded_is_refused(booking_client: TestClient):
    page = to_details(booking_client)
    form = page.form_with("first_name")
    response = booking_client.post(form.action, json={**form.hidden, **PATIENT})
    assert response.status_code == 400
    assert "Formuläret kunde inte läsas" in response.text
