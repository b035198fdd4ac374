"""The tests' one clock: the whole run happens on one chosen day.

Demo data and tests take "today" from the clock, so a suite that passes only on the
day it was written hides bugs that wait for julafton, a Sunday or the night the clocks
change. Every run therefore picks its day — a fixed ordinary one, or a hard one from
:func:`hard_days` — and moves the clock of every test process there, keeping its tick:
pytest and its xdist workers through :func:`travel`, and every Python process a test
starts (the CLI, the write-back worker, Prefect's test server) through
``clock_site/sitecustomize.py``, which reads the same shift from the environment.
Processes of other kinds (PostgreSQL, Chromium) keep the real time; nothing in the
product asks them for it.

``OPUS_TEST_DATE`` chooses: ``YYYY-MM-DD`` replays a day, ``today`` keeps the real one,
``random`` (the default) draws from the list. The header of every run names the day.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DATE_ENV = "OPUS_TEST_DATE"
SHIFT_ENV = "OPUS_TEST_CLOCK_SHIFT_S"
"""Seconds from the real clock to the test clock; set once, inherited by every child."""

STOCKHOLM = ZoneInfo("Europe/Stockholm")
FIXED_DAY = date(2027, 1, 13)
"""An ordinary Wednesday: no holiday, no clock change, mid-month."""
OPENING_HOUR = 10
"""The test day starts at ten in the morning, Swedish time."""

SITE = Path(__file__).parent / "clock_site"


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _next(today: date, make) -> date:
    """The first day ``make(year)`` gives on or after ``today``."""
    return min(d for d in (make(today.year), make(today.year + 1)) if d >= today)


def hard_days(today: date) -> dict[str, date]:
    """Days on which booking logic tends to break, the next of each from ``today``."""
    spring = _next(today, lambda y: _last_sunday(y, 3))
    autumn = _next(today, lambda y: _last_sunday(y, 10))
    # Next month's last day: this month's may be today, or nyårsafton again.
    month_after = (today.replace(day=1) + timedelta(days=62)).replace(day=1)
    return {
        "an ordinary Wednesday": FIXED_DAY,
        "a Sunday": today + timedelta(days=6 - today.weekday() or 7),
        "the Saturday before summer time": spring - timedelta(days=1),
        "the day summer time starts": spring,
        "the Monday after summer time starts": spring + timedelta(days=1),
        "the Saturday before winter time": autumn - timedelta(days=1),
        "the day winter time starts": autumn,
        "julafton": _next(today, lambda y: date(y, 12, 24)),
        "nyårsafton": _next(today, lambda y: date(y, 12, 31)),
        "the last day of a month": month_after - timedelta(days=1),
    }


def choose_day(choice: str, today: date, rng: random.Random) -> tuple[date, str]:
    """The day a run happens on, and why."""
    if choice == "today":
        return today, "the real date"
    if choice in ("", "random"):
        why, day = rng.choice(sorted(hard_days(today).items()))
        return day, why
    return date.fromisoformat(choice), f"{DATE_ENV}={choice}"


def shift_to(day: date) -> float:
    """Seconds from now to ten o'clock Swedish time on ``day``."""
    target = datetime(day.year, day.month, day.day, OPENING_HOUR, tzinfo=STOCKHOLM)
    return target.timestamp() - time.time()


def travel() -> None:
    """Move this process's clock by the shift in the environment (once; keeps ticking)."""
    global _traveller
    shift = os.environ.get(SHIFT_ENV)
    started_at_startup = getattr(sys.modules.get("sitecustomize"), "traveller", None)
    if not shift or _traveller is not None or started_at_startup is not None:
        return
    import time_machine

    _traveller = time_machine.travel(time.time() + float(shift), tick=True)
    _traveller.start()


_traveller = None


def start(choice: str | None = None) -> str:
    """Choose the run's day (unless a parent process chose it), tell every child
    process about it, move this process's clock, and say which day it is."""
    if SHIFT_ENV not in os.environ:
        today = datetime.now(UTC).astimezone(STOCKHOLM).date()
        choice = os.environ.get(DATE_ENV, "random") if choice is None else choice
        day, why = choose_day(choice, today, random.Random())
        os.environ[SHIFT_ENV] = repr(shift_to(day))
        os.environ[DATE_ENV] = day.isoformat()
        os.environ["OPUS_TEST_DATE_WHY"] = why
        paths = [str(SITE), os.environ.get("PYTHONPATH", "")]
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    travel()
    day = datetime.now(STOCKHOLM)
    return (
        f"test clock: {day:%A %Y-%m-%d %H:%M} Europe/Stockholm "
        f"({os.environ.get('OPUS_TEST_DATE_WHY', 'chosen by the parent process')}); "
        f"replay with {DATE_ENV}={day.date().isoformat()}"
    )


if __name__ == "__main__":
    # `python -m tests.clock N`: N different days from the list, for more runs (.ci/run).
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    days = sorted(set(hard_days(datetime.now(STOCKHOLM).date()).values()))
    print(" ".join(day.isoformat() for day in random.sample(days, count)))
