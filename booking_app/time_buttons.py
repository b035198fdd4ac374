"""A day's times on the time step, as HTML made in Python.

A busy week has dozens of times, and each one written out by the template (five fields
looked up and escaped, two tests) cost the page more than the rest of it together. The
markup is the template's ``ui.choice`` with the class ``time``: on the step that
completes the choice a button that posts ``name=value`` to hold, else a link. Every
value is escaped here, as the template would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from booking_app.steps import Option


def times_html(options: Sequence[Option], final: bool) -> Markup:
    """The ``<li>`` of each time, buttons when ``final``, links otherwise."""
    return Markup("".join(_button(o) if final else _link(o) for o in options))


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
