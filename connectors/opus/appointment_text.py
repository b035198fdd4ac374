"""The text an online booking leaves on its Opus appointment (tidbokstexten).

The manual: the patient's message (*Användarmeddelande*) lands on the appointment
"efter tidbokstexten", and a campaign code shows as ``CC: XXX``. The format, one part
per line, each only when there is something to say::

    <the treatment's booking text>
    <the patient's message, on one line>
    CC: <campaign code>

Why one line each: reception reads this in a narrow field of the appointment book,
and the code must stay findable (reports search for ``CC:``). So the patient's own
line breaks and runs of spaces become single spaces, and control characters go: a
message can then never push a fake ``CC:`` line of its own. Everything else is kept
as typed, including characters outside Latin-1 (the column is Unicode).
"""

from __future__ import annotations

import re
import unicodedata

CAMPAIGN_PREFIX = "CC: "
MAX_MESSAGE = 500
MAX_CODE = 30

_WHITESPACE = re.compile(r"\s+")


def one_line(text: str | None, limit: int) -> str:
    """``text`` as one line: no control or format characters, whitespace runs as one
    space, trimmed, at most ``limit`` characters."""
    if not text:
        return ""
    visible = "".join(
        " " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c
        for c in text
        if unicodedata.category(c) != "Cf" or c == "\u200d"  # keep emoji joiners
    )
    return _WHITESPACE.sub(" ", visible).strip()[:limit].rstrip()


def appointment_text(
    booking_text: str | None,
    message: str | None = None,
    campaign_code: str | None = None,
) -> str:
    """The appointment's text for a booking. The caller passes ``message`` only when
    *Användarmeddelande aktiverad* and ``campaign_code`` only when *Kampanjkod
    aktiverad* is on."""
    parts = [
        (booking_text or "").strip(),
        one_line(message, MAX_MESSAGE),
    ]
    code = one_line(campaign_code, MAX_CODE)
    if code:
        parts.append(CAMPAIGN_PREFIX + code)
    return "\n".join(part for part in parts if part)
