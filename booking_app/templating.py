"""Jinja2 set-up: autoescaping on, undefined names fail loudly, and every template
gets the request's language with ``t`` and the time formatters bound to it."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from booking_app import csrf, formatting
from booking_app.messages import DEFAULT_LANGUAGE, language, t
from booking_app.time_step_html import calendar_html, times_html

TEMPLATES = Path(__file__).with_name("templates")


def _page_context(request: Request) -> dict[str, Any]:
    lang = language(request.query_params.get("lang"))
    tz = ZoneInfo(request.app.state.settings.timezone)

    def tf(key: str, **values: object) -> str:
        """A catalogue text with ``{name}`` fields filled (escaped on output like any
        other text: the values are tenants' and patients' words)."""
        return t(key, lang).format(**values)

    def query(**params: object) -> str:
        """A query string of ``params`` that keeps the page's language."""
        pairs = {k: str(v) for k, v in params.items() if v is not None}
        if lang != DEFAULT_LANGUAGE:
            pairs["lang"] = lang
        return urlencode(pairs)

    other = t("switch_language_lang", lang)
    # The same page in the other language: every query parameter kept, lang swapped.
    switched = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return {
        "lang": lang,
        "t": partial(t, lang=lang),
        "tf": tf,
        "query": query,
        "language_query": "?" + urlencode([*switched, ("lang", other)]),
        "when": partial(formatting.format_range, lang=lang, tz=tz),
        "iso": partial(formatting.iso_local, tz=tz),
        "long_when": partial(formatting.format_long_datetime, lang=lang, tz=tz),
        "clock": partial(formatting.format_clock, tz=tz),
        "day_name": partial(formatting.format_day, lang=lang),
        "month_name": partial(formatting.format_month, lang=lang),
        "csrf_token": partial(csrf.token, request),
        "csrf_field": csrf.FIELD,
        # The header's log in / my bookings / log out, when the page asked who is
        # logged in (booking_app.patients); None on pages that did not.
        "account": getattr(request.state, "account", None),
    }


templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Every template, whatever its name: tenant texts are text, never markup.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with the package: no file check on every page (a stat
        # of each template and its parents, a third of a time step page's wait).
        auto_reload=False,
    ),
    context_processors=[_page_context],
)
# The time step's times and month, made in Python (booking_app.time_step_html).
templates.env.globals.update(times_html=times_html, calendar_html=calendar_html)
