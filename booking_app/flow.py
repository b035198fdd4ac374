"""Where the patient is in the booking steps, and where each link leads.

The steps Klinik, Behandling, Behandlare and Tid come in the tenant's order
(*Bokningsinställningsordning*). What the patient has chosen so far travels in the
query string, as ids only (``clinic``, ``treatment``, ``practitioner``, ``at``,
``week``, ``month``): never a name, never personal data. The page for a request is
the first step in the order that is not chosen yet.

The step that completes the choice places the hold, so its options are POST buttons;
every earlier step is a plain link. With the default order that is the time step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal
from urllib.parse import quote_plus

from booking_app.messages import DEFAULT_LANGUAGE

ANY = "any"
Step = Literal["clinic", "treatment", "practitioner", "time"]

_ID = re.compile(r"[1-9][0-9]{0,9}")
_AT = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})Z")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"\d{4}-\d{2}")
_MAX_ID = 2**31 - 1
_YEARS = range(2000, 2200)
"""Years a booking page can show; others are refused before date arithmetic can
overflow on them (year 9999 plus a week)."""


class BadSelection(ValueError):
    """A query parameter that no page of ours writes: answered with 404."""


@dataclass(frozen=True)
class Selection:
    """What the patient has chosen. ``clinic``/``practitioner`` may be :data:`ANY`
    (*Vilken klinik/behandlare som helst*). ``any_clinic`` remembers that a clinic
    was "any" before picking a time settled it (the booking records the choice)."""

    clinic: int | str | None = None
    treatment: int | None = None
    practitioner: int | str | None = None
    at: datetime | None = None
    any_clinic: bool = False
    week: date | None = None
    """Monday of the week the time step shows."""
    month: date | None = None
    """First day of the month the calendar shows."""
    first_free: bool = False
    """``week=first``: jump to the week of the first free time."""

    def chosen(self, step: str) -> bool:
        if step == "time":
            return self.at is not None
        return getattr(self, step) is not None

    def without(self, *steps: str) -> Selection:
        """The selection with ``steps`` unchosen (and the calendar position reset)."""
        changes: dict[str, object] = {"week": None, "month": None, "first_free": False}
        if "time" in steps:
            changes["at"] = None
            if self.any_clinic:  # picking the time settled an "any" clinic: unsettle it
                changes["clinic"], changes["any_clinic"] = ANY, False
        for step in ("clinic", "treatment", "practitioner"):
            if step in steps:
                changes[step] = None
        if "clinic" in steps:
            changes["any_clinic"] = False
        return replace(self, **changes)

    def params(self) -> dict[str, str]:
        values: dict[str, str | None] = {
            "clinic": _text(self.clinic),
            "anyclinic": "1" if self.any_clinic else None,
            "treatment": _text(self.treatment),
            "practitioner": _text(self.practitioner),
            "at": format_at(self.at) if self.at else None,
            "week": "first" if self.first_free else (self.week.isoformat() if self.week else None),
            "month": self.month.strftime("%Y-%m") if self.month else None,
        }
        return {k: v for k, v in values.items() if v is not None}


def _text(value: int | str | None) -> str | None:
    return None if value is None else str(value)


def format_at(moment: datetime) -> str:
    """A start time as the URLs carry it: UTC to the minute, ``2026-11-26T07:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def parse_at(text: str) -> datetime:
    match = _AT.fullmatch(text)
    if not match:
        raise BadSelection("at")
    try:
        moment = datetime(*(int(g) for g in match.groups()), tzinfo=UTC)  # type: ignore[misc]
    except ValueError:
        raise BadSelection("at") from None
    if moment.year not in _YEARS:
        raise BadSelection("at")
    return moment


def _id(text: str, name: str, allow_any: bool = False) -> int | str:
    if allow_any and text == ANY:
        return ANY
    if not _ID.fullmatch(text) or int(text) > _MAX_ID:
        raise BadSelection(name)
    return int(text)


def parse_selection(params: Mapping[str, str]) -> Selection:
    """The selection in a query string (or a form). Raises :class:`BadSelection` for
    a value no page writes: unknown *ids* are the caller's to check (tenant-scoped)."""
    clinic = params.get("clinic") or None
    treatment = params.get("treatment") or None
    practitioner = params.get("practitioner") or None
    at = params.get("at") or None
    week = params.get("week") or None
    month = params.get("month") or None
    week_day = None
    if week and week != "first":
        if not _DAY.fullmatch(week):
            raise BadSelection("week")
        try:
            week_day = date.fromisoformat(week)
        except ValueError:
            raise BadSelection("week") from None
        if week_day.year not in _YEARS:
            raise BadSelection("week")
        week_day -= timedelta(days=week_day.weekday())
    month_day = None
    if month:
        if not _MONTH.fullmatch(month):
            raise BadSelection("month")
        try:
            month_day = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise BadSelection("month") from None
        if month_day.year not in _YEARS:
            raise BadSelection("month")
    treatment_id = _id(treatment, "treatment") if treatment else None
    return Selection(
        clinic=_id(clinic, "clinic", allow_any=True) if clinic else None,
        treatment=treatment_id if isinstance(treatment_id, int) else None,
        practitioner=_id(practitioner, "practitioner", allow_any=True) if practitioner else None,
        at=parse_at(at) if at else None,
        any_clinic=params.get("anyclinic") == "1" and clinic not in (None, ANY),
        week=week_day,
        month=month_day,
        first_free=week == "first",
    )


def next_step(order: tuple[str, ...], selection: Selection) -> str | None:
    """The first step in ``order`` the patient has not chosen; ``None`` when all are."""
    return next((step for step in order if not selection.chosen(step)), None)


def is_last_open_step(order: tuple[str, ...], selection: Selection, step: str) -> bool:
    """Whether choosing ``step`` completes the selection: then its options hold."""
    return [s for s in order if not selection.chosen(s)] == [step]


def steps_after(order: tuple[str, ...], step: str) -> tuple[str, ...]:
    return order[order.index(step) + 1 :]


def with_lang(params: Mapping[str, str], lang: str) -> dict[str, str]:
    """``params`` plus ``lang`` when it is not the default: Swedish URLs stay short."""
    result = dict(params)
    if lang != DEFAULT_LANGUAGE:
        result["lang"] = lang
    return result


def url(path: str, lang: str, params: Mapping[str, str] | None = None) -> str:
    # urlencode's own encoding, each name and value quoted once per process rather
    # than once per link (a time step page has dozens, of the same few values).
    pairs = with_lang(params or {}, lang).items()
    query = "&".join(f"{_quoted(str(k))}={_quoted(str(v))}" for k, v in pairs)
    return f"{path}?{query}" if query else path


@lru_cache(maxsize=65536)
def _quoted(text: str) -> str:
    return quote_plus(text)


def step_url(selection: Selection, lang: str) -> str:
    return url("/boka", lang, selection.params())


def booking_url(reference: str, page: str, lang: str, **params: str) -> str:
    """A page of one held booking, by its random reference."""
    return url(f"/boka/{reference}/{page}", lang, params)
