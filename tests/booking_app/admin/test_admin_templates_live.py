"""*E-post* and *SMS*: the merge-field picker, the preview with sample data, and the
JSON answer the tab's script shows as the operator types."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from connectors.notifications.fields import FIELDS, sample_values
from connectors.notifications.templates import estimate_sms_length
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, post_tab, tenant_id

A = "a@tandmottagningen.se"


@pytest.fixture
def own(booking_client, booking_store: Engine) -> int:
    tenant = tenant_id(booking_store)
    operator(booking_store, A, {tenant: "operator"})
    assert log_in(booking_client, A).status_code == 303
    return tenant


def _live(client, tenant: int, tab: str, text: str, token: str | None = None, lang: str = ""):
    token = token or csrf_token(client.get(f"/admin/{tenant}/{tab}"))
    return client.post(
        f"/admin/{tenant}/{tab}/forhandsvisning{lang}",
        data={"csrf_token": token, "text": text},
    )


def test_sms_live_length_matches_the_estimate(booking_client, own: int) -> None:
    text = "Hej {{ first_name }}! Din tid {{ date }} kl {{ time }} hos {{ clinic_name }}."
    answer = _live(booking_client, own, "sms", text)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    expected = estimate_sms_length(text)
    assert body["length"]["characters"] == expected.characters
    assert (body["length"]["encoding"], body["length"]["segments"]) == ("GSM-7", 1)
    assert body["length"]["text"].startswith("Uppskattad längd:")
    values = sample_values("sms")
    assert body["preview"] == (
        f"Hej {values['first_name']}! Din tid {values['date']} kl {values['time']} "
        f"hos {values['clinic_name']}."
    )
    assert body["problems"] == []


def test_sms_live_length_counts_ucs2_and_segments(booking_client, own: int) -> None:
    body = _live(booking_client, own, "sms", "Välkommen 😀 " + "x" * 80).json()
    assert body["length"]["encoding"] == "UCS-2"
    assert body["length"]["segments"] == 2
    english = _live(booking_client, own, "sms", "Hi", lang="?lang=en").json()
    assert english["length"]["text"].startswith("Estimated length:")


def test_live_preview_reports_problems_and_email_has_no_length(booking_client, own: int) -> None:
    body = _live(booking_client, own, "e-post", "Hej {{ personnummer }}").json()
    assert body["preview"] is None and "personnummer" in " ".join(body["problems"])
    assert "length" not in body
    html = _live(booking_client, own, "e-post", "<b>{{ patient_name }}</b>").json()
    assert html["preview"] == f"<b>{sample_values('email')['patient_name']}</b>"  # shown as text


def test_live_preview_needs_login_csrf_and_a_known_tab(
    booking_client, booking_store: Engine, own: int
) -> None:
    assert _live(booking_client, own, "sms", "x", token="y" * 43).status_code == 403
    token = csrf_token(booking_client.get(f"/admin/{own}/sms"))
    assert _live(booking_client, own, "fax", "x", token=token).status_code == 404
    booking_client.cookies.delete("opus_operator")
    answer = booking_client.post(f"/admin/{own}/sms/forhandsvisning", follow_redirects=False)
    assert answer.status_code == 303


def test_page_has_the_picker_the_script_and_a_preview_of_saved_templates(
    booking_client, own: int
) -> None:
    path = f"/admin/{own}/e-post"
    saved = post_tab(
        booking_client, path, subject_new="Bokning {{ date }}", body_new="Hej {{ first_name }}"
    )
    assert saved.status_code == 303
    page = booking_client.get(path).text
    for name in FIELDS:
        assert f'data-field="{name}"' in page
    assert '<script src="/static/admin/messages.js" defer></script>' in page
    assert f"Bokning {sample_values('email')['date']}" in page
    assert f"Hej {sample_values('email')['first_name']}" in page
    assert "Opus standardtext skickas" in page  # the empty bodies
    script = booking_client.get("/static/admin/messages.js")
    assert script.status_code == 200 and "forhandsvisning" not in script.text  # from the page
