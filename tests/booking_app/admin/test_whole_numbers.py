"""The operators' whole-number fields: ASCII digits within bounds, and anything else
(a superscript digit, which str.isdigit() takes and int() refuses; a sign; a number
thousands of digits long) a message, never a server error."""

from __future__ import annotations

import pytest

from booking_app.admin import retention, waitlist
from booking_app.admin.forms import whole_number
from connectors.store.models import RETENTION_RANGES


@pytest.mark.parametrize("raw", ["²", "٣", "-1", "+5", "1.5", "", " ", "9" * 5000])
def test_what_is_not_a_plain_whole_number_is_refused(raw: str) -> None:
    assert whole_number(raw, (0, 10**9)) is None


def test_a_whole_number_within_bounds_is_taken() -> None:
    assert whole_number(" 30 ", (1, 30)) == 30
    assert whole_number("31", (1, 30)) is None


def test_the_retention_and_waitlist_forms_refuse_a_superscript_digit() -> None:
    name = next(iter(RETENTION_RANGES))
    parsed = retention.parse({field: "²" if field == name else "1" for field in RETENTION_RANGES})
    assert f"admin_error_{name}" in parsed.errors
    _, errors = waitlist.parse({"waitlist_hold_minutes": "²", "waitlist_offers_per_day": "1"})
    assert errors == ["admin_waitlist_hold_invalid"]
