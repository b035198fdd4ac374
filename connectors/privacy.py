"""Personal data kept out of what we write down or pass on: logs, error texts kept in
the store, Prefect artifacts, messages from other services (which may echo what they
were sent: a mail server names the address it refused, a gateway the number).

:func:`scrub` is the one function for it: personal numbers, e-mail addresses and phone
numbers become ``***``. Names cannot be told from other words, so they are kept out
at the source instead (the store's engines hide SQL parameters; a database's "Failing
row contains" line is dropped whole). :func:`install_log_scrubbing` puts it under
every log record as a safety net for whatever a message or a traceback still carries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping

MASK = "***"
PERSONAL_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{2})?[0-9]{6}(?:[-+]|%2[bB])?[0-9]{4}(?![0-9])")
"""10 or 12 digits, with or without the separator (``-``, ``+``, or ``+`` URL-encoded)."""
EMAIL = re.compile(
    r"[\w.!#$'*+?^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])", re.UNICODE
)
"""An address as servers echo it (``<anna@example.se>``), also with ``@`` URL-encoded."""
INTERNATIONAL_PHONE = re.compile(r"(?:\+|%2[bB]|(?<![\w+])00)[1-9](?:[\s-]?[0-9]){6,13}(?![0-9])")
"""``+46701234567``, ``+46 70-123 45 67``, ``0046…``: 8 to 15 digits after ``+`` (also
URL-encoded) or ``00``, spaces or dashes between them."""
NATIONAL_PHONE = re.compile(r"(?<![\w+])0[1-9](?:[\s-]?[0-9]){6,8}(?![0-9])")
"""``070-123 45 67``, ``08-123 456 78``: a leading ``0`` and 8 to 10 digits. Dates,
clock times, SQLSTATEs and ids do not start that way or are shorter."""
DATABASE_ROW = re.compile(r"(Failing row contains )\(.*")
"""PostgreSQL's detail of a NOT NULL or CHECK violation: the whole row, names too."""


def scrub(text: str) -> str:
    """``text`` without personal numbers, e-mail addresses and phone numbers (and
    without a database's copy of a failing row). The order matters: the digits after
    a ``+`` would pass for a personal number, and a 10-digit personal number may start
    with 0 like a national phone number."""
    text = DATABASE_ROW.sub(lambda m: m.group(1) + f"({MASK})", text)
    text = INTERNATIONAL_PHONE.sub(MASK, text)
    text = PERSONAL_NUMBER.sub(MASK, text)
    text = EMAIL.sub(MASK, text)
    return NATIONAL_PHONE.sub(MASK, text)


# -- logging ------------------------------------------------------------------------------


def _scrubbed_arg(value: object) -> object:
    """A message argument without personal data. Numbers keep their type (``%d``);
    another object is replaced by its scrubbed text only when that differs."""
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    clean = scrub(text)
    return value if clean == text else clean


def scrub_record(record: logging.LogRecord) -> None:
    """Scrub a record in place: its message, its arguments (kept as arguments: some
    formatters, uvicorn's access log for one, unpack them), its traceback."""
    record.msg = _scrubbed_arg(record.msg)
    if isinstance(record.args, Mapping):
        record.args = {key: _scrubbed_arg(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(_scrubbed_arg(value) for value in record.args)
    if record.exc_info and not record.exc_text:
        # Rendered now, so that every formatter uses this scrubbed text (it caches it).
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


class PersonalDataFilter(logging.Filter):
    """Scrubs every record it sees (see :func:`scrub_record`); drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


_FILTER = PersonalDataFilter()


def _scrubbing(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        scrub_record(record)
        return record

    make.scrubs = True  # type: ignore[attr-defined]
    return make


def install_log_scrubbing() -> None:
    """The safety net under every log record of this process; call it where a process
    starts (the app, the command, the flows). Idempotent.

    The filter goes on the root logger; but a logger's filters see only records logged
    on that logger, not those its children pass up to the root's handlers. So the
    record factory scrubs too: every record of every logger is made by it, before any
    handler (Prefect's API handler, pytest's capture, uvicorn's) sees it."""
    root = logging.getLogger()
    if _FILTER not in root.filters:
        root.addFilter(_FILTER)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "scrubs", False):
        logging.setLogRecordFactory(_scrubbing(factory))
