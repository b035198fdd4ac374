"""SMS length against the known cases: 160 vs 161 GSM-7 characters, the extension
table counted twice, one character outside GSM-7 switching to UCS-2 (70/67), å ä ö."""

from __future__ import annotations

import pytest

from connectors.notifications.defaults import DEFAULTS
from connectors.notifications.sms_length import GSM7, UCS2, SmsLength, sms_length
from connectors.notifications.templates import estimate_sms_length


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (0, GSM7, 0)),
        ("Hej", (3, GSM7, 1)),
        ("a" * 160, (160, GSM7, 1)),
        ("a" * 161, (161, GSM7, 2)),
        ("a" * 306, (306, GSM7, 2)),  # two parts of 153
        ("a" * 307, (307, GSM7, 3)),
        ("€", (2, GSM7, 1)),
        ("a" * 158 + "€", (160, GSM7, 1)),
        ("a" * 159 + "€", (161, GSM7, 2)),  # 159 characters, but 161 septets
        ("{}[]~\\|^", (16, GSM7, 1)),
        ("å ä ö Å Ä Ö é ü", (15, GSM7, 1)),
        ("Välkommen till Tandläkarhuset i Örebro", (38, GSM7, 1)),
        ("😀", (2, UCS2, 1)),  # outside the BMP: a surrogate pair
        ("a" * 70 + "ł", (71, UCS2, 2)),
        ("ł" * 70, (70, UCS2, 1)),
        ("ł" * 134, (134, UCS2, 2)),  # two parts of 67
        ("ł" * 135, (135, UCS2, 3)),
        ("a" * 68 + "😀", (70, UCS2, 1)),
        ("Tack “för” bokningen", (20, UCS2, 1)),  # curly quotes are not GSM-7
    ],
)
def test_known_examples(text, expected):
    assert sms_length(text) == SmsLength(*expected)


def test_an_extension_character_is_not_split_between_parts():
    # 152 septets, then € (2): it cannot take the 153rd septet of part one.
    text = "a" * 152 + "€" + "a" * 10
    assert sms_length(text) == SmsLength(164, GSM7, 2)
    text = "a" * 152 + "€" + "a" * 152  # part two: € + 151, part three: 1
    assert sms_length(text).segments == 3


def test_an_emoji_is_not_split_between_parts():
    text = "a" * 66 + "😀" + "a" * 66  # 66 | 😀+65 | 1
    assert sms_length(text) == SmsLength(134, UCS2, 3)


def test_every_default_sms_stays_one_sms_even_with_long_values():
    for (kind, channel, language), text in DEFAULTS.items():
        if channel == "sms":
            length = estimate_sms_length(text.body, kind)  # a reminder's link is longer
            assert length.segments == 1, (kind, language, length)
            assert length.encoding == GSM7


def test_the_estimate_uses_long_values_and_notices_a_second_sms():
    short = estimate_sms_length("Hej {{ first_name }}!")
    assert short.characters == len("Hej Maximiliana!")
    long = estimate_sms_length("Hej {{ patient_name }}, {{ clinic_name }}: {{ link }} " * 2)
    assert long.segments == 2
    assert estimate_sms_length("Tid {{ date }} 😀").encoding == UCS2


def test_a_broken_template_is_measured_as_written():
    assert estimate_sms_length("Hej {{ patient_name ") == sms_length("Hej {{ patient_name")
