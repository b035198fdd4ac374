"""The SMS client against the gateway stand-in over real HTTP: the 46elks request shape,
basic auth, sender ids, and which answers are worth another try."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import httpx
import pytest

from connectors.delivery import Permanent, Transient
from connectors.sms import ElksGateway, Sms, valid_number, valid_sender
from demo.sms_gateway import SmsGatewayStandIn


@pytest.fixture
def gateway():
    with SmsGatewayStandIn(report_delay_s=0) as running:
        yield running


def client(gateway: SmsGatewayStandIn, password: str = "demo", timeout_s: float = 5):
    return ElksGateway(f"{gateway.url}/a1/sms", "demo", password, timeout_s)


def test_a_message_is_taken_and_its_id_returned(gateway):
    message_id = client(gateway).send(Sms("Tandvard", "+46701234567", "Hej Åsa! €"))
    [sms] = gateway.received
    assert message_id == sms.id and message_id.startswith("s")
    assert (sms.sender, sms.to, sms.message) == ("Tandvard", "+46701234567", "Hej Åsa! €")
    assert (sms.parts, sms.encoding) == (1, "GSM-7")


def test_the_stand_in_shows_what_it_received(gateway):
    client(gateway).send(Sms("Tandvard", "+46701234567", "<b>Hej</b>"))
    page = httpx.get(gateway.url + "/").text
    assert "&lt;b&gt;Hej&lt;/b&gt;" in page and "<b>Hej</b>" not in page
    [listed] = httpx.get(gateway.url + "/messages.json").json()
    assert listed["message"] == "<b>Hej</b>"


def test_a_wrong_password_is_refused_and_temporary(gateway):
    with pytest.raises(Transient, match="401"):
        client(gateway, password="wrong").send(Sms("Tandvard", "+46701234567", "Hej"))
    assert gateway.received == []


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_throttling_are_temporary(gateway, status):
    gateway.fail_next(1, status)
    with pytest.raises(Transient, match=str(status)):
        client(gateway).send(Sms("Tandvard", "+46701234567", "Hej"))
    client(gateway).send(Sms("Tandvard", "+46701234567", "Hej"))  # the next one goes
    assert len(gateway.received) == 1


def test_a_slow_gateway_times_out_as_temporary(gateway):
    gateway.fail_next(1, hang_s=2)
    with pytest.raises(Transient, match="timed out"):
        client(gateway, timeout_s=0.3).send(Sms("Tandvard", "+46701234567", "Hej"))


def test_a_gateway_that_is_down_is_temporary():
    with SmsGatewayStandIn() as gone:
        url = f"{gone.url}/a1/sms"
    with pytest.raises(Transient, match="unreachable"):
        ElksGateway(url, "demo", "demo", 2).send(Sms("Tandvard", "+46701234567", "Hej"))


def test_a_number_the_gateway_refuses_is_permanent(gateway):
    gateway.refused_numbers.add("+46700000001")
    with pytest.raises(Permanent, match="400: Invalid to number"):
        client(gateway).send(Sms("Tandvard", "+46700000001", "Hej"))


def test_bad_numbers_and_senders_are_refused_before_any_call(gateway):
    with pytest.raises(Permanent, match=r"E\.164"):
        client(gateway).send(Sms("Tandvard", "0701234567", "Hej"))
    with pytest.raises(Permanent, match="sender id"):
        client(gateway).send(Sms("Tandvården AB", "+46701234567", "Hej"))
    assert gateway.requests == 0


def test_the_stand_in_validates_like_the_gateway(gateway):
    def post(**form):
        return httpx.post(f"{gateway.url}/a1/sms", data=form, auth=("demo", "demo"))

    assert post(**{"from": "TooLongSender1", "to": "+46701234567", "message": "x"}).text == (
        "Invalid from"
    )
    assert post(**{"from": "Tandvard", "to": "070-123", "message": "x"}).status_code == 400
    assert post(**{"from": "Tandvard", "to": "+46701234567", "message": ""}).status_code == 400
    assert post(**{"from": "+46701234567", "to": "+46701234567", "message": "x"}).is_success


@pytest.mark.parametrize(
    ("sender", "valid"),
    [
        ("Tandvard", True),
        ("Klinik24", True),
        ("ABCDEFGHIJK", True),  # 11
        ("ABCDEFGHIJKL", False),  # 12
        ("Tandvård", False),  # not ASCII
        ("Tand vard", False),
        ("12345", False),  # digits only read as a number
        ("+46701234567", True),
        ("", False),
    ],
)
def test_sender_ids(sender, valid):
    assert valid_sender(sender) is valid


def test_numbers():
    assert valid_number("+46701234567") and not valid_number("0701234567")
    assert not valid_number("+4670123456789012") and not valid_number("+0701234567")


def test_the_delivery_report_is_posted_to_the_callback(gateway):
    reports: list[dict[str, str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            reports.append(
                {"path": self.path, "host": self.headers["Host"]} | dict(parse_qsl(body))
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        port = receiver.server_address[1]
        callback = f"http://klinik.localhost:{port}/sms/leveransrapport/7/token"
        gateway.undeliverable_numbers.add("+46709999999")
        first = client(gateway).send(Sms("Tandvard", "+46701234567", "Hej", callback))
        second = client(gateway).send(Sms("Tandvard", "+46709999999", "Hej", callback))
        gateway.wait_for_reports()
    finally:
        receiver.shutdown()
        receiver.server_close()
    by_id = {r["id"]: r for r in reports}
    assert by_id[first]["status"] == "delivered" and by_id[second]["status"] == "failed"
    # *.localhost is reached on loopback, with the tenant's host name kept
    assert by_id[first]["host"] == f"klinik.localhost:{port}"
    assert by_id[first]["path"] == "/sms/leveransrapport/7/token"
