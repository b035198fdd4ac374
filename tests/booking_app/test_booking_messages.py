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
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+)["']""", template.read_text()))
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
