"""Personal numbers masked in text we write down or pass on."""

from __future__ import annotations

from connectors.privacy import mask_personal_numbers


def test_personal_numbers_are_masked_in_every_spelling():
    text = "patient 19121212-1212, 191212121212, 121212-1212, 121212+1212 and 121212%2B1212"
    masked = mask_personal_numbers(text)
    assert "1212" not in masked
    assert masked == "patient ***, ***, ***, *** and ***"


def test_other_numbers_are_left_alone():
    text = "booking 42, phone +46701234567, 2026-11-25 10:30, ids 12345678901234"
    assert mask_personal_numbers(text) == text
