"""Slow work never holds the store's write lock: a wrong operator password (argon2,
~0.2 s), a slow BankID (collect, cancel) and a request body that arrives slowly all
happen outside any write transaction, so other patients' and tenants' writes do not
queue behind them (on SQLite one lock serves the whole database)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image as PILImage
from sqlalchemy import Engine

from opus_online.config import Settings
from tests.booking_app.admin.admin_pages import PASSWORD, csrf_token, log_in, operator, tenant_id
from tests.booking_app.booking_pages import SECRET, store_url
from tests.booking_app.login_steps import (
    Clock,
    client_with_bankid,
    collect,
    form_posting_to,
    person_side,
    start_login,
)
from tests.helpers import app_on_loopback
from tests.write_locks import LIMIT_S, app_engine, watch_write_locks

A = "a@tandmottagningen.se"
SLOW_S = 0.5  # five times the longest a write transaction may hold the lock


def slow_next(standin, method: str, seconds: float = SLOW_S) -> None:
    with person_side(standin) as bankid:
        bankid.post("/test/slow-next", json={"method": method, "seconds": seconds})


def test_a_wrong_operator_password_is_checked_outside_the_write_lock(
    booking_client, booking_store: Engine
) -> None:
    operator(booking_store, A, {tenant_id(booking_store): "operator"})
    with watch_write_locks(app_engine(store_url(booking_store))) as locks:
        started = time.perf_counter()
        answer = log_in(booking_client, A, "fel-lösenord-999")
        took = time.perf_counter() - started
    assert answer.status_code == 401
    assert took > LIMIT_S, "argon2 was quicker than the limit: the test proves nothing"
    locks.assert_shorter_than()


@pytest.fixture
def bankid_client(booking_store: Engine, bankid_standin):
    return client_with_bankid(booking_store, bankid_standin, Clock())


def test_a_slow_bankid_collect_holds_no_write_lock(
    bankid_client, booking_store: Engine, bankid_standin
) -> None:
    page = start_login(bankid_client)
    slow_next(bankid_standin, "collect")
    with watch_write_locks(app_engine(store_url(booking_store))) as locks:
        started = time.perf_counter()
        answer = collect(bankid_client, page)
        took = time.perf_counter() - started
    assert answer["status"] == "pending"
    assert took >= SLOW_S, "the stand-in was not slow: the test proves nothing"
    locks.assert_shorter_than()


def test_a_slow_bankid_cancel_holds_no_write_lock(
    bankid_client, booking_store: Engine, bankid_standin
) -> None:
    page = start_login(bankid_client)
    form = form_posting_to(page, "/logga-in/avbryt")
    slow_next(bankid_standin, "cancel")
    with watch_write_locks(app_engine(store_url(booking_store))) as locks:
        answer = bankid_client.post(form.action, data=form.hidden, follow_redirects=False)
    assert answer.status_code == 303 and "avbruten=1" in answer.headers["location"]
    locks.assert_shorter_than()


# -- bodies that arrive slowly, through a real server (the test client sends at once) ---


@pytest.fixture
def live_admin(booking_store: Engine) -> Iterator[httpx.Client]:
    """An operator logged in on the app under uvicorn."""
    own = tenant_id(booking_store)
    operator(booking_store, A, {own: "administrator"})
    settings = Settings(
        store_url=store_url(booking_store), base_domain="localhost", secret_key=SECRET
    )
    with app_on_loopback(settings) as port:
        host = f"admin.localhost:{port}"  # the operator pages' own origin
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Host": host}, timeout=20
        ) as client:
            assert log_in(client, A, PASSWORD).status_code == 303
            yield client


def trickled(body: bytes, pieces: int = 6, pause: float = SLOW_S / 6) -> Iterator[bytes]:
    """``body`` in pieces with a pause before each: a slow uplink."""
    step = -(-len(body) // pieces)
    for start in range(0, len(body), step):
        time.sleep(pause)
        yield body[start : start + step]


def logo() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (60, 20), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def multipart(fields: dict[str, str], image: bytes) -> tuple[bytes, str]:
    request = httpx.Request(
        "POST", "http://x/", data=fields, files={"image": ("logo.png", image, "image/png")}
    )
    return request.read(), request.headers["content-type"]


def test_a_slowly_uploaded_logo_is_read_before_the_write_lock(
    live_admin: httpx.Client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    token = csrf_token(live_admin.get(f"/admin/{own}/media"))
    body, content_type = multipart({"csrf_token": token}, logo())
    with watch_write_locks(app_engine(store_url(booking_store))) as locks:
        answer = live_admin.post(
            f"/admin/{own}/media/logo",
            content=trickled(body),
            headers={"Content-Type": content_type},
        )
    assert answer.status_code in (200, 303), answer.text
    locks.assert_shorter_than()


def test_a_slowly_posted_settings_form_is_read_before_the_write_lock(
    live_admin: httpx.Client, booking_store: Engine
) -> None:
    own = tenant_id(booking_store)
    page = live_admin.get(f"/admin/{own}/avancerat")
    body = httpx.QueryParams({"csrf_token": csrf_token(page), "analytics_script": ""})
    with watch_write_locks(app_engine(store_url(booking_store))) as locks:
        answer = live_admin.post(
            f"/admin/{own}/avancerat",
            content=trickled(str(body).encode()),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert answer.status_code in (200, 303), answer.text
    locks.assert_shorter_than()
