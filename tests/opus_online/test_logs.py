"""OPUS_LOG_FORMAT=json: one JSON object per line, with the request id the response
carries, and no personal data in it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from booking_app.main import create_app
from opus_online.config import Settings
from opus_online.logs import configure_logging

log = logging.getLogger("tests.logs")


@pytest.fixture
def json_logs(capsys):
    configure_logging("json")
    yield capsys
    root = logging.getLogger()  # the app configures it again: remove each made
    for handler in [h for h in root.handlers if getattr(h, "opus_online", False)]:
        root.removeHandler(handler)


def test_json_lines_parse_and_carry_the_request_id(tmp_path: Path, json_logs) -> None:
    app = create_app(Settings(_env_file=None, data_dir=tmp_path, log_format="json"))

    @app.get("/_log_for_test")
    def logs_something() -> dict:  # a route that logs, as booking routes do
        log.warning("patient 199001011239 <astrid@example.se> +46701234567 asked")
        return {}

    client = TestClient(app)
    given = "3f2a9c1e-7b4d-4e8f-a6c5-0d9e8b7a6f5e"
    answered = client.get("/_log_for_test", headers={"x-request-id": given})
    assert answered.headers["x-request-id"] == given
    made = client.get("/_log_for_test").headers["x-request-id"]
    log.warning("outside any request")

    lines = [json.loads(line) for line in json_logs.readouterr().err.splitlines() if line]
    mine = [entry for entry in lines if entry["logger"] == "tests.logs"]
    assert [entry["request_id"] for entry in mine] == [given, made, "-"]
    first = mine[0]
    assert first["level"] == "WARNING" and first["time"].endswith("+00:00")
    assert first["message"] == "patient *** <***> *** asked"
    assert "199001011239" not in json_logs.readouterr().err


def test_a_traceback_is_one_json_line(json_logs) -> None:
    try:
        raise ValueError("no such patient 199001011239")
    except ValueError:
        log.exception("failed")
    err = json_logs.readouterr().err
    [entry] = [json.loads(line) for line in err.splitlines()]
    assert entry["message"] == "failed"
    assert "ValueError: no such patient ***" in entry["exception"]
