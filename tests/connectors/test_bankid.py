"""The BankID RP v6.0 client against the stand-in over real mutual TLS: the QR code's
content, auth/collect/cancel, the hint codes, errors and bounded retries, and the
pinned CA (a server of another CA is refused, and so is a client without a cert)."""

from __future__ import annotations

import hashlib
import hmac
import ssl
from pathlib import Path

import httpx
import pytest

from connectors.bankid import (
    BankIDClient,
    BankIDError,
    autostart_link,
    qr_content,
    tls_context,
)
from demo.bankid_server import BankIDStandIn, make_test_pki


@pytest.fixture
def client(bankid_standin: BankIDStandIn):
    pki = bankid_standin.pki
    sleeps: list[float] = []
    client = BankIDClient(
        bankid_standin.url,
        tls_context(pki.ca, pki.rp_cert, pki.rp_key),
        timeout_s=5,
        retries=2,
        sleep=sleeps.append,
    )
    client.sleeps = sleeps  # type: ignore[attr-defined]
    yield client
    client.close()


def person(standin: BankIDStandIn) -> httpx.Client:
    pki = standin.pki
    return httpx.Client(
        base_url=standin.url, verify=tls_context(pki.ca, pki.rp_cert, pki.rp_key), timeout=5
    )


def test_qr_content_is_token_seconds_and_hmac_of_the_seconds():
    secret, token = "d28db9a7-4cde-429e-a983-359be676944c", "67df3917-fa0d-44e5-b327-edcc928297f8"
    expected = hmac.new(secret.encode(), b"7", hashlib.sha256).hexdigest()
    assert qr_content(token, secret, 7) == f"bankid.{token}.7.{expected}"
    assert qr_content(token, secret, 0) != qr_content(token, secret, 1)


def test_autostart_link():
    assert autostart_link("abc") == "bankid:///?autostarttoken=abc&redirect=null"


def test_auth_scan_collect_completes_with_the_person(client, bankid_standin):
    order = client.auth("192.0.2.10")
    assert client.collect(order.order_ref).hint_code == "outstandingTransaction"
    qr = qr_content(order.qr_start_token, order.qr_start_secret, 0)
    with person(bankid_standin) as app:
        forged = qr[:-4] + "0000"
        assert app.post("/test/scan", json={"qr": forged}).status_code == 400
        assert app.post("/test/scan", json={"qr": qr, "action": "sign"}).status_code == 200
        assert client.collect(order.order_ref).hint_code == "userSign"
        app.post(
            "/test/scan",
            json={
                "qr": qr,
                "person": {"personalNumber": "198112189876", "givenName": "A", "surname": "B"},
            },
        )
    done = client.collect(order.order_ref)
    assert done.status == "complete" and done.user is not None
    assert (done.user.personal_number, done.user.name) == ("198112189876", "A B")


@pytest.mark.parametrize(
    ("action", "status", "hint"),
    [
        ("start", "pending", "started"),
        ("sign", "pending", "userSign"),
        ("cancel", "failed", "userCancel"),
        ("expire", "failed", "expiredTransaction"),
    ],
)
def test_hint_codes(client, bankid_standin, action, status, hint):
    order = client.auth("192.0.2.10")
    with person(bankid_standin) as app:
        answer = app.post(
            "/test/autostart", json={"autoStartToken": order.auto_start_token, "action": action}
        )
        assert answer.status_code == 200
    collected = client.collect(order.order_ref)
    assert (collected.status, collected.hint_code) == (status, hint)


def test_cancel_ends_the_order(client):
    order = client.auth("192.0.2.10")
    client.cancel(order.order_ref)
    with pytest.raises(BankIDError) as error:
        client.collect(order.order_ref)
    assert error.value.code == "invalidParameters"


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        ({"status": 400, "errorCode": "alreadyInProgress"}, "alreadyInProgress"),
        ({"status": 503, "errorCode": "maintenance"}, "maintenance"),
        ({"status": 408, "errorCode": "requestTimeout"}, "requestTimeout"),
        ({"status": 500, "errorCode": "internalError"}, "internalError"),
        ({"drop": True}, "network"),
    ],
)
def test_auth_errors_are_not_retried(client, bankid_standin, failure, code):
    """A retried auth could start a second order: only a refused connection retries."""
    with person(bankid_standin) as app:
        app.post("/test/fail-next", json={"method": "auth", **failure})
    with pytest.raises(BankIDError) as error:
        client.auth("192.0.2.10")
    assert error.value.code == code
    assert client.sleeps == []
    client.auth("192.0.2.10")  # the next one goes through


def test_collect_retries_a_bounded_number_of_times(client, bankid_standin):
    order = client.auth("192.0.2.10")
    with person(bankid_standin) as app:
        app.post("/test/fail-next", json={"method": "collect", "status": 503})
        app.post("/test/fail-next", json={"method": "collect", "drop": True})
    assert client.collect(order.order_ref).status == "pending"
    assert len(client.sleeps) == 2
    with person(bankid_standin) as app:
        for _ in range(3):
            app.post("/test/fail-next", json={"method": "collect", "status": 503})
    with pytest.raises(BankIDError) as error:
        client.collect(order.order_ref)
    assert error.value.code == "maintenance" and len(client.sleeps) == 4


def test_a_server_of_another_ca_is_refused(bankid_standin, tmp_path: Path):
    other = make_test_pki(tmp_path / "other")
    pinned_elsewhere = BankIDClient(
        bankid_standin.url,
        tls_context(other.ca, bankid_standin.pki.rp_cert, bankid_standin.pki.rp_key),
        retries=0,
    )
    with pytest.raises(BankIDError) as error:
        pinned_elsewhere.auth("192.0.2.10")
    assert error.value.code == "network"


def test_a_client_without_the_rp_certificate_is_refused(bankid_standin):
    no_cert = ssl.create_default_context(cafile=str(bankid_standin.pki.ca))
    with pytest.raises(httpx.HTTPError):
        httpx.post(
            bankid_standin.url + "/rp/v6.0/auth", json={"endUserIp": "192.0.2.10"}, verify=no_cert
        )


def test_an_unreachable_server_is_a_network_error(tmp_path: Path):
    pki = make_test_pki(tmp_path)
    client = BankIDClient(
        "https://127.0.0.1:9",
        tls_context(pki.ca, pki.rp_cert, pki.rp_key),
        retries=1,
        sleep=lambda _s: None,
    )
    with pytest.raises(BankIDError) as error:
        client.collect("x")
    assert error.value.code == "network"
