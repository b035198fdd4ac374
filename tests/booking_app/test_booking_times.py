"""The time step: a week of start times with full accessible names, a month of days
with times, the first-free jump, weekends and holidays, minimum notice, and a time
taken by someone else."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select

from connectors.store.availability import is_public_holiday
from connectors.store.db import session_scope
from connectors.store.models import Booking, FreeRange, TreatmentSetMember
from demo.opus_data import DemoOpus
from tests.booking_app.booking_pages import change_settings, client_for
from tests.booking_app.booking_steps import (
    Page,
    follow,
    get,
    names,
    press,
    reference_of,
    time_buttons,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SV_DAYS = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"]
SV_MONTHS = [
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
]  # fmt: skip


def slot_time(value: str) -> datetime:
    """The UTC start in a time button's value ``<clinic>|2026-11-26T07:00Z``."""
    return datetime.strptime(value.split("|")[1], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)


def spoken(moment: datetime) -> str:
    local = moment.astimezone(STOCKHOLM)
    return (
        f"{SV_DAYS[local.weekday()]} {local.day} {SV_MONTHS[local.month - 1]} {local.year} "
        f"kl. {local:%H:%M}"
    )


def time_page(
    client: TestClient, engine: Engine, clinic: str, treatment: str, who: str, **params
) -> Page:
    ids = names(engine)
    practitioner = "any" if who == "any" else str(ids.practitioners[who])
    query = {
        "clinic": ids.clinics[clinic],
        "treatment": ids.treatments[treatment],
        "practitioner": practitioner,
        **params,
    }
    return get(client, str(httpx.URL("/boka", params=query)))


def week_of(moment: datetime) -> str:
    day = moment.astimezone(STOCKHOLM).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def all_times(client: TestClient, page: Page, weeks: int = 4) -> list[datetime]:
    """The starts of ``weeks`` weeks from the page's week on."""
    starts = []
    for _ in range(weeks):
        starts += [slot_time(b.value) for b in time_buttons(page)]
        if not page.has_link("Nästa vecka"):
            break
        page = follow(client, page.link("Nästa vecka"))
    return starts


def test_time_buttons_have_full_date_and_time_names(
    booking_client: TestClient, booking_store: Engine
):
    page = time_page(
        booking_client,
        booking_store,
        "Tandmottagningen Centrum",
        "Undersökning",
        "Märta Karlsson",
        week="first",
    )
    page = follow(booking_client, page.link("Första lediga tid"))
    buttons = time_buttons(page)
    assert buttons
    for button in buttons:
        start = slot_time(button.value)
        assert button.aria_label == f"{spoken(start)} hos Märta Karlsson"
        assert button.text == f"{start.astimezone(STOCKHOLM):%H:%M}"
    # The week runs Monday to Sunday, each day under its own heading.
    headings = [page.ids[f"day-{i}"] for i in range(1, 8)]
    assert [h.split()[0] for h in headings] == SV_DAYS


def test_times_follow_the_free_ranges_grid_and_treatment_length(
    booking_client: TestClient, booking_store: Engine, booking_demo: DemoOpus
):
    """Every offered start is on the 15-minute grid and its 45 minutes plus 5 minutes
    of cool-down fit inside one of the practitioner's free ranges at that clinic."""
    ids = names(booking_store)
    page = time_page(
        booking_client, booking_store, "Tandmottagningen Centrum", "Undersökning", "Märta Karlsson"
    )
    page = follow(booking_client, page.link("Första lediga tid"))
    starts = all_times(booking_client, page, weeks=2)
    assert starts
    with session_scope(booking_store) as session:
        ranges = session.execute(
            select(FreeRange.starts_at, FreeRange.ends_at)
            .join(
                TreatmentSetMember,
                TreatmentSetMember.treatment_set_id == FreeRange.treatment_set_id,
            )
            .where(
                FreeRange.practitioner_id == ids.practitioners["Märta Karlsson"],
                FreeRange.clinic_id == ids.clinics["Tandmottagningen Centrum"],
                TreatmentSetMember.treatment_id == ids.treatments["Undersökning"],
            )
        ).all()
    for start in starts:
        assert start.minute % 15 == 0
        assert any(a <= start and start + timedelta(minutes=50) <= b for a, b in ranges), start
    # And none is left out: the last start of a range is offered too.
    last_starts = {b - timedelta(minutes=50) for a, b in ranges if (b - a) >= timedelta(minutes=50)}
    window = (min(starts), max(starts))
    expected = {s for s in last_starts if window[0] <= s <= window[1] and s.minute % 15 == 0}
    assert expected <= set(starts)


def test_weekend_times_only_with_helgbokning(
    booking_client: TestClient, booking_store: Engine, booking_demo: DemoOpus
):
    # The demo's first clinician of each clinic works every other Saturday.
    saturday = booking_demo.free_ranges[
        (booking_demo.free_ranges["StartTime"].dt.day_of_week == 5)
        & (booking_demo.free_ranges["ClinicID"] == "UPP1")
    ]["StartTime"].min()
    monday = (saturday - timedelta(days=5)).date().isoformat()
    args = ("Tandmottagningen Centrum", "Undersökning", "Märta Karlsson")

    closed = time_page(booking_client, booking_store, *args, week=monday)
    assert not [
        b for b in time_buttons(closed) if slot_time(b.value).astimezone(STOCKHOLM).weekday() >= 5
    ]
    assert closed.ids["day-6"].startswith("lördag")

    change_settings(booking_store, weekend_booking_enabled=True)
    opened = time_page(booking_client, booking_store, *args, week=monday)
    saturdays = [
        b for b in time_buttons(opened) if slot_time(b.value).astimezone(STOCKHOLM).weekday() == 5
    ]
    assert saturdays
    assert all(b.aria_label.startswith("lördag") for b in saturdays)


def test_public_holidays_only_with_helgbokning(booking_client: TestClient, booking_store: Engine):
    """A free range on a weekday public holiday (julafton, trettondedag jul …)."""
    change_settings(booking_store, months_to_sync=12)
    day = date.today() + timedelta(days=2)
    while not (is_public_holiday(day) and day.weekday() < 5):
        day += timedelta(days=1)
    ids = names(booking_store)
    marta, centrum = ids.practitioners["Märta Karlsson"], ids.clinics["Tandmottagningen Centrum"]
    starts = datetime(day.year, day.month, day.day, 9, tzinfo=STOCKHOLM).astimezone(UTC)
    with session_scope(booking_store) as session:
        model = session.scalars(
            select(FreeRange)
            .where(FreeRange.practitioner_id == marta, FreeRange.clinic_id == centrum)
            .join(
                TreatmentSetMember,
                TreatmentSetMember.treatment_set_id == FreeRange.treatment_set_id,
            )
            .where(TreatmentSetMember.treatment_id == ids.treatments["Undersökning"])
        ).first()
        session.add(
            FreeRange(
                opus_database_id=model.opus_database_id,
                opus_range_id=10**9,
                tenant_id=model.tenant_id,
                clinic_id=centrum,
                practitioner_id=marta,
                treatment_set_id=model.treatment_set_id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                row_version=10**9,
            )
        )
    args = ("Tandmottagningen Centrum", "Undersökning", "Märta Karlsson")
    week = (day - timedelta(days=day.weekday())).isoformat()
    on_day = lambda page: [  # noqa: E731
        b for b in time_buttons(page) if slot_time(b.value).astimezone(STOCKHOLM).date() == day
    ]
    assert on_day(time_page(booking_client, booking_store, *args, week=week)) == []
    change_settings(booking_store, weekend_booking_enabled=True)
    offered = on_day(time_page(booking_client, booking_store, *args, week=week))
    # (The demo's own ranges may open that day too: the added one must be among them.)
    assert starts in {slot_time(b.value) for b in offered}


def test_minimum_notice(booking_client: TestClient, booking_store: Engine):
    args = ("Tandmottagningen Centrum", "Lagning", "any")
    first = follow(
        booking_client, time_page(booking_client, booking_store, *args).link("Första lediga tid")
    )
    soonest = slot_time(time_buttons(first)[0].value)

    change_settings(booking_store, min_notice_minutes=7 * 24 * 60)
    later = follow(
        booking_client, time_page(booking_client, booking_store, *args).link("Första lediga tid")
    )
    starts = [slot_time(b.value) for b in time_buttons(later)]
    assert starts and min(starts) >= datetime.now(UTC) + timedelta(days=7)
    assert min(starts) > soonest
    # The week with the soonest time has none before the notice ends.
    week = time_page(booking_client, booking_store, *args, week=week_of(soonest))
    assert all(
        slot_time(b.value) >= datetime.now(UTC) + timedelta(days=7) for b in time_buttons(week)
    )


def test_first_free_jump_and_the_month_view(booking_client: TestClient, booking_store: Engine):
    args = ("Tandmottagningen Enköping", "Tandstensborttagning", "any")
    page = time_page(booking_client, booking_store, *args)
    jumped = follow(booking_client, page.link("Första lediga tid"))
    assert httpx.URL(jumped.url).params["week"]
    starts = all_times(booking_client, jumped, weeks=3)
    first = min(starts)
    assert slot_time(time_buttons(jumped)[0].value) == first
    # Nothing earlier: every week before the jump's week offers no time.
    week = page
    while week.ids["week-heading"] != jumped.ids["week-heading"]:
        assert time_buttons(week) == []
        week = follow(booking_client, week.link("Nästa vecka"))
    # The month view links exactly the days that have times (the first one among them).
    linked_days = {
        int(a.text)
        for a in jumped.links
        if a.aria_label and a.aria_label.endswith("lediga tider finns")
    }
    local_first = first.astimezone(STOCKHOLM)
    assert local_first.day in linked_days
    days_with_buttons = {
        slot_time(b.value).astimezone(STOCKHOLM).day
        for b in time_buttons(jumped)
        if slot_time(b.value).astimezone(STOCKHOLM).month == local_first.month
    }
    assert days_with_buttons <= linked_days
    # A day link leads to that day's week.
    day_link = next(
        a for a in jumped.links if a.aria_label and a.aria_label.endswith("lediga tider finns")
    )
    week = follow(booking_client, day_link)
    assert week.h1 == "Välj tid" and time_buttons(week)


def test_the_time_step_opens_on_the_week_of_the_first_free_time_and_its_month(
    booking_client: TestClient, booking_store: Engine
):
    """Issue 19: on a Sunday, or when this week is full, the step opened on an empty
    week (and its month); now it opens where the first free time is."""
    args = ("Tandmottagningen Centrum", "Lagning", "any")
    ids = names(booking_store)
    next_monday = date.fromisoformat(week_of(datetime.now(UTC))) + timedelta(days=7)
    with session_scope(booking_store) as session:  # this week is full
        session.execute(
            delete(FreeRange).where(
                FreeRange.clinic_id == ids.clinics[args[0]],
                FreeRange.starts_at
                < datetime.combine(next_monday, datetime.min.time(), STOCKHOLM).astimezone(UTC),
            )
        )

    opened = time_page(booking_client, booking_store, *args)
    jumped = follow(booking_client, opened.link("Första lediga tid"))

    assert time_buttons(opened)
    assert opened.ids["week-heading"] == jumped.ids["week-heading"]
    first = min(slot_time(b.value) for b in time_buttons(opened)).astimezone(STOCKHOLM)
    assert week_of(first) >= next_monday.isoformat()
    assert SV_MONTHS[first.month - 1] in opened.ids["month-heading"].lower()


def test_week_navigation(booking_client: TestClient, booking_store: Engine):
    args = ("Tandmottagningen Centrum", "Lagning", "any")
    this_week = time_page(booking_client, booking_store, *args, week=week_of(datetime.now(UTC)))
    assert not this_week.has_link("Föregående vecka")  # no going into the past
    next_week = follow(booking_client, this_week.link("Nästa vecka"))
    back = follow(booking_client, next_week.link("Föregående vecka"))
    assert back.ids["week-heading"] == this_week.ids["week-heading"]
    assert next_week.ids["week-heading"] != this_week.ids["week-heading"]


def test_a_time_taken_meanwhile_offers_the_nearest_free_times(
    booking_store: Engine, booking_client: TestClient
):
    args = ("Tandmottagningen Centrum", "Undersökning", "Märta Karlsson")
    page = follow(
        booking_client, time_page(booking_client, booking_store, *args).link("Första lediga tid")
    )
    button = time_buttons(page)[1]
    other = client_for(booking_store)
    first_patient = press(
        other,
        time_buttons(
            follow(other, time_page(other, booking_store, *args).link("Första lediga tid"))
        )[1],
    )
    assert first_patient.h1 == "Dina uppgifter"

    late = press(booking_client, button)
    assert late.status == 409
    assert late.h1 == "Tiden är inte längre ledig"
    offered = [b for b in late.buttons if b.name == "slot"]
    assert offered and slot_time(button.value) not in [slot_time(b.value) for b in offered]
    taken = slot_time(button.value)
    # Nearest first: no offered time is further away than a free one left out.
    assert all(b.aria_label.endswith("hos Märta Karlsson") for b in offered)
    nearest = press(booking_client, min(offered, key=lambda b: abs(slot_time(b.value) - taken)))
    assert nearest.h1 == "Dina uppgifter"
    with session_scope(booking_store) as session:
        held = session.scalars(select(Booking.starts_at).where(Booking.status == "held")).all()
    assert len(held) == 2 and taken in held
    assert reference_of(nearest) != reference_of(first_patient)


def test_a_held_time_is_not_offered_to_others(booking_store: Engine, booking_client: TestClient):
    args = ("Tandmottagningen Centrum", "Undersökning", "Märta Karlsson")
    page = follow(
        booking_client, time_page(booking_client, booking_store, *args).link("Första lediga tid")
    )
    chosen = time_buttons(page)[0]
    press(booking_client, chosen)
    again = time_page(booking_client, booking_store, *args, week=httpx.URL(page.url).params["week"])
    assert chosen.value not in [b.value for b in time_buttons(again)]
    # The 50 minutes it occupies (45 + 5 cool-down) are gone too.
    start = slot_time(chosen.value)
    for b in time_buttons(again):
        s = slot_time(b.value)
        assert not (start - timedelta(minutes=50) < s < start + timedelta(minutes=50))
    assert re.fullmatch(r"\d+\|.+Z", chosen.value)


def test_a_double_click_on_a_time_leads_to_the_same_hold(
    booking_store: Engine, booking_client: TestClient
):
    args = ("Tandmottagningen Centrum", "Undersökning", "Märta Karlsson")
    page = follow(
        booking_client, time_page(booking_client, booking_store, *args).link("Första lediga tid")
    )
    button = time_buttons(page)[0]
    first, second = press(booking_client, button), press(booking_client, button)
    assert first.h1 == second.h1 == "Dina uppgifter"
    assert reference_of(first) == reference_of(second)
    # Another browser pressing the same time is told it is taken.
    other = client_for(booking_store)
    other_page = follow(other, time_page(other, booking_store, *args).link("Första lediga tid"))
    assert button.value not in [b.value for b in time_buttons(other_page)]
    taken = other.post(
        button.form.action,
        data={
            "csrf_token": time_buttons(other_page)[0].form.hidden["csrf_token"],
            "slot": button.value,
        },
    )
    assert taken.status_code == 409
