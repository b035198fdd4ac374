"""Mobile numbers as a patient types them, judged by the numbering plans
(``phonenumbers``): only numbers that take an SMS, only in the tenant's countries, kept
in E.164. Before, any 07-number and any foreign number with a + passed."""

from __future__ import annotations

import pytest

from validations.patient import (
    NORDIC_COUNTRY_CODES,
    Invalid,
    country_codes,
    mobile,
    sms_countries,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("070-123 45 67", "+46701234567"),  # written nationally, as Swedes do
        ("0701234567", "+46701234567"),
        ("073 123 45 67", "+46731234567"),
        ("076-123 45 67", "+46761234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("+46 (0)70-123 45 67", "+46701234567"),
        ("+47 412 34 567", "+4741234567"),  # Norway
        ("+45 20 12 34 56", "+4520123456"),  # Denmark: fixed or mobile, one plan
        ("+358 40 123 4567", "+358401234567"),  # Finland
    ],
)
def test_mobile_numbers_pass_in_e164(typed: str, expected: str):
    assert mobile(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "0771-123 456",  # a service number (0771): no SMS
        "0771-23 45 67",
        "0746-12 34 56",  # a pager number
        "08-123 456 78",  # a Stockholm landline
        "031-12 34 56",  # a Gothenburg landline
        "0812345",  # too short for anything
    ],
)
def test_swedish_numbers_that_take_no_sms_are_refused(typed: str):
    with pytest.raises(Invalid) as refused:
        mobile(typed)
    assert refused.value.key == "mobile_not_swedish_mobile"


def test_a_foreign_landline_is_not_a_mobile():
    with pytest.raises(Invalid) as refused:
        mobile("+47 22 12 34 56")  # Oslo
    assert refused.value.key == "mobile_not_mobile"


@pytest.mark.parametrize("typed", ["+44 7911 123456", "+1 202 555 0143", "+49 151 23456789"])
def test_mobiles_outside_the_nordic_countries_are_refused_by_default(typed: str):
    with pytest.raises(Invalid) as refused:
        mobile(typed)
    assert refused.value.key == "mobile_country_not_allowed"


def test_a_tenant_may_allow_other_countries_or_fewer():
    assert mobile("+44 7911 123456", (46, 44)) == "+447911123456"
    with pytest.raises(Invalid) as refused:
        mobile("+47 412 34 567", (46,))
    assert refused.value.key == "mobile_country_not_allowed"
    assert mobile("070-123 45 67", (46,)) == "+46701234567"


@pytest.mark.parametrize("typed", ["070-12a", "+46 70 ABC DEFG", "", "++46701234567", "070/" * 9])
def test_what_is_no_phone_number_is_a_format_error(typed: str):
    with pytest.raises(Invalid) as refused:
        mobile(typed)
    assert refused.value.key == "mobile_format"


def test_country_codes_as_operators_type_them():
    assert country_codes("+46, +47 45;+358, 46") == (46, 47, 45, 358)
    assert country_codes("46,47,45,358") == NORDIC_COUNTRY_CODES
    for typed, key in (
        ("", "sms_country_codes_required"),
        ("+999", "sms_country_codes_unknown"),  # no country has it
        ("Sverige", "sms_country_codes_format"),
        ("+4646", "sms_country_codes_format"),
    ):
        with pytest.raises(Invalid) as refused:
            country_codes(typed)
        assert refused.value.key == key


def test_an_unreadable_stored_list_means_the_nordic_default():
    assert sms_countries("46,x") == NORDIC_COUNTRY_CODES
    assert sms_countries("46,44") == (46, 44)
