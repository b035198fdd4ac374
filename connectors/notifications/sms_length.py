"""How long an SMS is, in the units operators pay for: characters, encoding, segments.

GSM 03.38 (GSM-7) fits 160 characters in one SMS; the characters of its extension
table (``{ } [ ] ~ \\ | ^ €`` and form feed) take two. One character outside GSM-7
(an emoji, ``ł``, a curly quote) turns the whole message into UCS-2: 70 UTF-16 units,
an emoji outside the Basic Multilingual Plane taking two. A longer message is sent in
parts, each losing room to the header that joins them: 153 GSM-7 characters or 67
UTF-16 units a part. Å, ä, ö, é and ü are GSM-7.
"""

from __future__ import annotations

from typing import NamedTuple

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
_SINGLE = {GSM7: 160, UCS2: 70}
_PART = {GSM7: 153, UCS2: 67}


class SmsLength(NamedTuple):
    characters: int
    """GSM-7 characters (extension ones count two) or UTF-16 units (UCS-2)."""
    encoding: str
    """``"GSM-7"`` or ``"UCS-2"``."""
    segments: int
    """SMS parts the message is sent as (0 for an empty text)."""


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def sms_length(text: str) -> SmsLength:
    """``sms_length("Hej")`` → ``SmsLength(3, "GSM-7", 1)``."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    units = [_units(c, encoding) for c in text]
    total = sum(units)
    if total <= _SINGLE[encoding]:
        return SmsLength(total, encoding, 1 if total else 0)
    # A two-unit character (escape pair, surrogate pair) is never split between parts.
    segments, used = 1, 0
    for size in units:
        if used + size > _PART[encoding]:
            segments, used = segments + 1, 0
        used += size
    return SmsLength(total, encoding, segments)


def _units(character: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if character in GSM7_EXTENSION else 1
    return 2 if ord(character) > 0xFFFF else 1
