"""What a patient types into *Dina uppgifter*, judged: each function returns the
normalised value or raises :class:`Invalid` with the key of a Swedish message."""

from __future__ import annotations

import re
from datetime import date

NEVER_ISSUED_SERIAL = "000"
"""Skatteverket never gives out the serial 000 (digits 9-11), neither in a personal
nor in a coordination number: a number with it can pass the Luhn check and still be
no one's."""
_SEPARATORS = re.compile(r"[\s\-+]")
_EMAIL = re.compile(
    r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


class Invalid(ValueError):
    """``key`` names the message in the catalogue (``booking_app.messages``)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def personal_number(text: str, today: date | None = None) -> str:
    """A Swedish personal or coordination number as 12 digits (YYYYMMDDNNNC).

    Accepts 10 or 12 digits with or without '-' or '+' (the '+' of a 10-digit
    number means 100 years or older). Checks the date (day + 60 for a coordination
    number) and the Luhn check digit.
    """
    today = today or date.today()
    raw = (text or "").strip()
    hundred_plus = "+" in raw
    digits = _SEPARATORS.sub("", raw)
    if not digits.isdigit() or len(digits) not in (10, 12):
        raise Invalid("personal_number_format")
    if len(digits) == 10:
        yy = int(digits[:2])
        century = (today.year // 100) * 100
        year = century + yy if century + yy <= today.year else century - 100 + yy
        if hundred_plus:
            year -= 100
        digits = f"{year:04d}{digits[2:]}"
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:8])
    if day > 60:  # samordningsnummer: the day of birth plus 60
        day -= 60
    try:
        born = date(year, month, day)
    except ValueError:
        raise Invalid("personal_number_date") from None
    if born > today:
        raise Invalid("personal_number_date")
    if digits[8:11] == NEVER_ISSUED_SERIAL:
        raise Invalid("personal_number_serial")
    if luhn_check_digit(digits[2:11]) != int(digits[11]):
        raise Invalid("personal_number_checksum")
    return digits


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for i, ch in enumerate(nine_digits):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def mobile(text: str) -> str:
    """A mobile number in E.164 (+46701234567). Swedish numbers may be written
    070-123 45 67 or 0046…; other countries need their + prefix."""
    raw = _SEPARATORS.sub(
        "", (text or "").strip().replace("(0)", "").replace("(", "").replace(")", "")
    )
    plus = (text or "").strip().startswith("+")
    if not raw.isdigit():
        raise Invalid("mobile_format")
    if plus:
        number = "+" + raw
    elif raw.startswith("00"):
        number = "+" + raw[2:]
    elif raw.startswith("0"):
        number = "+46" + raw[1:]
    else:
        raise Invalid("mobile_format")
    if number.startswith("+46"):
        national = number[3:]
        if not (national.startswith("7") and len(national) == 9):
            raise Invalid("mobile_not_swedish_mobile")
    elif not 8 <= len(number) - 1 <= 15:
        raise Invalid("mobile_format")
    return number


def email(text: str) -> str:
    value = (text or "").strip()
    if len(value) > 254 or not value.isprintable() or not _EMAIL.match(value):
        raise Invalid("email_format")
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def text_field(value: str | None, max_length: int, key: str, required: bool = False) -> str | None:
    """Free text, trimmed; control characters refused; ``None`` when empty."""
    value = (value or "").strip()
    if not value:
        if required:
            raise Invalid(f"{key}_required")
        return None
    if len(value) > max_length:
        raise Invalid(f"{key}_too_long")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise Invalid(f"{key}_invalid")
    return value
