"""Reading a posted patient form: small, URL-encoded, with a valid CSRF token.

Starlette reads URL-encoded bodies whole and without a size limit, so the patient
pages read the body themselves and stop at :data:`MAX_FORM_BYTES` (413).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from booking_app import csrf
from booking_app.body import BodyTooLarge, received_body

MAX_FORM_BYTES = 16 * 1024
"""Far above the largest honest form (step 5 with a 500-character message, every
character percent-encoded as UTF-8, is under 8 KiB)."""
MAX_FIELDS = 40
FORM_TYPE = "application/x-www-form-urlencoded"


FormTooLarge = BodyTooLarge
"""Answered with 413 (one exception for every body reader)."""


class BadForm(Exception):
    """Not a form our pages send (wrong type, not UTF-8): answered with 400."""


async def posted_form(request: Request) -> dict[str, str]:
    """The posted fields (the first value of each name), CSRF-checked."""
    return await read_form(request, MAX_FORM_BYTES, MAX_FIELDS)


async def read_form(request: Request, max_bytes: int, max_fields: int) -> dict[str, str]:
    """A url-encoded form of at most ``max_bytes`` and ``max_fields``: the first value
    of each name, once its CSRF token has been checked."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_TYPE:
        raise BadForm()
    body = await received_body(request, max_bytes)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError):
        raise BadForm() from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    csrf.check(request, form.get(csrf.FIELD))
    return form


PostedForm = Annotated[dict[str, str], Depends(posted_form)]
