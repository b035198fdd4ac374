"""Personal and coordination numbers as a patient types them, judged."""

from __future__ import annotations

from datetime import date

import pytest

from validations.patient import Invalid, luhn_check_digit, personal_number

TODAY = date(2026, 3, 2)


def number(body: str) -> str:
    """A 12-digit number from its century and the nine digits the check digit covers."""
    return f"{body}{luhn_check_digit(body[2:])}"


@pytest.mark.parametrize(
    "typed",
    [
        number("19121212000"),  # 191212120008: the check digit is right
        "19121212-0008",
        "121212-0008",
        "1212120008",
        number("19121272000"),  # a samordningsnummer (day 12 + 60) with serial 000
        "121272-0005",
    ],
)
def test_serial_000_is_never_issued_and_is_refused(typed: str):
    with pytest.raises(Invalid) as refused:
        personal_number(typed, TODAY)
    assert refused.value.key == "personal_number_serial"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("19121212-1212", "191212121212"),
        ("19121212-0016", "191212120016"),  # serial 001: the lowest one issued
        ("19121212-9991", "191212129991"),
        ("19121272-1235", "191212721235"),  # samordningsnummer: day 12 + 60
        ("121272-1235", "201212721235"),  # ten digits: the latest century in the past
        ("121272+1235", "191212721235"),  # '+': a hundred years more
    ],
)
def test_other_serials_pass_in_personal_and_coordination_numbers(typed: str, expected: str):
    assert personal_number(typed, TODAY) == expected


def test_the_date_and_format_checks_still_apply_to_serial_000():
    with pytest.raises(Invalid) as refused:
        personal_number("19121312-0008", TODAY)  # no 13th month
    assert refused.value.key == "personal_number_date"
    with pytest.raises(Invalid) as refused:
        personal_number("121212-000", TODAY)
    assert refused.value.key == "personal_number_format"
