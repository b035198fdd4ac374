"""The booking steps' content: what each step offers, given what is chosen already,
and placing the hold when the choice is complete.

Choices narrow each other whatever the order: a chosen practitioner limits the
clinics to those where they work and the treatments to those they have free time
for; a chosen time (when *Tid* comes early) limits every later step to options that
are free at that time. "Any clinic" looks at every clinic of the treatment's Opus
database; "any practitioner" at every added practitioner, and :func:`hold` picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from booking_app import formatting, offer, times
from booking_app.flow import ANY, Selection, format_at, step_url, url
from booking_app.memory_only import NeedsStore, in_memory_only
from booking_app.offer import ClinicOption, PractitionerOption, TreatmentOption
from booking_app.page_facts import StoreLookups
from booking_app.time_step_html import CalendarCell
from booking_app.times import TimeChoice, TimeSearch
from connectors.store.availability import Slot
from connectors.store.bookings import Request, TimeTaken, hold
from connectors.store.models import Booking, TenantSettings

if TYPE_CHECKING:
    from booking_app.api.snapshots import TenantAvailability
    from booking_app.page_facts import PageFacts, PageFactsCache

STEP_LABELS = {
    "clinic": "step_clinic",
    "treatment": "step_treatment",
    "practitioner": "step_practitioner",
    "time": "step_time",
}
_MINUTE = timedelta(minutes=1)


class UnknownChoice(LookupError):
    """An id that is not this tenant's (or not offered any more): a 404."""


@dataclass(frozen=True)
class Resolved:
    """A selection with its ids looked up in the tenant's store."""

    selection: Selection
    clinic: ClinicOption | None
    treatment: TreatmentOption | None
    practitioner: PractitionerOption | None
    clinics: tuple[ClinicOption, ...]
    """All the tenant's clinics, in order."""

    @property
    def any_practitioner(self) -> bool:
        return self.selection.practitioner == ANY

    @property
    def any_clinic(self) -> bool:
        return self.selection.clinic == ANY or self.selection.any_clinic


@dataclass(frozen=True)
class Option:
    """One choice on a step page: a link, or (on the step that completes the
    choice) a button that posts ``name=value`` to place the hold."""

    href: str
    name: str
    value: str
    label: str
    aria_label: str | None = None
    detail: object | None = None


@dataclass
class Progress:
    step: str
    label_key: str
    value: str | None
    change_href: str | None
    current: bool


@dataclass
class TimeStep:
    """The time step: the week's days with their times, and the month around it."""

    monday: date
    days: list[tuple[date, list[Option]]]
    month: date
    month_rows: list[list[CalendarCell]]
    """Calendar rows (:func:`booking_app.time_step_html.calendar_html`)."""
    previous_week: str | None
    next_week: str | None
    previous_month: str | None
    next_month: str | None
    first_free_href: str
    none_at_all: bool = False


@dataclass
class StepContext:
    """Everything a step page needs besides the site's own context."""

    step: str
    final: bool
    progress: list[Progress]
    options: list[Option] = field(default_factory=list)
    any_option: Option | None = None
    time: TimeStep | None = None
    clinic_text: str | None = None
    groups: list[tuple[str | None, list[Option]]] = field(default_factory=list)


class Steps:
    """The booking steps of one tenant at one moment."""

    def __init__(
        self,
        session: Session,
        tenant_id: int,
        settings: TenantSettings,
        now: datetime,
        tz: tzinfo,
        lang: str,
        text: Callable[..., str],
        snapshot: Callable[[], TenantAvailability | None] | None = None,
        page_facts: PageFactsCache | None = None,
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.settings = settings
        self.now = now
        self.tz = tz
        self.lang = lang
        self.t = text
        self._get_snapshot = snapshot
        self._snapshot: list[TenantAvailability | None] = []
        self._page_facts = page_facts

    def snapshot(self) -> TenantAvailability | None:
        """The tenant's free times in memory, the API's (asked for once per page, so
        that a page's questions agree); ``None``: free times come from the store."""
        if not self._snapshot:
            self._snapshot.append(self._get_snapshot() if self._get_snapshot else None)
        return self._snapshot[0]

    # -- looking up ---------------------------------------------------------------

    def lookups(self) -> PageFacts | StoreLookups:
        """The clinics, treatments and practitioners the pages look up: read once per
        version of the snapshot's reference data, or from the store without one."""
        snapshot = self.snapshot() if self._page_facts is not None else None
        if snapshot is None or self._page_facts is None:
            return StoreLookups(self.session, self.tenant_id)
        on_loop = in_memory_only(self.session)
        facts = self._page_facts.get(self.tenant_id, snapshot.reference.version, read=not on_loop)
        if facts is None:
            raise NeedsStore("page facts")
        return facts

    def resolve(self, selection: Selection, past_choice: bool = False) -> Resolved:
        look = self.lookups()
        clinic = treatment = practitioner = None
        if isinstance(selection.clinic, int):
            clinic = look.clinic(selection.clinic)
            if clinic is None:
                raise UnknownChoice("clinic")
        if selection.treatment is not None:
            treatment = look.treatment(selection.treatment)
            if treatment is None:
                raise UnknownChoice("treatment")
        if isinstance(selection.practitioner, int):
            practitioner = look.practitioner(selection.practitioner)
            if practitioner is None:
                raise UnknownChoice("practitioner")
        if clinic and treatment and clinic.opus_database_id != treatment.opus_database_id:
            raise UnknownChoice("treatment")  # a treatment of another Opus database
        if not past_choice and selection.clinic == ANY and not self.settings.any_clinic_option:
            raise UnknownChoice("clinic")
        if (
            not past_choice
            and selection.practitioner == ANY
            and not self.settings.any_practitioner_option
        ):
            raise UnknownChoice("practitioner")
        return Resolved(selection, clinic, treatment, practitioner, look.all_clinics())

    def clinic_ids(self, r: Resolved) -> list[int]:
        """The clinics the choice so far allows, in the operator's order."""
        if r.clinic:
            return [r.clinic.id]
        ids = [
            c.id
            for c in r.clinics
            if r.treatment is None or c.opus_database_id == r.treatment.opus_database_id
        ]
        if r.practitioner:
            works = self.lookups().works_at(r.practitioner.id)
            ids = [c for c in ids if c in works]
        return ids

    def search(self, r: Resolved) -> TimeSearch:
        clinic_ids = self.clinic_ids(r)
        if r.treatment:
            treatment_ids = [r.treatment.id]
        else:
            treatment_ids = [
                t.id
                for t in offer.treatments_offered(
                    self.session,
                    self.tenant_id,
                    clinic_ids,
                    self.now,
                    r.practitioner.id if r.practitioner else None,
                )
            ]
        return TimeSearch(
            self.tenant_id,
            tuple(clinic_ids),
            tuple(treatment_ids),
            (r.practitioner.id,) if r.practitioner else None,
        )

    def free_at(self, search: TimeSearch, at: datetime, from_memory: bool = True) -> list[Slot]:
        snapshot = self.snapshot() if from_memory else None
        slots = times.find_slots(
            self.session, self.settings, search, at, at + _MINUTE, self.now, snapshot
        )
        return [s for s in slots if s.starts_at == at]

    # -- the page for a step ------------------------------------------------------

    def progress(self, r: Resolved, order: tuple[str, ...], current: str | None) -> list[Progress]:
        values = {
            "clinic": (r.clinic.name if r.clinic else None)
            if r.selection.clinic != ANY
            else self.t("any_clinic"),
            "treatment": r.treatment.name if r.treatment else None,
            "practitioner": (r.practitioner.name if r.practitioner else None)
            if r.selection.practitioner != ANY
            else self.t("any_practitioner"),
            "time": formatting.format_long_datetime(r.selection.at, self.lang, self.tz)
            if r.selection.at
            else None,
        }
        if r.clinic and r.selection.any_clinic:
            values["clinic"] = f"{r.clinic.name} ({self.t('any_clinic_chosen')})"
        result = []
        for i, step in enumerate(order):
            chosen = r.selection.chosen(step)
            change = step_url(r.selection.without(*order[i:]), self.lang) if chosen else None
            result.append(Progress(step, STEP_LABELS[step], values[step], change, step == current))
        return result

    def _link(self, r: Resolved, **changes: object) -> str:
        return step_url(
            replace(r.selection, week=None, month=None, first_free=False, **changes), self.lang
        )

    def clinic_step(self, r: Resolved, final: bool) -> StepContext:
        candidates = [c for c in r.clinics if c.id in set(self.clinic_ids(replace(r, clinic=None)))]
        search = self.search(replace(r, clinic=None))
        kept = []
        for clinic in candidates:
            if r.treatment and not any(
                t.id == r.treatment.id
                for t in offer.treatments_offered(
                    self.session,
                    self.tenant_id,
                    [clinic.id],
                    self.now,
                    r.practitioner.id if r.practitioner else None,
                )
            ):
                continue
            if r.selection.at and not self.free_at(
                replace(search, clinic_ids=(clinic.id,)), r.selection.at
            ):
                continue
            kept.append(clinic)
        options = [
            Option(self._link(r, clinic=c.id), "clinic", str(c.id), c.name, detail=c) for c in kept
        ]
        groups = _grouped(options)
        any_option = None
        if self.settings.any_clinic_option and len(kept) > 1:
            any_option = Option(self._link(r, clinic=ANY), "clinic", ANY, self.t("any_clinic"))
        return StepContext("clinic", final, [], options, any_option, groups=groups)

    def treatment_step(self, r: Resolved, final: bool) -> StepContext:
        clinic_ids = self.clinic_ids(r)
        treatments = offer.treatments_offered(
            self.session,
            self.tenant_id,
            clinic_ids,
            self.now,
            r.practitioner.id if r.practitioner else None,
        )
        if r.selection.at:
            search = self.search(r)
            treatments = [
                t
                for t in treatments
                if self.free_at(replace(search, treatment_ids=(t.id,)), r.selection.at)
            ]
        options = [
            Option(self._link(r, treatment=t.id), "treatment", str(t.id), t.name, detail=t)
            for t in treatments
        ]
        text = r.clinic.clinic_text if r.clinic else None
        return StepContext(
            "treatment",
            final,
            [],
            options,
            clinic_text=(text or "").strip() or self.settings.default_clinic_text,
        )

    def practitioner_step(self, r: Resolved, final: bool) -> StepContext:
        practitioners = offer.practitioners_offered(
            self.session,
            self.tenant_id,
            self.clinic_ids(r),
            self.now,
            r.treatment.id if r.treatment else None,
        )
        if r.selection.at:
            search = self.search(r)
            practitioners = [
                p
                for p in practitioners
                if self.free_at(replace(search, practitioner_ids=(p.id,)), r.selection.at)
            ]
        options = [
            Option(self._link(r, practitioner=p.id), "practitioner", str(p.id), p.name, detail=p)
            for p in practitioners
        ]
        any_option = None
        if self.settings.any_practitioner_option and len(practitioners) > 1:
            any_option = Option(
                self._link(r, practitioner=ANY), "practitioner", ANY, self.t("any_practitioner")
            )
        return StepContext("practitioner", final, [], options, any_option)

    # -- the time step --------------------------------------------------------------

    def time_options(
        self, r: Resolved, choices: Iterable[TimeChoice], clinic_names: dict[int, str]
    ) -> list[Option]:
        """A button (or link) per time. What every time of the page shares, the link's
        query and the label's wording, is made once; each moment's texts come from
        :func:`_moment_texts` (a busy week has dozens of times, each page the same)."""
        plain = replace(r.selection, week=None, month=None, first_free=False).params()
        with_practitioner = self.t("time_with_practitioner") if r.practitioner else None
        own_clinic = r.clinic.id if r.clinic else 0
        options = []
        for choice in choices:
            clock, long, at = _moment_texts(choice.starts_at, self.lang, self.tz)
            label = long
            if with_practitioner is not None:
                label = with_practitioner.format(time=label, name=r.practitioner.name)  # type: ignore[union-attr]
            if choice.clinic_id is None:
                # "at" comes last in a step's query (before lang): appended, or in place.
                href = url("/boka", self.lang, {**plain, "at": at})
                clinic_id = own_clinic
                detail = None
            else:  # the patient chose "any clinic": this time settles it
                href = self._link(r, at=choice.starts_at, clinic=choice.clinic_id, any_clinic=True)
                clinic_id = choice.clinic_id
                label = self.t("time_at_clinic").format(
                    time=label, clinic=clinic_names[choice.clinic_id]
                )
                detail = clinic_names.get(choice.clinic_id)
            options.append(
                Option(
                    href=href,
                    name="slot",
                    value=f"{clinic_id}|{at}",
                    label=clock,
                    aria_label=label,
                    detail=detail,
                )
            )
        return options

    def first_free(self, r: Resolved) -> Slot | None:
        return times.first_free(
            self.session, self.settings, self.search(r), self.now, self.tz, self.snapshot()
        )

    def time_step(self, r: Resolved, final: bool) -> StepContext:
        today = formatting.local_day(self.now, self.tz)
        this_week = times.monday_of(today)
        monday = max(r.selection.week or this_week, this_week)
        month = r.selection.month
        search = self.search(r)
        by_clinic = r.selection.clinic == ANY
        names = _clinic_names(r, by_clinic)
        week_slots = self._week_slots(search, monday)
        if not week_slots and r.selection.week is None:
            # No week asked for and none free this one (a Sunday, a full week): open on
            # the week of the first free time, and its month, not on an empty week.
            first = times.first_free(
                self.session, self.settings, search, self.now, self.tz, self.snapshot()
            )
            if first is not None:
                first_day = formatting.local_day(first.starts_at, self.tz)
                monday = times.monday_of(first_day)
                week_slots = self._week_slots(search, monday)
                month = month or first_day.replace(day=1)
        month = month or monday.replace(day=1)
        week = times.week(times.choices(week_slots, by_clinic, False), monday, self.tz)
        days = [(d.day, self.time_options(r, d.times, names)) for d in week]

        first_day, next_month_day = times.month_bounds(month)
        month_start = times.day_start(first_day, self.tz)
        month_end = times.day_start(next_month_day, self.tz)
        snapshot = self.snapshot()
        bookable_days = (
            times.days_in_snapshot(
                snapshot, self.settings, search, month_start, month_end, self.now, self.tz
            )
            if snapshot is not None
            else None
        )
        if bookable_days is None:  # the store's answer
            month_slots = times.find_slots(
                self.session, self.settings, search, month_start, month_end, self.now
            )
            bookable_days = times.days_with_times(month_slots, self.tz)
        rows = self._calendar_rows(r, month, bookable_days)
        horizon = times.horizon_end(self.settings, self.now, self.tz).date()
        previous_month = (first_day - timedelta(days=1)).replace(day=1)
        step = TimeStep(
            monday=monday,
            days=days,
            month=first_day,
            month_rows=rows,
            previous_week=self._week_link(r, monday - timedelta(days=7))
            if monday > this_week
            else None,
            next_week=self._week_link(r, monday + timedelta(days=7))
            if monday + timedelta(days=7) <= horizon
            else None,
            previous_month=self._month_link(r, monday, previous_month)
            if previous_month >= today.replace(day=1)
            else None,
            next_month=self._month_link(r, monday, next_month_day)
            if next_month_day <= horizon
            else None,
            first_free_href=step_url(
                replace(r.selection, week=None, month=None, first_free=True), self.lang
            ),
        )
        return StepContext("time", final, [], time=step)

    def _week_slots(self, search: TimeSearch, monday: date) -> list[Slot]:
        return times.find_slots(
            self.session,
            self.settings,
            search,
            times.day_start(monday, self.tz),
            times.day_start(monday + timedelta(days=7), self.tz),
            self.now,
            self.snapshot(),
        )

    def _calendar_rows(
        self, r: Resolved, month: date, bookable_days: set[date]
    ) -> list[list[CalendarCell]]:
        """The month's days: the link to its week when it has times, and what a screen
        reader says of it (made here: a template call per day costs more). A week's
        link is made once for its days."""
        has_times, no_times = self.t("day_has_times"), self.t("day_has_no_times")
        links: dict[date, str] = {}
        rows = []
        for row in times.month_weeks(month):
            cells: list[tuple[date, str | None, str] | None] = []
            for day in row:
                if day is None:
                    cells.append(None)
                    continue
                written = formatting.format_day(day, self.lang)
                if day in bookable_days:
                    monday = times.monday_of(day)
                    link = links.get(monday)
                    if link is None:
                        link = links[monday] = self._week_link(r, day, month)
                    cells.append((day, link, has_times.format(day=written)))
                else:
                    cells.append((day, None, no_times.format(day=written)))
            rows.append(cells)
        return rows

    def _week_link(self, r: Resolved, day: date, month: date | None = None) -> str:
        return step_url(
            replace(r.selection, week=times.monday_of(day), month=month, first_free=False),
            self.lang,
        )

    def _month_link(self, r: Resolved, monday: date, month: date) -> str:
        return step_url(replace(r.selection, week=monday, month=month, first_free=False), self.lang)

    # -- holding ------------------------------------------------------------------

    def hold(self, r: Resolved, at: datetime) -> Booking:
        """Hold ``at`` for the complete choice ``r``. "Any clinic" tries the clinics
        free at that time in the operator's order. Raises ``TimeTaken``."""
        assert r.treatment is not None
        if r.clinic:
            clinic_ids = [r.clinic.id]
        else:
            # From the store: the hold decides, and its candidates should be current.
            free = self.free_at(self.search(r), at, from_memory=False)
            clinic_ids = list(dict.fromkeys(s.clinic_id for s in free))
        for clinic_id in clinic_ids:
            try:
                return hold(
                    self.session,
                    Request(
                        tenant_id=self.tenant_id,
                        clinic_id=clinic_id,
                        treatment_id=r.treatment.id,
                        starts_at=at,
                        practitioner_id=r.practitioner.id if r.practitioner else None,
                        any_clinic=r.any_clinic,
                        language=self.lang,
                    ),
                    self.now,
                )
            except TimeTaken:
                continue
        raise TimeTaken()

    def nearest(self, r: Resolved, at: datetime) -> list[Option]:
        """The free times nearest ``at`` for the same choice, as hold buttons."""
        if r.clinic and r.any_clinic:  # look again at every clinic, as first asked
            r = replace(
                r, clinic=None, selection=replace(r.selection, clinic=ANY, any_clinic=False)
            )
        slots = times.nearest(self.session, self.settings, self.search(r), at, self.now)
        by_clinic = r.selection.clinic == ANY
        return self.time_options(
            r, times.choices(slots, by_clinic, False), _clinic_names(r, by_clinic)
        )

    def for_booking(self, booking: Booking) -> Resolved:
        """The choice that made ``booking``, to offer its nearest times again."""
        selection = Selection(
            clinic=ANY if booking.any_clinic else booking.clinic_id,
            treatment=booking.treatment_id,
            practitioner=ANY if booking.any_practitioner else booking.practitioner_id,
        )
        # The tenant may have turned "any" off since: the booking's own choice stands.
        return self.resolve(selection, past_choice=True)


def _clinic_names(r: Resolved, by_clinic: bool) -> dict[int, str]:
    """The clinics' names, which a time shows only when the patient asked for any clinic:
    a chain has up to thousands of clinics, not looked through for every other page."""
    return {c.id: c.name for c in r.clinics} if by_clinic else {}


@lru_cache(maxsize=65536)  # the same grid moments come back on every page
def _moment_texts(moment: datetime, lang: str, tz: tzinfo) -> tuple[str, str, str]:
    """A time's clock (the button), its long form (what a screen reader says) and its
    form in a link."""
    return (
        formatting.format_clock(moment, tz),
        formatting.format_long_datetime(moment, lang, tz),
        format_at(moment),
    )


def _grouped(options: list[Option]) -> list[tuple[str | None, list[Option]]]:
    """Clinic options under their *Grupp*, as the first page shows them."""
    if not any(o.detail.group_name for o in options):  # type: ignore[union-attr]
        return [(None, options)] if options else []
    groups: dict[str, list[Option]] = {}
    ungrouped: list[Option] = []
    for option in options:
        name = option.detail.group_name  # type: ignore[union-attr]
        if name:
            groups.setdefault(name, []).append(option)
        else:
            ungrouped.append(option)
    result: list[tuple[str | None, list[Option]]] = list(groups.items())
    if ungrouped:
        result.append(("", ungrouped))  # "": the heading "Ogrupperade kliniker"
    return result
