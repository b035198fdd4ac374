"""The time step's repeated parts, a day's times and the month's days, as HTML made in
Python.

A busy week has dozens of times and a month forty-two days, and each written out by the
template (fields looked up and escaped one by one, tests around each) cost the page
more than the rest of it together. A time is the template's ``ui.choice`` with the class
``time``: on the step that completes the choice a button that posts ``name=value`` to
hold, else a link. Every value is escaped here, as the template would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from booking_app.steps import Option

CalendarCell = tuple[date, str | None, str] | None
"""(day, link to its week or None, what a screen reader says of it); None pads."""


def times_html(options: Sequence[Option], final: bool) -> Markup:
    """The ``<li>`` of each time, buttons when ``final``, links otherwise."""
    return Markup("".join(_button(o) if final else _link(o) for o in options))


def calendar_html(rows: Sequence[Sequence[CalendarCell]]) -> Markup:
    """The month's weeks, a ``<tr>`` each: a day with times links to its week."""
    return Markup("".join(f"<tr>{''.join(map(_day, row))}</tr>" for row in rows))


def _button(option: Option) -> str:
    return (
        f'<li><button type="submit" class="choice time" name="{escape(option.name)}"'
        f' value="{escape(option.value)}"{_aria(option)}>{_label(option)}</button></li>'
    )


def _link(option: Option) -> str:
    return (
        f'<li><a class="choice time" href="{escape(option.href)}"{_aria(option)}>'
        f"{_label(option)}</a></li>"
    )


def _aria(option: Option) -> str:
    return f' aria-label="{escape(option.aria_label)}"' if option.aria_label else ""


def _label(option: Option) -> str:
    if not option.detail:
        return escape(option.label)
    return f'{escape(option.label)}<span class="choice-detail">{escape(option.detail)}</span>'


def _day(cell: CalendarCell) -> str:
    if cell is None:
        return "<td></td>"
    day, href, label = cell
    if href:
        return (
            f'<td class="has-times"><a href="{escape(href)}#vecka"'
            f' aria-label="{escape(label)}">{day.day}</a></td>'
        )
    return f'<td class="no-times"><span aria-label="{escape(label)}">{day.day}</span></td>'
