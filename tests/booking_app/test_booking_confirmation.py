"""Confirming a held time as the tenant's settings say: a code by e-mail or SMS, the
proof-of-work check, or directly; and what happens when the hold or the code runs
out, when new bookings are off or need a login, and under maintenance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from booking_app import captcha
from booking_app.main import create_app
from booking_app.patients import LoggedInPatient
from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage
from opus_online.config import Settings
from tests.booking_app.booking_pages import (
    BASE_DOMAIN,
    SECRET,
    TENANT_HOST,
    change_settings,
    client_for,
    store_url,
)
from tests.booking_app.booking_steps import (
    PATIENT,
    booking,
    fill_details,
    first_time,
    get,
    press,
    reference_of,
    sent_codes,
    submit,
    time_buttons,
    to_details,
    to_time_step,
)
from tests.booking_app.login_steps import Clock


def outbox_count(engine: Engine, kind: str) -> int:
    with session_scope(engine) as session:
        return session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)
        )


# -- the code ------------------------------------------------------------------------


def test_wrong_codes_count_down_and_the_fifth_releases_the_time(
    booking_store: Engine, booking_client: TestClient
):
    details = to_details(booking_client)
    reference = reference_of(details)
    page = fill_details(booking_client, details, code_channel="email")
    [(_, recipient, code)] = sent_codes(booking_store, reference)
    assert recipient == "tolvan@example.se"
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        page = press(booking_client, page.button("Bekräfta bokningen"), code=wrong)
        assert page.status == 422
        assert page.ids["code-error"].endswith("Koden stämmer inte. Kontrollera och försök igen.")
        assert f"Du har {left} försök kvar" in page.ids["code-hint"]
        assert 'aria-describedby="code-hint code-error"' in page.html
    locked = press(booking_client, page.button("Bekräfta bokningen"), code=wrong)
    assert locked.status == 409
    assert locked.h1 == "För många felaktiga koder"
    assert booking(booking_store, reference).status == "expired"
    assert outbox_count(booking_store, "new") == 0
    # The released time is free again: offered among the nearest and on its week.
    released = booking(booking_store, reference)
    assert released.starts_at in _offered_starts(locked)
    monday = released.starts_at.date() - timedelta(days=released.starts_at.weekday())
    week = get(
        booking_client,
        f"/boka?clinic={released.clinic_id}&treatment={released.treatment_id}"
        f"&practitioner={released.practitioner_id}&week={monday.isoformat()}",
    )
    assert released.starts_at in _offered_starts(week)
    # The right code no longer helps.
    after = press(booking_client, page.button("Bekräfta bokningen"), code=code)
    assert after.status == 409 and booking(booking_store, reference).status == "expired"


def _offered_starts(page) -> list[datetime]:
    return [
        datetime.strptime(b.value.split("|")[1], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        for b in page.buttons
        if b.name == "slot"
    ]


def test_a_malformed_code_is_not_counted(booking_store: Engine, booking_client: TestClient):
    details = to_details(booking_client)
    page = fill_details(booking_client, details, code_channel="email")
    page = press(booking_client, page.button("Bekräfta bokningen"), code="12ab")
    assert page.status == 422
    assert "sex siffror" in page.ids["code-error"]
    assert booking(booking_store, reference_of(details)).code_attempts == 0


def test_an_expired_code_is_refused_and_a_new_one_works(
    booking_store: Engine, clocked: TestClient, clock: Clock
):
    details = to_details(clocked)
    reference = reference_of(details)
    page = fill_details(clocked, details, code_channel="sms")
    old_code = sent_codes(booking_store, reference)[0][2]
    clock.now += timedelta(minutes=11)
    expired = press(clocked, page.button("Bekräfta bokningen"), code=old_code)
    assert expired.status == 422
    assert "Koden har gått ut" in expired.ids["code-error"]

    resent = press(clocked, expired.button("Skicka en ny kod"), code_channel="email")
    assert resent.status == 200 and "En ny kod har skickats." in resent.html
    codes = sent_codes(booking_store, reference)
    assert [c[0] for c in codes] == ["sms", "email"]
    done = press(clocked, resent.button("Bekräfta bokningen"), code=codes[-1][2])
    assert done.h1 == "Din tid är bokad"


def test_resending_a_code_is_throttled(booking_store: Engine, clocked: TestClient, clock: Clock):
    details = to_details(clocked)
    reference = reference_of(details)
    page = fill_details(clocked, details, code_channel="email")
    clock.now += timedelta(seconds=20)
    too_soon = press(clocked, page.button("Skicka en ny kod"), code_channel="email")
    assert too_soon.status == 429
    assert "Vänta 40 sekunder" in too_soon.html
    assert len(sent_codes(booking_store, reference)) == 1
    clock.now += timedelta(seconds=41)
    again = press(clocked, page.button("Skicka en ny kod"), code_channel="sms")
    assert again.status == 200
    first, second = sent_codes(booking_store, reference)
    assert second[:2] == ("sms", "+46701234567")
    # Only the newest code counts.
    if first[2] != second[2]:
        stale = press(clocked, again.button("Bekräfta bokningen"), code=first[2])
        assert stale.status == 422
    assert press(clocked, again.button("Bekräfta bokningen"), code=second[2]).h1 == (
        "Din tid är bokad"
    )


# -- the proof-of-work check ---------------------------------------------------------


def to_captcha(client: TestClient, engine: Engine):
    change_settings(engine, code_challenge_enabled=False, skip_confirmation=False)
    details = to_details(client)
    page = fill_details(client, details)
    assert page.h1 == "Bekräfta bokningen", page.html
    return page, reference_of(details)


def test_captcha_confirms_when_no_code_is_used(booking_store: Engine, booking_client: TestClient):
    page, reference = to_captcha(booking_client, booking_store)
    assert '<script src="/static/captcha.js" defer></script>' in page.html
    form = page.forms[-1]  # the page's own form (the header has none)
    challenge = form.hidden["challenge"]
    assert challenge.startswith(reference + ".")
    nonce = captcha.solve(challenge, captcha.DIFFICULTY_BITS)
    done = submit(booking_client, form, {"nonce": nonce})
    assert done.h1 == "Din tid är bokad"
    assert booking(booking_store, reference).status == "confirmed"
    assert outbox_count(booking_store, "code") == 0
    # Replaying the solved challenge confirms nothing new: it shows the same booking.
    assert submit(booking_client, form, {"nonce": nonce}).url == done.url
    assert outbox_count(booking_store, "new") == 2


def test_captcha_refuses_wrong_forged_foreign_and_late_answers(
    booking_store: Engine, clocked: TestClient, clock: Clock
):
    page, reference = to_captcha(clocked, booking_store)
    form = page.forms[-1]
    challenge = form.hidden["challenge"]
    nonce = captcha.solve(challenge, captcha.DIFFICULTY_BITS)
    wrong = str(int(nonce) + 1)
    while captcha.solves(challenge, wrong, captcha.DIFFICULTY_BITS):
        wrong = str(int(wrong) + 1)
    secret = SECRET.encode()
    forged_payload = challenge.rsplit(".", 1)[0].replace(f".{captcha.DIFFICULTY_BITS}.", ".1.")
    forged = forged_payload + "." + challenge.rsplit(".", 1)[1]
    other = captcha.issue(secret, "another-booking", clock.now)
    easy = captcha.issue(secret, reference, clock.now, bits=1)  # signed, but too easy
    attempts = [
        (challenge, wrong),
        (challenge, ""),
        (forged, captcha.solve(forged, 1)),
        (other, captcha.solve(other, captcha.DIFFICULTY_BITS)),
        (easy, captcha.solve(easy, 1)),
    ]
    for attempt_challenge, attempt_nonce in attempts:
        refused = submit(clocked, form, {"challenge": attempt_challenge, "nonce": attempt_nonce})
        assert refused.status == 422, (attempt_challenge, attempt_nonce)
        assert "kunde inte kontrolleras" in refused.html
    clock.now += captcha.LIFETIME + timedelta(seconds=1)
    late = submit(clocked, form, {"nonce": nonce})
    assert late.status == 422 and "tog för lång tid" in late.html
    assert booking(booking_store, reference).status == "held"


def test_captcha_cannot_replace_the_code(booking_store: Engine, booking_client: TestClient):
    """With the code challenge on, the captcha page confirms nothing."""
    details = to_details(booking_client)
    reference = reference_of(details)
    fill_details(booking_client, details, code_channel="email")
    challenge = captcha.issue(SECRET.encode(), reference, datetime.now(UTC))
    response = booking_client.post(
        f"/boka/{reference}/bekrafta",
        data={
            "csrf_token": details.forms[-1].hidden["csrf_token"],
            "challenge": challenge,
            "nonce": captcha.solve(challenge, captcha.DIFFICULTY_BITS),
        },
    )
    assert response.status_code == 200 and "/uppgifter" in str(response.url)
    assert booking(booking_store, reference).status == "held"


def test_skip_confirmation_books_directly_even_with_the_code_setting_on(
    booking_store: Engine, booking_client: TestClient
):
    change_settings(booking_store, skip_confirmation=True, code_challenge_enabled=True)
    details = to_details(booking_client)
    assert "code_channel-email" not in details.html  # no code to choose a channel for
    done = fill_details(booking_client, details)
    assert done.h1 == "Din tid är bokad"
    assert booking(booking_store, reference_of(details)).status == "confirmed"
    assert outbox_count(booking_store, "code") == 0
    # A second submit of the details form shows the same booking, stores nothing new.
    again = fill_details(booking_client, details, first_name="Någon Annan")
    assert again.url == done.url
    assert booking(booking_store, reference_of(details)).first_name == PATIENT["first_name"]


def test_confirmation_page_shows_what_was_booked(booking_store: Engine, booking_client: TestClient):
    change_settings(booking_store, skip_confirmation=True)
    details = to_details(booking_client)
    done = fill_details(booking_client, details)
    stored = booking(booking_store, reference_of(details))
    from booking_app.formatting import format_long_datetime

    assert format_long_datetime(stored.starts_at) in done.html
    summary = done.html[done.html.index('<dl class="summary">') :]
    assert "Tandmottagningen Centrum" in summary and "Undersökning" in summary
    assert PATIENT["personal_number"] not in done.html and "191212121212" not in done.html


# -- lost holds ----------------------------------------------------------------------


def test_an_expired_hold_whose_time_was_taken_offers_the_nearest_times(
    booking_store: Engine, clocked: TestClient, clock: Clock
):
    details = to_details(clocked)
    reference = reference_of(details)
    clock.now += timedelta(minutes=11)
    # Someone else takes the lapsed time.
    other = client_for(booking_store, clock=clock)
    taken = first_time(other, to_time_step(other))
    assert taken.h1 == "Dina uppgifter"
    assert (
        booking(booking_store, reference_of(taken)).starts_at
        == booking(booking_store, reference).starts_at
    )

    late = fill_details(clocked, details, code_channel="email")
    assert late.status == 409
    assert late.h1 == "Reservationen har gått ut"
    assert [b for b in late.buttons if b.name == "slot"]
    lost = booking(booking_store, reference)
    assert lost.status == "expired" and lost.first_name is None  # nothing stored
    assert sent_codes(booking_store, reference) == []


def test_a_lapsed_hold_nobody_took_still_books(
    booking_store: Engine, clocked: TestClient, clock: Clock
):
    change_settings(booking_store, skip_confirmation=True)
    details = to_details(clocked)
    clock.now += timedelta(minutes=30)
    assert fill_details(clocked, details).h1 == "Din tid är bokad"


# -- when no new booking can be made --------------------------------------------------


def test_new_booking_disabled(booking_store: Engine, booking_client: TestClient):
    details = to_details(booking_client)
    change_settings(booking_store, new_booking_enabled=False)
    front = get(booking_client, "/")
    assert not front.has_link("Boka tid")
    for path in ("/boka", "/boka?clinic=1&treatment=1"):
        page = get(booking_client, path)
        assert page.status == 403
        assert page.h1 == "Det går inte att boka ny tid här"
    refused = fill_details(booking_client, details, code_channel="email")
    assert refused.status == 403
    assert booking(booking_store, reference_of(details)).first_name is None


def test_publishing_off_closes_the_steps(booking_store: Engine, booking_client: TestClient):
    change_settings(booking_store, publish_opus_online=False)
    page = get(booking_client, "/boka")
    assert page.status == 403 and page.h1 == "Onlinebokningen är stängd"


class _LoggedIn:
    """Stands in for the e-ID login: puts a patient on every request."""

    def __init__(self, app, patient: LoggedInPatient) -> None:
        self.app, self.patient = app, patient

    async def __call__(self, scope, receive, send):
        scope.setdefault("state", {})["patient"] = self.patient
        await self.app(scope, receive, send)


def test_login_gate(booking_store: Engine, booking_client: TestClient):
    change_settings(booking_store, new_booking_requires_login=True)
    page = get(booking_client, "/boka")
    assert page.status == 403
    assert page.h1 == "Logga in för att boka"
    assert "BankID" in page.html

    settings = Settings(
        store_url=store_url(booking_store), base_domain=BASE_DOMAIN, secret_key=SECRET
    )
    app = create_app(settings)
    patient = LoggedInPatient("191212121212", "Tolvan", "Tolvansson")
    app.add_middleware(_LoggedIn, patient=patient)
    logged_in = TestClient(app, base_url=f"http://{TENANT_HOST}")
    change_settings(booking_store, skip_confirmation=True)
    details = to_details(logged_in)
    assert "personal_number" not in details.labels  # it comes from the e-ID
    fields = {k: v for k, v in PATIENT.items() if k != "personal_number"}
    done = submit(logged_in, details.form_with("first_name"), fields)
    assert done.h1 == "Din tid är bokad"
    stored = booking(booking_store, reference_of(details))
    assert stored.personal_number == "191212121212" and stored.logged_in_with_eid


# -- maintenance ---------------------------------------------------------------------


def test_maintenance_closes_every_patient_page(booking_store: Engine, booking_client: TestClient):
    details = to_details(booking_client)
    reference = reference_of(details)
    week = get(booking_client, "/boka?clinic=1&treatment=1&practitioner=any&week=first")
    button = time_buttons(week)[0]
    change_settings(booking_store, maintenance_mode=True)
    pages = [
        "/",
        "/boka",
        "/boka?clinic=1",
        "/boka?clinic=1&treatment=1&practitioner=any",
        f"/boka/{reference}/uppgifter",
        f"/boka/{reference}/kod",
        f"/boka/{reference}/bekrafta",
        f"/boka/{reference}/bekraftad",
    ]
    for path in pages:
        response = booking_client.get(path)
        assert response.status_code == 503, path
        assert "Underhåll pågår" in response.text
        assert int(response.headers["retry-after"]) > 0
    posted = press(booking_client, button)
    assert posted.status == 503
    assert fill_details(booking_client, details).status == 503
    with session_scope(booking_store) as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
