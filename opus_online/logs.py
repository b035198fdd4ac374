"""Log output: plain text (the default) or one JSON object per line
(``OPUS_LOG_FORMAT=json``) for a log collector, each with the request id of the
request it belongs to.

The request id comes in as ``X-Request-ID`` (from the reverse proxy) or is made by the
app, goes back out in the same header, and is put on every record logged while the
request is handled (:data:`request_id`, a context variable, so it follows the request
into its threads). Personal data is kept out by the scrubbing record factory
(:func:`connectors.privacy.install_log_scrubbing`), which every record passes before
any formatter sees it; the JSON formatter adds only fixed fields.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from connectors.privacy import install_log_scrubbing, scrub

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being handled, or ``None`` outside requests."""

_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
"""What a proxy's id may look like (a UUID, a hex or base64url token); anything else,
which might carry whatever a client put in the header, is replaced by our own."""


def new_request_id(incoming: str | None) -> str:
    """The incoming id when it looks like one (and has no personal data), else a new
    random one."""
    if incoming and _INCOMING_ID.match(incoming) and scrub(incoming) == incoming:
        return incoming
    return secrets.token_hex(16)


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message,
    request id, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get() or "-",
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class _StandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (as logging's own last
    resort does), not the stream it was at set-up: a server or a test may replace it."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> logging.Handler:
    """One handler on the root logger, to standard error, in ``log_format``; uvicorn's
    loggers pass their records to it (see :func:`uvicorn_log_config`). Idempotent: a
    second call replaces the handler it made."""
    install_log_scrubbing()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "opus_online", False):
            root.removeHandler(handler)
    handler = _StandardError()
    handler.opus_online = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """uvicorn's ``log_config``: for JSON, its loggers only pass records up to the root
    handler of :func:`configure_logging`; for text, uvicorn's own."""
    if log_format != "json":
        from uvicorn.config import LOGGING_CONFIG

        return LOGGING_CONFIG
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # No handlers of uvicorn's own: its records go up to the root handler that
        # configure_logging set (the command's, and create_app's in every worker).
        "loggers": {
            name: {"level": "INFO", "handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
