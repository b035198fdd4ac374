"""Templates: the check an operator's page runs before saving, rendering in the
sandbox, patient text that stays text, and the default texts."""

from __future__ import annotations

import pytest

from connectors.notifications.defaults import DEFAULTS
from connectors.notifications.fields import FIELDS, sample_values
from connectors.notifications.templates import (
    KIND_FIELDS,
    TemplateFault,
    check_template,
    render,
)

VALUES = sample_values("email")


def test_a_template_with_known_fields_passes_the_check():
    text = (
        "Hej {{ first_name }}!\nDin tid: {{ date }} kl. {{ time }} hos {{ practitioner }}, "
        "{{ clinic_name }} ({{ clinic_address }}).\n"
        "{% if clinic_phone %}Ring {{ clinic_phone }}.{% endif %} {{ link }} "
        "{{ treatment | lower }} {{ patient_name | upper }}"
    )
    assert check_template(text) == []
    assert check_template("Ingen kopplingsfält alls, bara text.") == []


def test_every_field_is_known_to_the_check():
    assert check_template(" ".join(f"{{{{ {name} }}}}" for name in FIELDS)) == []


def test_unknown_fields_are_named():
    problems = check_template("Hej {{ namn }}, {{ patient_name }} {{ personal_number }}")
    assert problems == [
        "Okänt kopplingsfält: {{ namn }}.",
        "Okänt kopplingsfält: {{ personal_number }}.",
    ]


def test_the_code_is_not_a_field_of_tenant_templates():
    assert check_template("{{ code }}") == ["Okänt kopplingsfält: {{ code }}."]
    assert check_template("{{ code }}", extra_fields=["code"]) == []


@pytest.mark.parametrize(
    "text",
    ["Hej {{ patient_name ", "{% if link %}öppen", "{{ }}", "{% endif %}", "{{ a b }}"],
)
def test_syntax_errors_are_reported_with_the_line(text):
    problems = check_template("Rad ett\n" + text)
    assert len(problems) == 1 and problems[0].startswith("Syntaxfel på rad 2")


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("{{ 7*7 }}", "räkning (*)"),
        ("{{ 9**9**9 }}", "räkning (**)"),
        ("{% for c in patient_name %}{{ c }}{% endfor %}", "loop (for)"),
        ("{{ patient_name.__class__ }}", "attribut (.)"),
        ("{{ link['x'] }}", "index ([])"),
        ("{{ cycler() }}", "anrop ( )"),
        ("{% set x = 1 %}", "set"),
        ("{% include 'x' %}", "include"),
        ("{% macro m() %}{% endmacro %}", "macro"),
    ],
)
def test_code_in_a_template_is_refused(text, what):
    problems = check_template(text)
    assert f"Otillåten konstruktion i mallen: {what}." in problems
    with pytest.raises(TemplateFault):
        render(text, VALUES)


def test_only_text_filters_are_allowed():
    assert check_template("{{ link | urlize }}") == ["Okänt filter: urlize."]
    assert check_template("{{ clinic_name | attr('x') }}") == ["Okänt filter: attr."]
    assert check_template("{{ clinic_phone | default('saknas') | trim }}") == []


def test_an_overlong_template_is_refused():
    assert check_template("x" * 5001) == ["Mallen är för lång: högst 5000 tecken."]


def test_values_are_printed_as_text_never_run_as_templates():
    values = {**VALUES, "patient_name": "{{ 7*7 }} {% for x in y %}", "first_name": "{{ link }}"}
    text = render("Hej {{ patient_name }} / {{ first_name }}", values)
    assert text == "Hej {{ 7*7 }} {% for x in y %} / {{ link }}"


def test_the_html_part_escapes_values_and_the_template_text():
    values = {**VALUES, "patient_name": "<script>alert(1)</script> & co"}
    html = render("Hej {{ patient_name }} <b>&</b>\nrad två", values, html=True)
    assert html == (
        "Hej &lt;script&gt;alert(1)&lt;/script&gt; &amp; co &lt;b&gt;&amp;&lt;/b&gt;<br>\nrad två"
    )


def test_the_link_is_a_link_in_html_and_plain_in_text():
    values = {**VALUES, "link": "https://k.example.se/bokning/abc"}
    assert render("{{ link }}", values) == "https://k.example.se/bokning/abc"
    assert render("{{ link }}", values, html=True) == (
        '<a href="https://k.example.se/bokning/abc">https://k.example.se/bokning/abc</a>'
    )


def test_a_template_whose_field_went_away_raises_a_fault_not_an_error():
    with pytest.raises(TemplateFault):
        render("Hej {{ pet_name }}", VALUES)
    with pytest.raises(TemplateFault):
        render("Hej {{ patient_name ", VALUES)


def test_the_text_outside_tags_is_kept_exactly():
    text = "Rad 1\n\n  indrag # inte en kommentar ## heller\n"
    assert render(text, VALUES) == text


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_default_text_passes_the_check(key):
    text = DEFAULTS[key]
    for part in (text.subject, text.body):
        if part is not None:
            assert check_template(part, extra_fields=KIND_FIELDS) == []
    assert (text.subject is None) == (key[1] == "sms")
