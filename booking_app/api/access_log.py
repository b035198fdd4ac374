"""Personal numbers out of the access log.

The Opus spec puts a patient's personal number in URLs
(``GET /patients/{patientPersonalIdentification}/bookings``) and query strings
(``request.requestedByPersonalId.*``, ``request.personalIdentification.*``), and the
ASGI server logs every request's path and query (uvicorn's ``uvicorn.access``, also
in the demo). A filter on the access loggers masks, before any handler sees the
record:

- the path segment after ``/patients/`` and ``/guardians/``;
- the value of every query parameter whose name speaks of a person
  (``personal``, ``ssn``, ``requestedBy``);
- anything else that looks like a personal number, an e-mail address or a phone
  number (:func:`connectors.privacy.scrub`), wherever it is in the line.

The app itself logs no paths. A proxy in front keeps its own access log: it needs the
same treatment there (or no query strings and paths of ``/patients/``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import unquote_plus

from connectors.privacy import MASK, scrub

ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")

_PERSON_SEGMENT = re.compile(r"(/(?:patients|guardians)/)[^/?#\s\"]+", re.IGNORECASE)
_PERSON_PARAM = ("personal", "ssn", "requestedby")
_QUERY = re.compile(r"\?([^\s\"#]*)")


def _mask_query(match: re.Match[str]) -> str:
    pairs = []
    for pair in match.group(1).split("&"):
        name, sep, value = pair.partition("=")
        if sep and any(p in unquote_plus(name).casefold() for p in _PERSON_PARAM):
            value = MASK
        pairs.append(f"{name}{sep}{value}")
    return "?" + "&".join(pairs)


def mask(text: str) -> str:
    """``text`` (a request line, a path with its query) without personal numbers."""
    text = _PERSON_SEGMENT.sub(lambda m: m.group(1) + MASK, text)
    text = _QUERY.sub(_mask_query, text)
    return scrub(text)


def _masked(value: object) -> object:
    return mask(value) if isinstance(value, str) else value


class PersonalNumberFilter(logging.Filter):
    """Rewrites a record's message arguments (uvicorn passes the path as one of
    them) and, when there are none, its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):
            record.args = {k: _masked(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_masked(a) for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = mask(record.msg)
        return True


_FILTER = PersonalNumberFilter()


def install() -> None:
    """Add the filter to the access loggers (once; logging config keeps filters)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
