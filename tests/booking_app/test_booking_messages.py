"""The message catalogue: Swedish and English for every key, Swedish by default."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from booking_app.messages import LANGUAGES, MESSAGES, language, t

TEMPLATES = Path(__file__).parents[2] / "booking_app" / "templates"


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_text_exists_in_every_language(key: str):
    for lang in LANGUAGES:
        assert MESSAGES[key].get(lang, "").strip(), f"{key!r} has no {lang} text"


def test_every_key_the_templates_use_exists():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\btf?\(\s*["']([a-z_]+)["']\s*[,)]""", template.read_text()))
    assert used, "the pattern found no keys: the test would pass vacuously"
    assert used <= MESSAGES.keys(), used - MESSAGES.keys()


def test_swedish_is_the_default():
    assert t("ungrouped_clinics") == "Ogrupperade kliniker"
    assert t("ungrouped_clinics", "en") == "Ungrouped clinics"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "sv"), ("", "sv"), ("en", "en"), ("EN", "en"), ("sv", "sv"), ("de", "sv")],
)
def test_language_from_query(value: str | None, expected: str):
    assert language(value) == expected


def test_missing_translation_falls_back_to_swedish(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(MESSAGES, "only_swedish", {"sv": "Bara svenska"})
    assert t("only_swedish", "en") == "Bara svenska"


def test_unknown_key_is_an_error():
    with pytest.raises(KeyError):
        t("no_such_key")


def test_every_key_the_booking_code_builds_exists():
    """Keys put together at run time, which the template scan above cannot see."""
    from booking_app import details
    from booking_app.errors import FORM_ERRORS

    keys = {
        "personal_number_format",
        "personal_number_date",
        "personal_number_checksum",
        "personal_number_serial",
        "mobile_format",
        "mobile_not_swedish_mobile",
        "email_format",
        "postal_code_format",
        "code_channel_required",
        "code_format",
        "code_wrong",
        "code_expired",
        "captcha_invalid",
        "captcha_expired",
    }
    every_field = [
        details.PERSONAL_NUMBER,
        *details.NAME_FIELDS,
        *details.CONTACT_FIELDS,
        *details.ADDRESS_FIELDS,
        details.MESSAGE,
        details.CAMPAIGN_CODE,
    ]
    for field in every_field:
        keys.add(field.label_key)
        if field.hint_key:
            keys.add(field.hint_key)
        if field.required:
            keys.add(f"{field.name}_required")
        if field.name not in ("personal_number", "mobile", "email", "postal_code"):
            keys |= {f"{field.name}_too_long", f"{field.name}_invalid"}
    for channel in ("email", "sms"):
        keys |= {f"code_by_{channel}", f"code_sent_by_{channel}"}
    keys |= {"details_submit_code", "details_submit_book"}
    for page in ("time_taken", "hold_lost", "code_locked", "booking_closed", "login_required"):
        keys |= {f"{page}_title", f"{page}_body"}
    keys |= {"new_booking_disabled_title", "new_booking_disabled_body"}
    for _status, key in FORM_ERRORS.values():
        keys |= {f"{key}_title", f"{key}_body"}
    assert keys <= MESSAGES.keys(), keys - MESSAGES.keys()
