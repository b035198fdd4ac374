"""Cookies and CSRF tokens against a sibling subdomain and another session (security
issue 16, item 1): ``__Host-`` cookies over HTTPS, tokens bound to the session (or the
browser's id), HSTS over HTTPS only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from booking_app.main import create_app
from opus_online.config import Settings
from tests.booking_app.admin.admin_pages import csrf_token, log_in, operator, tenant_id
from tests.booking_app.booking_pages import (
    ADMIN_HOST,
    BASE_DOMAIN,
    SECRET,
    TENANT_HOST,
    client_for,
    store_url,
)
from tests.booking_app.booking_steps import follow, time_buttons, to_time_step

A = "a@tandmottagningen.se"
B = "b@tandmottagningen.se"
STEP = "/boka?clinic=1&treatment=1&practitioner=any&week=first"


def hold_form(client: TestClient) -> tuple[str, dict[str, str]]:
    """The time step's form for its first free time: its action and fields."""
    page = to_time_step(client)
    if not time_buttons(page):
        page = follow(client, page.link("Första lediga tid"))
    button = time_buttons(page)[0]
    return button.form.action, {**button.form.hidden, "slot": button.value or ""}


def https_client(engine: Engine, host: str) -> TestClient:
    settings = Settings(store_url=store_url(engine), base_domain=BASE_DOMAIN, secret_key=SECRET)
    return TestClient(create_app(settings), base_url=f"https://{host}")


def _attributes(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def test_over_https_cookies_are_host_prefixed_and_hsts_is_sent(booking_store: Engine) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "administrator"})
    patient = https_client(booking_store, TENANT_HOST)
    step = patient.get(STEP)
    cookie = step.headers["set-cookie"]
    assert cookie.startswith("__Host-opus_browser=")
    assert {"secure", "path", "httponly"} <= _attributes(cookie)
    assert "domain" not in _attributes(cookie) and "Path=/;" in cookie
    assert step.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    # The hold's cookie too (it was Path=/boka: a __Host- cookie must be Path=/).
    action, data = hold_form(patient)
    held = patient.post(action, data=data, follow_redirects=False)
    assert held.status_code == 303, held.text
    hold = held.headers["set-cookie"]
    assert hold.startswith("__Host-opus_hold=") and "Path=/;" in hold and "Secure" in hold

    admin = https_client(booking_store, ADMIN_HOST)
    login = log_in(admin, A)
    assert login.status_code == 303
    session = login.headers["set-cookie"]
    assert session.startswith("__Host-opus_operator=")
    assert {"secure", "path", "httponly"} <= _attributes(session)
    assert "domain" not in _attributes(session)
    assert admin.get(f"/admin/{own}/avancerat").status_code == 200
    # Over HTTP: no HSTS (it would be ignored, and the demo runs on plain HTTP).
    plain = client_for(booking_store).get(STEP)
    assert "strict-transport-security" not in plain.headers
    assert plain.headers["set-cookie"].startswith("opus_browser=")


def test_a_planted_cookie_and_its_token_are_refused(booking_store: Engine) -> None:
    """A sibling subdomain can set cookies for the whole base domain (unprefixed, with
    a Domain). The attacker plants its own browser id and the token it got for it;
    the victim's form post with that token is refused."""
    attacker = https_client(booking_store, TENANT_HOST)
    action, data = hold_form(attacker)
    planted, token = attacker.cookies.get("__Host-opus_browser"), data["csrf_token"]

    victim = https_client(booking_store, TENANT_HOST)
    for name in ("opus_browser", "opus_csrf"):  # the old double-submit cookie's name too
        victim.cookies.set(name, (name == "opus_csrf" and token) or planted, domain=BASE_DOMAIN)
    assert victim.post(action, data=data).status_code == 403
    # The attacker's own browser may use its token.
    assert attacker.post(action, data=data).status_code == 200


def test_a_token_of_one_session_is_refused_for_another(booking_store: Engine) -> None:
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "administrator"})
    operator(booking_store, B, {own: "administrator"})
    attacker, victim = client_for(booking_store), client_for(booking_store)
    assert log_in(attacker, A).status_code == 303 and log_in(victim, B).status_code == 303
    path = f"/admin/{own}/avancerat"
    theirs = csrf_token(attacker.get(path))
    mine = csrf_token(victim.get(path))
    assert theirs != mine
    # Even with the attacker's token planted as the old double-submit cookie.
    victim.cookies.set("opus_csrf", theirs, domain=ADMIN_HOST)
    form = {"csrf_token": theirs, "analytics_script": "steal()"}
    assert victim.post(path, data=form, follow_redirects=False).status_code == 403
    # A token outlives neither its session: after logging out and in again it is refused.
    page = victim.get("/admin/")
    victim.post("/admin/logout", data={"csrf_token": csrf_token(page)})
    assert log_in(victim, B).status_code == 303
    stale = {"csrf_token": mine, "analytics_script": ""}
    assert victim.post(path, data=stale, follow_redirects=False).status_code == 403
    fresh = {"csrf_token": csrf_token(victim.get(path)), "analytics_script": ""}
    assert victim.post(path, data=fresh, follow_redirects=False).status_code == 303


def test_a_post_from_another_origin_is_refused_whatever_its_token(booking_store: Engine) -> None:
    client = client_for(booking_store)
    action, data = hold_form(client)
    for origin in ("null", "http://annanklinik.booking.test", "http://admin.booking.test"):
        answer = client.post(action, data=data, headers={"Origin": origin})
        assert answer.status_code == 403, origin
    own = client.post(action, data=data, headers={"Origin": f"http://{TENANT_HOST}"})
    assert own.status_code == 200
