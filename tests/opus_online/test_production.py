"""Production mode (OPUS_ENV=production) refuses to start on missing or unsafe
settings, each with its own line in one message; development starts as before."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from booking_app.main import create_app
from demo.run import DEMO_MARKETPLACE_TOKEN
from opus_online import cli
from opus_online.config import Settings, get_settings
from opus_online.production import (
    UnsafeProduction,
    production_problems,
    refuse_unsafe_start,
    setting_problems,
)

SAFE_TOKEN = "m" * 24


def production_settings(tmp_path: Path, **overrides) -> Settings:
    """Settings a production host could run with (certificate files exist)."""
    certificates = tmp_path / "certs"
    certificates.mkdir(exist_ok=True)
    for name in ("ca.pem", "rp.pem", "rp-key.pem"):
        (certificates / name).write_text("-----BEGIN CERTIFICATE-----\n")
    values = dict(
        env="production",
        data_dir=tmp_path / "data",
        secret_key="k" * 48,
        public_base_url="https://{subdomain}.opusdentalonline.com",
        base_domain="opusdentalonline.com",
        admin_host="admin.opusdentalonline.com",
        metrics_token=SAFE_TOKEN,
        store_url="postgresql+psycopg://opus@db.internal/opus",
        smtp_host="smtp.internal",
        smtp_port=587,
        smtp_username="opus",
        smtp_password="a-real-smtp-password",
        smtp_security="starttls",
        sms_gateway_url="https://api.46elks.com/a1/sms",
        sms_gateway_username="u123",
        sms_gateway_password="a-real-sms-password",
        bankid_url="https://appapi2.bankid.com",
        bankid_ca_file=certificates / "ca.pem",
        bankid_cert_file=certificates / "rp.pem",
        bankid_key_file=certificates / "rp-key.pem",
        marketplace_url="https://api.bokavard.se/fhir",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


def test_safe_settings_start(tmp_path: Path) -> None:
    settings = production_settings(tmp_path)
    assert setting_problems(settings) == []
    refuse_unsafe_start(settings, store=False)


def _demo_bankid(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "bankid"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rp.pem").write_text("demo")
    return folder / "rp.pem"


UNSAFE = {
    "no secret key": ({"secret_key": None}, "OPUS_SECRET_KEY", "not set"),
    "short secret key": ({"secret_key": "short"}, "OPUS_SECRET_KEY", "too short"),
    "no public URL": ({"public_base_url": None}, "OPUS_PUBLIC_BASE_URL", "not set"),
    "public URL over HTTP": (
        {"public_base_url": "http://{subdomain}.opusdentalonline.com"},
        "OPUS_PUBLIC_BASE_URL",
        "https://",
    ),
    "public URL without subdomain": (
        {"public_base_url": "https://opusdentalonline.com"},
        "OPUS_PUBLIC_BASE_URL",
        "{subdomain}",
    ),
    "demo base domain": ({"base_domain": "localhost"}, "OPUS_BASE_DOMAIN", "localhost"),
    "no admin host": ({"admin_host": None}, "OPUS_ADMIN_HOST", "not set"),
    "admin host as URL": (
        {"admin_host": "https://admin.example.se/"},
        "OPUS_ADMIN_HOST",
        "host name",
    ),
    "no metrics token": ({"metrics_token": None}, "OPUS_METRICS_TOKEN", "not set"),
    "default store": ({"store_url": None}, "OPUS_STORE_URL", "SQLite file"),
    "SQLite store": ({"store_url": "sqlite:////srv/store.db"}, "OPUS_STORE_URL", "PostgreSQL"),
    "no SMTP login": ({"smtp_username": None}, "OPUS_SMTP_USERNAME", "must both be set"),
    "no SMTP password": ({"smtp_password": None}, "OPUS_SMTP_USERNAME", "must both be set"),
    "demo SMTP password": ({"smtp_password": "changeme"}, "OPUS_SMTP_PASSWORD", "demo"),
    "SMTP in clear": ({"smtp_security": "none"}, "OPUS_SMTP_SECURITY", "in clear"),
    "demo SMS gateway": (
        {"sms_gateway_url": "http://127.0.0.1:8026/a1/sms"},
        "OPUS_SMS_GATEWAY_URL",
        "stand-in",
    ),
    "demo SMS user": ({"sms_gateway_username": "demo"}, "OPUS_SMS_GATEWAY_USERNAME", "demo"),
    "demo SMS password": ({"sms_gateway_password": "demo"}, "OPUS_SMS_GATEWAY_PASSWORD", "demo"),
    "no BankID": ({"bankid_url": None}, "OPUS_BANKID_URL", "https://"),
    "BankID stand-in": (
        {"bankid_url": "https://127.0.0.1:8443"},
        "OPUS_BANKID_URL",
        "appapi2.bankid.com",
    ),
    "no BankID CA": ({"bankid_ca_file": None}, "OPUS_BANKID_CA_FILE", "not set"),
    "missing BankID certificate": (
        {"bankid_cert_file": Path("/nonexistent/rp.pem")},
        "OPUS_BANKID_CERT_FILE",
        "no readable file",
    ),
    "demo marketplace": (
        {"marketplace_url": "http://127.0.0.1:8027/fhir"},
        "OPUS_MARKETPLACE_URL",
        "stand-in",
    ),
}


@pytest.mark.parametrize("case", UNSAFE.values(), ids=UNSAFE.keys())
def test_each_unsafe_setting_is_refused_with_its_own_message(tmp_path: Path, case) -> None:
    overrides, setting, words = case
    with pytest.raises(UnsafeProduction) as refused:
        refuse_unsafe_start(production_settings(tmp_path, **overrides), store=False)
    assert [p.setting for p in refused.value.problems] == [setting]
    assert words in refused.value.problems[0].text
    assert f"{setting}: " in str(refused.value)


def test_the_demos_bankid_certificate_is_refused(tmp_path: Path) -> None:
    settings = production_settings(tmp_path, bankid_cert_file=_demo_bankid(tmp_path))
    [problem] = setting_problems(settings)
    assert (problem.setting, problem.text) == (
        "OPUS_BANKID_CERT_FILE",
        "the demo's test certificate",
    )


def test_the_demos_marketplace_token_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPUS_MARKETPLACE_TOKEN", DEMO_MARKETPLACE_TOKEN)
    [problem] = setting_problems(production_settings(tmp_path))
    assert problem.setting == "OPUS_MARKETPLACE_TOKEN"


def test_every_problem_is_in_the_one_message(tmp_path: Path) -> None:
    """The demo's defaults in production: one refusal naming each problem."""
    with pytest.raises(UnsafeProduction) as refused:
        refuse_unsafe_start(Settings(_env_file=None, env="production", data_dir=tmp_path))
    message = str(refused.value)
    assert message.startswith("OPUS_ENV=production, but ")
    for setting in ("OPUS_SECRET_KEY", "OPUS_ADMIN_HOST", "OPUS_STORE_URL", "OPUS_BANKID_URL"):
        assert f"  - {setting}: " in message
    assert message.count("\n  - ") == len(refused.value.problems) >= 12


def test_development_starts_with_the_demos_defaults(tmp_path: Path) -> None:
    refuse_unsafe_start(Settings(_env_file=None, data_dir=tmp_path))


def test_demo_credentials_in_the_store_are_refused(tmp_path: Path, synced_sqlite_store: Engine):
    """A store seeded by the demo keeps its API key and operator password: refused (the
    check runs on whatever store URL is set; a SQLite one is refused besides)."""
    url = synced_sqlite_store.url.render_as_string(hide_password=False)
    settings = production_settings(tmp_path, store_url=url)
    texts = [p.text for p in production_problems(settings) if p.setting == "store"]
    assert texts == []  # SQLite: only the URL is refused, the store is not read
    from opus_online.production import demo_credentials_in_store

    texts = [p.text for p in demo_credentials_in_store(url)]
    assert any("API key" in text for text in texts)
    assert any("operator" in text for text in texts)


def test_commands_and_the_app_refuse_to_start(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("OPUS_ENV", "production")
    monkeypatch.setenv("OPUS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        for command in (["app"], ["worker"], ["serve"], ["migrate"]):
            assert cli.main(command) == 2
            message = capsys.readouterr().err
            assert message.startswith("OPUS_ENV=production, but ")
            assert "  - OPUS_SECRET_KEY: not set" in message
        with pytest.raises(UnsafeProduction):
            create_app()
    finally:
        get_settings.cache_clear()
    assert not (tmp_path / "store.db").exists()  # refused before anything was made
