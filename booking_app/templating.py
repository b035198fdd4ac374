"""Jinja2 set-up: autoescaping on, undefined names fail loudly, and every template
gets the request's language with ``t`` and the time formatters bound to it."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from booking_app import formatting
from booking_app.messages import language, t

TEMPLATES = Path(__file__).with_name("templates")


def _page_context(request: Request) -> dict[str, Any]:
    lang = language(request.query_params.get("lang"))
    tz = ZoneInfo(request.app.state.settings.timezone)
    return {
        "lang": lang,
        "t": partial(t, lang=lang),
        "when": partial(formatting.format_range, lang=lang, tz=tz),
        "iso": partial(formatting.iso_local, tz=tz),
    }


templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(TEMPLATES),
        # Every template, whatever its name: tenant texts are text, never markup.
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    ),
    context_processors=[_page_context],
)
