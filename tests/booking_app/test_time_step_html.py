"""The time step's times and month made in Python (booking_app.time_step_html): a
tenant's words (a practitioner's or clinic's name in a label) are text, never markup,
as the template's autoescaping made them."""

from __future__ import annotations

from datetime import date

from booking_app.steps import Option
from booking_app.time_step_html import calendar_html, times_html

HOSTILE = '"><script>alert(1)</script><b x="'


def _option(**changes: str) -> Option:
    fields = {
        "href": "/boka?clinic=1&at=2027-01-04T08:00Z",
        "name": "slot",
        "value": "1|2027-01-04T08:00Z",
        "label": "09:00",
        "aria_label": "måndag 4 januari 09:00",
        "detail": None,
    }
    return Option(**{**fields, **changes})


def test_every_field_of_a_time_is_escaped_in_buttons_and_in_links() -> None:
    hostile = _option(
        href=HOSTILE, value=HOSTILE, label=HOSTILE, aria_label=f"hos {HOSTILE}", detail=HOSTILE
    )
    for final in (True, False):
        html = str(times_html([hostile], final))
        assert HOSTILE not in html and "<script>" not in html
        assert "&lt;script&gt;" in html and "&#34;&gt;" in html
        assert html.count("<li>") == 1 and html.endswith("</li>")


def test_a_time_is_the_templates_button_or_link() -> None:
    option = _option(detail="Kliniken & co")
    assert str(times_html([option], final=True)) == (
        '<li><button type="submit" class="choice time" name="slot"'
        ' value="1|2027-01-04T08:00Z" aria-label="måndag 4 januari 09:00">09:00'
        '<span class="choice-detail">Kliniken &amp; co</span></button></li>'
    )
    assert str(times_html([_option(aria_label=None)], final=False)) == (
        '<li><a class="choice time" href="/boka?clinic=1&amp;at=2027-01-04T08:00Z">09:00</a></li>'
    )


def test_the_months_days_escape_their_links_and_labels() -> None:
    row = [None, (date(2027, 1, 5), HOSTILE, HOSTILE), (date(2027, 1, 6), None, HOSTILE)]
    html = str(calendar_html([row]))
    assert HOSTILE not in html and "<script>" not in html
    assert html.count("&lt;script&gt;") == 3  # a link and two labels
    assert html.startswith('<tr><td></td><td class="has-times">') and html.endswith("</tr>")
    assert ">5</a></td>" in html and ">6</span></td>" in html
