"""In Chromium, one test per operator tab that had none: *Kliniker* (order, *Grupp*,
added practitioners), *Underdomän*, *Media*, *E-post* and *Avancerat*, each followed
through to what the patient site then shows; and the Kliniker tab driven by keyboard
alone.

The operator acts as a person would: fields by their labels, buttons by their
accessible names. The patient site is then read the same way, so a change that only
reached the store (and not the page) still fails here.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image as PILImage
from sqlalchemy import Engine

from connectors.notifications.fields import sample_values
from demo.store_seed import DEMO_OPERATOR, DEMO_OPERATOR_PASSWORD
from tests.booking_app.admin.admin_pages import other_tenant
from tests.booking_app.booking_pages import admin_site

pytestmark = pytest.mark.browser

TENANT = "tandmottagningen"
SAVED = "Ändringarna är sparade."


@pytest.fixture
def page(chromium) -> Iterator:
    """One page for the whole test (a new page per step would cost more than the
    step), in a context of its own that a second tab can share."""
    context = chromium.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def _site(port: int, subdomain: str = TENANT) -> str:
    # Chromium resolves *.localhost to the loopback address itself.
    return f"http://{subdomain}.localhost:{port}"


def _log_in(page, base: str) -> None:
    """Log in as the demo tenant's administrator and open the tenant's pages."""
    page.goto(f"{admin_site(base)}/admin/login")
    page.get_by_label("E-postadress").fill(DEMO_OPERATOR)
    page.get_by_label("Lösenord").fill(DEMO_OPERATOR_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    _open_tenant(page, base)


def _open_tenant(page, base: str) -> None:
    """From the operator's list of accounts into the demo tenant's tabs (after a visit
    to the patient site)."""
    if not page.url.endswith("/admin/"):
        page.goto(f"{admin_site(base)}/admin/")
    page.get_by_role("link", name="Tandmottagningen").click()
    page.get_by_role("navigation", name="Flikar").wait_for()


def _open_tab(page, name: str) -> None:
    """Open a tab the way the operator does: by its link in the tab list."""
    from playwright.sync_api import expect

    page.get_by_role("navigation", name="Flikar").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def _starts(*names: str) -> list[re.Pattern[str]]:
    """Patterns for elements whose text starts with each name (a clinic's link also
    carries its address; a practitioner's, the title)."""
    return [re.compile(rf"^\s*{re.escape(n)}(\s|$)") for n in names]


def _is_focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def _tab_to(page, target, limit: int = 200) -> int:
    """Press Tab until ``target`` has the focus; the number of presses. Fails when it
    is never reached: then a keyboard user cannot reach it either."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _is_focused(target):
            return presses
    raise AssertionError(f"{target} not reached with {limit} presses of Tab")


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (width, height), (0, 90, 160)).save(out, "PNG")
    return out.getvalue()


# -- Kliniker ------------------------------------------------------------------------


def _clinics_tab(page) -> tuple[list[str], list[str]]:
    """The Kliniker tab's clinics in their shown order, and the first clinic's
    practitioners in theirs."""
    clinics = page.locator("fieldset > legend").all_inner_texts()
    first = page.get_by_role("group", name=clinics[0], exact=True)
    rows = first.get_by_role("row").filter(has=page.get_by_role("checkbox"))
    return clinics, [row.get_by_role("cell").first.inner_text().strip() for row in rows.all()]


def _practitioner_step(page, base: str, clinic: str) -> str:
    """Walk the patient site to the practitioner step of ``clinic``'s first treatment;
    its address."""
    from playwright.sync_api import expect

    page.goto(f"{base}/boka")
    page.get_by_role("link", name=_starts(clinic)[0]).click()
    page.get_by_role("main").get_by_role("listitem").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Välj behandlare")
    return page.url


def test_clinics_tab_order_group_and_practitioners_reach_the_patient_site(page, live_app) -> None:
    """The manual's Kliniker tab: order (up/down), *Grupp* and which practitioners are
    added decide what a patient is offered; each is checked where the patient sees it."""
    from playwright.sync_api import expect

    base = _site(live_app)
    _log_in(page, base)
    _open_tab(page, "Kliniker")
    clinics, staff = _clinics_tab(page)
    assert len(clinics) == 4 and len(staff) >= 3, (clinics, staff)
    c0, c1, c2, c3 = clinics
    last_group = page.get_by_role("group", name=c3, exact=True).get_by_label("Grupp")
    assert last_group.input_value() == ""  # so the patient site has ungrouped clinics

    # Before: the practitioner step lists them all, in the tab's order.
    step = _practitioner_step(page, base, c0)
    practitioners = page.get_by_role("main").get_by_role("listitem").get_by_role("link")
    expect(practitioners).to_have_text(_starts(*staff))
    page.goto(f"{base}/boka")
    expect(page.get_by_role("region", name="Ogrupperade kliniker")).to_be_visible()

    _open_tenant(page, base)
    _open_tab(page, "Kliniker")
    legends = page.locator("fieldset > legend")
    page.get_by_role("button", name=f"Flytta ned {c0}", exact=True).click()
    expect(legends).to_have_text([c1, c0, c2, c3])
    expect(page.get_by_role("status")).to_have_text(SAVED)
    for expected in ([c1, c2, c0, c3], [c2, c1, c0, c3]):
        page.get_by_role("button", name=f"Flytta upp {c2}", exact=True).click()
        expect(legends).to_have_text(expected)

    first = page.get_by_role("group", name=c0, exact=True)
    first.get_by_role("button", name=f"Flytta ned {staff[0]}, {c0}", exact=True).click()
    rows = first.get_by_role("row").filter(has=page.get_by_role("checkbox"))
    moved = [staff[1], staff[0], *staff[2:]]
    expect(rows).to_have_text(_starts(*moved))

    # The settings form: a group for the ungrouped clinic, one practitioner removed.
    page.get_by_role("group", name=c3, exact=True).get_by_label("Grupp").fill("Norrtälje")
    removed = staff[2]
    first.get_by_role("checkbox", name=f"Lägg till {removed}, {c0}", exact=True).uncheck()
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(SAVED)
    expect(
        first.get_by_role("checkbox", name=f"Lägg till {removed}, {c0}", exact=True)
    ).not_to_be_checked()
    groups = [
        page.get_by_role("group", name=c, exact=True).get_by_label("Grupp").input_value()
        for c in (c2, c1, c0, c3)
    ]

    # The patient site: groups in the order of their first clinic, clinics in order.
    page.goto(f"{base}/boka")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=2)).to_have_text(list(dict.fromkeys(groups)))
    expect(main.get_by_role("region", name="Ogrupperade kliniker")).to_have_count(0)
    expect(main.get_by_role("region", name="Norrtälje").get_by_role("link")).to_have_text(
        _starts(c3)
    )
    expect(main.get_by_role("listitem").get_by_role("link")).to_have_text(_starts(c2, c1, c0, c3))

    page.goto(step)
    expect(practitioners).to_have_text(_starts(*[n for n in moved if n != removed]))

    # Lägg till: the practitioner is back, in their place.
    _open_tenant(page, base)
    _open_tab(page, "Kliniker")
    first.get_by_role("checkbox", name=f"Lägg till {removed}, {c0}", exact=True).check()
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(SAVED)
    page.goto(step)
    expect(practitioners).to_have_text(_starts(*moved))


def test_clinics_tab_moves_and_saves_with_the_keyboard_alone(page, live_app) -> None:
    """Tab reaches each move button and *Spara*; Enter operates them; each button says
    what it moves; focus stays on the button moved with, so Enter again moves on."""
    from playwright.sync_api import expect

    base = _site(live_app)
    _log_in(page, base)
    _open_tab(page, "Kliniker")
    clinics, _staff = _clinics_tab(page)
    c0, c1, c2, c3 = clinics
    legends = page.locator("fieldset > legend")

    # Every up/down button has a name saying what it moves, and a target of at least
    # 24 × 24 CSS pixels (WCAG 2.5.8).
    arrows = page.get_by_role("button", name=re.compile("^Flytta (upp|ned) "))
    assert arrows.count() == 2 * (len(clinics) + page.get_by_role("checkbox").count())
    expect(page.get_by_role("button", name=re.compile("^[↑↓]$"))).to_have_count(0)
    box = arrows.first.bounding_box()
    assert box is not None and box["width"] >= 24 and box["height"] >= 24, box

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")  # the skip link: Tab goes on from the page's main part

    down = page.get_by_role("button", name=f"Flytta ned {c0}", exact=True)
    _tab_to(page, down, limit=40)
    assert down.evaluate("b => getComputedStyle(b).outlineStyle") != "none"  # focus is seen
    page.keyboard.press("Enter")
    expect(legends).to_have_text([c1, c0, c2, c3])
    expect(down).to_be_focused()
    page.keyboard.press("Enter")
    expect(legends).to_have_text([c1, c2, c0, c3])
    expect(down).to_be_focused()

    # On to the clinic's Grupp field, a new group typed, and Spara.
    page.keyboard.press("Tab")
    group = page.get_by_role("group", name=c0, exact=True).get_by_label("Grupp")
    expect(group).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Tangentbordsgruppen")
    save = page.get_by_role("button", name="Spara", exact=True)
    _tab_to(page, save)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text(SAVED)
    expect(group).to_have_value("Tangentbordsgruppen")
    expect(legends).to_have_text([c1, c2, c0, c3])


# -- Underdomän ----------------------------------------------------------------------


def test_subdomain_tab_checks_saves_and_the_old_host_redirects(page, live_app) -> None:
    """A checked name saves nothing; a saved one moves the site, and old links (with
    path and query) keep working through a permanent 308 redirect."""
    from playwright.sync_api import expect

    old, new = _site(live_app), _site(live_app, "tandvard-uppsala")
    _log_in(page, old)
    _open_tab(page, "Underdomän")
    field = page.get_by_label("Underdomän", exact=True)
    check = page.get_by_role("button", name="Kontrollera tillgänglighet")

    field.fill("www")
    check.click()
    expect(page.get_by_role("alert")).to_have_text("Namnet är reserverat. Välj ett annat.")
    field.fill("Tandvard-Uppsala ")
    check.click()
    expect(page.get_by_role("status")).to_have_text("Namnet är ledigt.")
    expect(field).to_have_value("tandvard-uppsala")
    # Checking saved nothing: the new host is nobody's yet (a second tab: Playwright's
    # own request client resolves names outside Chromium, and *.localhost not at all).
    patient = page.context.new_page()
    answer = patient.goto(f"{new}/")
    assert answer is not None and answer.status == 404
    patient.close()

    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(SAVED)
    expect(field).to_have_value("tandvard-uppsala")

    answer = page.goto(f"{new}/")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Tandmottagningen")

    answer = page.goto(f"{old}/boka?lang=en")
    assert answer is not None and answer.status == 200
    assert page.url == f"{new}/boka?lang=en"
    hop = answer.request.redirected_from
    assert hop is not None and hop.url == f"{old}/boka?lang=en"
    moved = hop.response()
    assert moved is not None and moved.status == 308
    assert moved.headers["location"] == f"{new}/boka?lang=en"
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a clinic")


# -- Media ---------------------------------------------------------------------------


def test_media_tab_texts_colours_and_logo_reach_the_patient_site(page, live_app) -> None:
    """An unreadable colour is refused as a whole (nothing of the form goes live) with a
    Swedish reason; accepted texts, colours and the logo show on the patient site."""
    from playwright.sync_api import expect

    base = _site(live_app)
    welcome = "Välkommen! Nu bokar du tid direkt i webbläsaren."
    _log_in(page, base)
    _open_tab(page, "Media")
    page.get_by_label("Välkomsttext").fill(welcome)
    page.get_by_label("Huvudfärg").fill("#eeeeee")  # pale on the white page
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Huvudfärgen är för ljus mot den vita sidan (WCAG AA kräver kontrast 3:1)."
    )
    # Nothing of the refused form was saved, and nothing typed was lost.
    expect(page.get_by_label("Välkomsttext")).to_have_value(welcome)
    patient = page.context.new_page()
    patient.goto(f"{base}/")
    expect(patient.get_by_role("heading", level=1)).to_have_text("Tandmottagningen")
    expect(patient.get_by_text(welcome)).to_have_count(0)
    patient.close()

    page.get_by_label("Huvudfärg").fill("#7a1f3d")
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(SAVED)

    page.get_by_label("Ny logotyp").set_input_files(
        {"name": "logotyp.png", "mimeType": "image/png", "buffer": _png(120, 40)}
    )
    page.get_by_role("button", name="Ladda upp").click()
    expect(page.get_by_role("status")).to_have_text(SAVED)
    expect(page.get_by_role("img", name="Logotyp")).to_be_visible()

    page.goto(f"{base}/")
    expect(page.get_by_role("main").get_by_text(welcome)).to_be_visible()
    expect(page.get_by_role("banner")).to_have_css("background-color", "rgb(122, 31, 61)")
    logo = page.get_by_role("banner").locator("img")  # alt="": the name is beside it
    expect(logo).to_be_visible()
    assert logo.evaluate("i => i.complete && [i.naturalWidth, i.naturalHeight]") == [120, 40]


# -- E-post --------------------------------------------------------------------------


def test_email_tab_picker_preview_save_and_unknown_field(page, live_app) -> None:
    """The picker inserts at the cursor and the preview follows the typing (both are
    the page's script); a template with an unknown field is refused, the saved one kept."""
    from playwright.sync_api import expect

    sample = sample_values("email")
    errors: list[str] = []  # a broken picker or preview script shows here
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _log_in(page, _site(live_app))
    _open_tab(page, "E-post")
    new = page.get_by_role("group", name="Ny bokning", exact=True)
    subject, body = new.get_by_label("Ämne"), new.get_by_label("Text")
    preview = new.get_by_role("group", name="Förhandsvisning med exempeldata")
    expect(preview).to_contain_text("Opus standardtext")  # empty: the default text

    subject.fill("Bokad tid ")
    page.get_by_role("button", name="{{ date }}", exact=True).click()
    expect(subject).to_have_value("Bokad tid {{ date }}")

    # The picker inserts where the cursor is, not only at the end.
    body.fill("Hej ! Välkommen till oss.")
    body.press("Home")
    for _ in "Hej ":
        body.press("ArrowRight")
    page.get_by_role("button", name="{{ first_name }}", exact=True).click()
    expect(body).to_have_value("Hej {{ first_name }}! Välkommen till oss.")
    expect(body).to_be_focused()
    expect(preview).to_contain_text(f"Bokad tid {sample['date']}")
    expect(preview).to_contain_text(f"Hej {sample['first_name']}! Välkommen till oss.")

    # A long line wraps in the preview: it does not widen the page (a <pre> would,
    # its fieldset growing with it) so that the form scrolls sideways.
    body.press("End")
    body.press_sequentially(" " + "Ring oss om du behöver ändra tiden." * 4)
    expect(preview).to_contain_text("ändra tiden.Ring oss")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")

    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(SAVED)
    saved = body.input_value()
    assert saved.startswith("Hej {{ first_name }}! Välkommen till oss. Ring oss")
    expect(preview).to_contain_text(f"Hej {sample['first_name']}! Välkommen")

    assert errors == []  # (the refusal below is a 400, which Chromium logs as one)

    # An unknown merge field: the live preview says so, and saving refuses it.
    body.fill("Hej {{ skostorlek }}!")
    expect(preview).to_contain_text("Okänt kopplingsfält: {{ skostorlek }}.")
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Okänt kopplingsfält: {{ skostorlek }}.")
    expect(body).to_have_value("Hej {{ skostorlek }}!")  # kept, to be corrected
    _open_tab(page, "E-post")
    expect(body).to_have_value(saved)


# -- Avancerat -----------------------------------------------------------------------

ANALYTICS_ORIGIN = "https://statistik.example.org"
ANALYTICS = f'<script defer src="{ANALYTICS_ORIGIN}/script.js" data-website-id="c0ffee"></script>'


def _directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as directive name → its sources."""
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def test_advanced_tab_script_runs_on_the_patient_page_under_its_own_policy(
    page, live_app, booking_store: Engine
) -> None:
    """The script runs in its tenant's analytics frame (the page's own policy stays
    'self'); another tenant's page neither carries it nor a frame for it."""
    from playwright.sync_api import expect

    other_tenant(booking_store, "annanklinik")
    base = _site(live_app)
    # No network here: the analytics host is answered by the test. The policy is
    # checked before any request, so a blocked script would never reach this route.
    loaded: list[str] = []

    def analytics(route) -> None:
        loaded.append(route.request.url)
        route.fulfill(content_type="text/javascript", body="window.opusAnalytics = 'körde';")

    page.route(f"{ANALYTICS_ORIGIN}/**", analytics)
    _log_in(page, base)
    _open_tab(page, "Avancerat")
    page.get_by_label("Skript för webbstatistik").fill(ANALYTICS)
    # The script's own form: Avancerat has others (Gallring) with their own Spara.
    script_form = page.locator("form").filter(has=page.get_by_label("Skript för webbstatistik"))
    script_form.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(SAVED)
    expect(page.get_by_label("Skript för webbstatistik")).to_have_value(ANALYTICS)

    answer = page.goto(f"{base}/")
    assert answer is not None and answer.status == 200
    # The page's own policy stays 'self': the script runs in the analytics frame.
    policy = _directives(answer.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    expect(page.locator(f'script[src^="{ANALYTICS_ORIGIN}"]')).to_have_count(0)
    frame = page.frame_locator('iframe[src="/analys"]')
    tag = frame.locator(f'script[src="{ANALYTICS_ORIGIN}/script.js"]')
    expect(tag).to_have_attribute("data-website-id", "c0ffee")
    analytics_frame = next(f for f in page.frames if f.url.endswith("/analys"))
    analytics_frame.wait_for_function("window.opusAnalytics === 'körde'")
    assert loaded == [f"{ANALYTICS_ORIGIN}/script.js"]

    # Another tenant's page neither carries the script nor a frame for it.
    answer = page.goto(f"{_site(live_app, 'annanklinik')}/")
    assert answer is not None and answer.status == 200
    assert _directives(answer.headers["content-security-policy"])["script-src"] == ["'self'"]
    expect(page.locator("iframe")).to_have_count(0)
    assert loaded == [f"{ANALYTICS_ORIGIN}/script.js"]


def test_clinics_tab_stops_a_move_that_would_lose_unsaved_edits(page, live_app) -> None:
    """A move reloads the tab from the store: with a *Grupp* typed but not saved, the
    move is stopped and the operator told to save first; after *Spara* it moves."""
    from playwright.sync_api import expect

    base = _site(live_app)
    _log_in(page, base)
    _open_tab(page, "Kliniker")
    clinics, _ = _clinics_tab(page)
    legends = page.locator("fieldset > legend")
    note = page.get_by_role("alert")
    expect(note).to_be_hidden()

    group = page.get_by_role("group", name=clinics[-1], exact=True).get_by_label("Grupp")
    group.fill("Roslagen")
    page.get_by_role("button", name=f"Flytta ned {clinics[0]}", exact=True).click()

    expect(note).to_have_text(
        "Du har ändringar som inte är sparade. Spara dem först, flytta sedan."
    )
    expect(legends).to_have_text(clinics)  # nothing moved
    expect(group).to_have_value("Roslagen")  # and nothing lost

    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(SAVED)
    page.get_by_role("button", name=f"Flytta ned {clinics[0]}", exact=True).click()
    expect(legends).to_have_text([clinics[1], clinics[0], *clinics[2:]])
    expect(
        page.get_by_role("group", name=clinics[-1], exact=True).get_by_label("Grupp")
    ).to_have_value("Roslagen")
