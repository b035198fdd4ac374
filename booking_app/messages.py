"""The site's UI text: Swedish first, English second, one catalogue.

Keys name what the text is for, not what it says, so a reworded text keeps its key.
Tenant-written text (welcome text, clinic texts) is not here: it is shown as written.

The texts live in modules along the clinic's words (booking_app/texts/, and a few
``*_messages.py`` modules beside the features that own them); this module merges them
into ``MESSAGES`` and keeps the public names (``MESSAGES``, ``LANGUAGES``,
``DEFAULT_LANGUAGE``, ``language``, ``t``). A new feature adds its texts in a module of
its own and merges it here with ``_merge``; a key defined twice is an error at import.
"""

from __future__ import annotations

from booking_app.api_key_messages import API_KEY_MESSAGES
from booking_app.opus_connection_messages import OPUS_CONNECTION_MESSAGES
from booking_app.patient_data_messages import PATIENT_DATA_MESSAGES
from booking_app.reminder_messages import REMINDER_MESSAGES
from booking_app.retention_messages import RETENTION_MESSAGES
from booking_app.texts.admin import ADMIN_TEXTS
from booking_app.texts.booking_steps import BOOKING_STEP_TEXTS
from booking_app.texts.details import DETAILS_TEXTS
from booking_app.texts.errors import ERROR_TEXTS
from booking_app.texts.login import LOGIN_TEXTS
from booking_app.texts.my_bookings import MY_BOOKINGS_TEXTS
from booking_app.texts.site import SITE_TEXTS
from booking_app.texts.statistics import STATISTICS_TEXTS
from booking_app.texts.todo import TODO_TEXTS
from booking_app.waitlist_messages import WAITLIST_MESSAGES

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"

MESSAGES: dict[str, dict[str, str]] = {}


def _merge(catalogue: dict[str, dict[str, str]]) -> None:
    """Add one module's texts to ``MESSAGES``; a key that is already there is a bug
    (one of the two texts would silently win)."""
    twice = MESSAGES.keys() & catalogue.keys()
    if twice:
        raise ValueError(f"message keys defined twice: {sorted(twice)}")
    MESSAGES.update(catalogue)


for _catalogue in (
    SITE_TEXTS,
    BOOKING_STEP_TEXTS,
    DETAILS_TEXTS,
    LOGIN_TEXTS,
    MY_BOOKINGS_TEXTS,
    ERROR_TEXTS,
    ADMIN_TEXTS,
    STATISTICS_TEXTS,
    TODO_TEXTS,
):
    _merge(_catalogue)

_merge(API_KEY_MESSAGES)
_merge(PATIENT_DATA_MESSAGES)
_merge(REMINDER_MESSAGES)
_merge(WAITLIST_MESSAGES)
_merge(RETENTION_MESSAGES)
_merge(OPUS_CONNECTION_MESSAGES)


def language(value: str | None) -> str:
    """A supported language code from ``?lang=``; anything else is Swedish."""
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text for ``key`` in ``lang``, Swedish when that language lacks it. An unknown
    key raises: a missing text is a bug to see in tests, not a blank on the page."""
    texts = MESSAGES[key]
    return texts.get(lang) or texts[DEFAULT_LANGUAGE]
