"""What a patient types into *Dina uppgifter*, judged: each function returns the
normalised value or raises :class:`Invalid` with the key of a Swedish message."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers.phonenumberutil import UNKNOWN_REGION

NEVER_ISSUED_SERIAL = "000"
"""Skatteverket never gives out the serial 000 (digits 9-11), neither in a personal
nor in a coordination number: a number with it can pass the Luhn check and still be
no one's."""
_SEPARATORS = re.compile(r"[\s\-+]")
_PHONE_CHARACTERS = re.compile(r"\+?[0-9\s\-()./]{1,30}")
"""What a typed phone number may contain: digits, one leading +, and the separators
people write ("070-123 45 67", "+46 (0)70 123 45 67"); letters are refused, not read
as a keypad's digits."""
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


NORDIC_COUNTRY_CODES = (46, 47, 45, 358)
"""Where SMS may go unless a tenant says otherwise (``tenant_settings.sms_country_codes``):
Sweden, Norway, Denmark, Finland."""
_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
"""Numbers that take an SMS. Some plans (Denmark's, the USA's) do not tell mobile from
fixed numbers: those pass; landlines, 0771 service numbers and 0746 pagers do not."""


def mobile(text: str, country_codes: Collection[int] = NORDIC_COUNTRY_CODES) -> str:
    """A mobile number in E.164 (+46701234567), in one of ``country_codes``. Swedish
    numbers may be written nationally (070-123 45 67) or with 0046; other countries
    need their + (or 00) prefix. The numbering plans are ``phonenumbers``'s."""
    raw = (text or "").strip()
    if not raw or not _PHONE_CHARACTERS.fullmatch(raw):
        raise Invalid("mobile_format")
    try:
        number = phonenumbers.parse(raw, "SE")
    except NumberParseException:
        raise Invalid("mobile_format") from None
    swedish = number.country_code == 46
    if not phonenumbers.is_valid_number(number):
        raise Invalid("mobile_not_swedish_mobile" if swedish else "mobile_format")
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        raise Invalid("mobile_not_swedish_mobile" if swedish else "mobile_not_mobile")
    if number.country_code not in country_codes:
        raise Invalid("mobile_country_not_allowed")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def sms_countries(stored: str | None) -> tuple[int, ...]:
    """A tenant's stored ``sms_country_codes``; the Nordic default if it is unreadable
    (the operator's form refuses such a value, so only a hand-edited row has one)."""
    try:
        return country_codes(stored or "")
    except Invalid:
        return NORDIC_COUNTRY_CODES


def country_codes(text: str) -> tuple[int, ...]:
    """A tenant's allowed SMS country codes, as stored ("46,47,45,358") or as an
    operator types them ("+46, +47"): each a country calling code that exists, in the
    order given, without repeats. Raises :class:`Invalid` (``sms_country_codes_*``)."""
    codes: list[int] = []
    for part in re.split(r"[\s,;]+", (text or "").strip()):
        if not part:
            continue
        digits = part.removeprefix("+")
        if not digits.isdigit() or len(digits) > 3:
            raise Invalid("sms_country_codes_format")
        code = int(digits)
        if phonenumbers.region_code_for_country_code(code) == UNKNOWN_REGION:
            raise Invalid("sms_country_codes_unknown")
        if code not in codes:
            codes.append(code)
    if not codes:
        raise Invalid("sms_country_codes_required")
    return tuple(codes)


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
