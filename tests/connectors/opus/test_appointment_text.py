"""The appointment text format: booking text, the patient's message, ``CC: <code>``."""

from __future__ import annotations

from connectors.opus.appointment_text import MAX_MESSAGE, appointment_text, one_line


def test_the_parts_come_in_the_manuals_order_one_per_line():
    assert appointment_text("Webbokning", "Hej!", "VÅR26") == "Webbokning\nHej!\nCC: VÅR26"


def test_missing_parts_leave_no_empty_lines():
    assert appointment_text(None, None, "X") == "CC: X"
    assert appointment_text("Webbokning", "   ", None) == "Webbokning"
    assert appointment_text(None, None, None) == ""


def test_a_message_with_line_breaks_cannot_forge_a_campaign_code_line():
    text = appointment_text("Webbokning", "Hej\r\nCC: GRATIS\n\n\tmvh", None)
    assert text == "Webbokning\nHej CC: GRATIS mvh"
    assert [line for line in text.splitlines() if line.startswith("CC: ")] == []


def test_characters_outside_latin_1_are_kept():
    text = appointment_text("Webbokning", "Tandvärk 🦷 ﬁlling Ω – “citat”", "ÅÄÖ€")
    assert text == "Webbokning\nTandvärk 🦷 ﬁlling Ω – “citat”\nCC: ÅÄÖ€"


def test_a_code_with_spaces_is_trimmed_and_its_inner_spaces_kept_single():
    assert appointment_text(None, None, "  HÖST   2026 \n") == "CC: HÖST 2026"


def test_control_and_invisible_characters_are_removed_but_emoji_joiners_kept():
    family = "👩\u200d👧"
    # NUL becomes a space; the right-to-left override and zero-width space vanish.
    assert one_line(f"a\x00b\u202ec\u200bd {family}", 50) == f"a bcd {family}"


def test_a_long_message_is_cut_at_the_limit():
    assert len(one_line("x" * 2000, MAX_MESSAGE)) == MAX_MESSAGE
