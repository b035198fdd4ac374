"""The widget's framing rules without a browser: only the booking steps, only for the
tenant's listed websites, and their cookies made for a cross-site frame."""

from __future__ import annotations

from sqlalchemy import Engine

from booking_app import cookies
from booking_app.cookies import EMBEDDED
from tests.booking_app.api.test_api_cors import publishable_key
from tests.booking_app.booking_pages import client_for

SITE = "https://www.tandvard-exempel.se"
IN_A_FRAME = {"Sec-Fetch-Dest": "iframe"}


def csp(answer) -> str:
    return answer.headers["content-security-policy"]


def test_the_steps_in_a_frame_may_be_framed_by_the_listed_sites_only(booking_store: Engine):
    client = client_for(booking_store)
    assert SITE not in csp(client.get("/boka", headers=IN_A_FRAME))

    publishable_key(booking_store, SITE)
    framed = client.get("/boka", headers=IN_A_FRAME)
    assert SITE in csp(framed).split("frame-ancestors ")[1]
    assert "x-frame-options" not in framed.headers
    # Not asked for in a frame: as before.
    alone = client.get("/boka")
    assert "frame-ancestors 'none'" in csp(alone) and alone.headers["x-frame-options"] == "DENY"


def test_personal_pages_are_never_framed(booking_store: Engine):
    publishable_key(booking_store, SITE)
    client = client_for(booking_store)
    for path in ("/mina-bokningar", "/logga-in", "/admin/login", "/widget.js"):
        answer = client.get(path, headers=IN_A_FRAME, follow_redirects=False)
        assert "frame-ancestors 'none'" in csp(answer), path


def test_cookies_set_in_the_frame_work_cross_site_and_stay_partitioned():
    framed = {"type": "http", "scheme": "http", "state": {EMBEDDED: True}}
    cookie = cookies.header(framed, cookies.BROWSER, "x", samesite="strict")
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie
    alone = cookies.header({"type": "http", "scheme": "http"}, cookies.BROWSER, "x")
    assert "SameSite=Lax" in alone and "Partitioned" not in alone


def test_the_deep_link_chooses_the_clinic_and_treatment_by_the_apis_ids(booking_store: Engine):
    client = client_for(booking_store)
    clinics = client.get(
        "/api/public/v1/clinics", headers={"apiKey": "oo_demo_tandmottagningen_not_a_secret"}
    ).json()
    first = clinics[0]["ID"]
    answer = client.get(f"/inbaddad?clinic={first}&treatment=999999", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/boka?clinic=")
    assert "treatment" not in answer.headers["location"]  # unknown: not chosen
    unknown = client.get("/inbaddad?clinic=nope", follow_redirects=False)
    assert unknown.headers["location"] == "/boka"
