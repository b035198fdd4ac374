"""opus-online check: the table names a dead SMTP server as such, and a live one (the
demo's mail catcher, standing in) as OK; the production settings are in it too."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.mail_catcher import MailCatcher, free_port
from opus_online import cli
from opus_online.check import FAIL, OK, WARN, check_smtp
from opus_online.config import Settings, get_settings


def _rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines()[1:]:
        cells = line.split()
        if len(cells) >= 3:
            rows.setdefault(cells[0], []).append(line)
    return rows


def test_a_dead_smtp_server_fails_in_the_table(tmp_path: Path, monkeypatch, capsys) -> None:
    dead = free_port()  # nothing listens there
    monkeypatch.setenv("OPUS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPUS_SMTP_PORT", str(dead))
    monkeypatch.setenv("OPUS_SMS_GATEWAY_URL", f"http://127.0.0.1:{free_port()}/a1/sms")
    monkeypatch.setenv("OPUS_MARKETPLACE_URL", f"http://127.0.0.1:{free_port()}/fhir")
    get_settings.cache_clear()
    try:
        status = cli.main(["check", "--timeout", "2"])
    finally:
        get_settings.cache_clear()
    rows = _rows(capsys.readouterr().out)
    assert status == 1
    [smtp] = rows["smtp"]
    assert f"127.0.0.1:{dead}" in smtp and f" {FAIL} " in smtp and "refused" in smtp.lower()
    # Development: the production problems are warnings, not failures.
    assert any("OPUS_SECRET_KEY" in row and f" {WARN} " in row for row in rows["setting"])


def test_a_live_smtp_server_is_ok(tmp_path: Path) -> None:
    with MailCatcher() as catcher:
        settings = Settings(_env_file=None, data_dir=tmp_path, smtp_port=catcher.port)
        row = check_smtp(settings, timeout_s=2)
        assert not catcher.messages  # asked who it is, sent nothing
    assert (row.check, row.result) == ("smtp", OK)


def test_a_server_that_never_greets_times_out(tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = Settings(_env_file=None, data_dir=tmp_path, smtp_port=silent.getsockname()[1])
        row = check_smtp(settings, timeout_s=0.5)
    assert row.result == FAIL and "timed out" in row.detail.lower()


@pytest.mark.parametrize("env", ["production"])
def test_in_production_a_missing_setting_fails(tmp_path: Path, env: str) -> None:
    from opus_online.check import check_all

    settings = Settings(
        _env_file=None,
        env=env,
        data_dir=tmp_path,
        smtp_port=free_port(),
        sms_gateway_url="http://127.0.0.1:9/x",
    )
    rows = check_all(settings, timeout_s=1)
    assert any(
        r.check == "setting" and r.target == "OPUS_ADMIN_HOST" and r.result == FAIL for r in rows
    )
