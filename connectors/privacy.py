"""Personal numbers kept out of what we write down or pass on: logs, error texts,
messages from other services (which may echo what they were sent)."""

from __future__ import annotations

import re

MASK = "***"
PERSONAL_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{2})?[0-9]{6}(?:[-+]|%2[bB])?[0-9]{4}(?![0-9])")
"""10 or 12 digits, with or without the separator (``-``, ``+``, or ``+`` URL-encoded)."""


def mask_personal_numbers(text: str) -> str:
    return PERSONAL_NUMBER.sub(MASK, text)
