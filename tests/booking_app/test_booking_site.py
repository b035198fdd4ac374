"""What every response of the site shares: security headers, its own static files,
the tenant's colours through /theme.css, and the health check."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import booking_app.main
from booking_app.theme import theme_css
from tests.booking_app.booking_pages import BASE_DOMAIN, change_settings, client_for

EXPECTED_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


@pytest.mark.parametrize("path", ["/", "/static/site.css", "/theme.css", "/finns-inte", "/healthz"])
def test_security_headers_on_every_response(client: TestClient, path: str):
    response = client.get(path)
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers[name] == value
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]


def test_security_headers_on_unknown_hosts_too(synced_store: Engine):
    response = client_for(synced_store, host=f"okand.{BASE_DOMAIN}").get("/")
    assert response.status_code == 404
    assert response.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in response.headers


def test_page_needs_nothing_the_policy_forbids(client: TestClient):
    """No inline script or style (the CSP would block them) and nothing from elsewhere."""
    html = client.get("/").text
    # Scripts only from our own static files (the visit counter, booking_app/tracking.py).
    assert not re.search(r'<script(?![^>]*\bsrc="/static/)', html)
    assert "<style" not in html
    assert " style=" not in html
    urls = re.findall(r'(?:href|src)="([^"]*)"', html)
    assert "/static/site.css" in urls and "/theme.css" in urls
    for url in urls:
        assert url.startswith(("/", "#", "?")), f"{url} leaves the site"


def test_static_css_is_served_by_the_app(client: TestClient):
    response = client.get("/static/site.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "--color-primary" in response.text
    assert "@import" not in response.text and "url(" not in response.text


def test_theme_css_has_the_tenants_colours(synced_store: Engine, client: TestClient):
    change_settings(synced_store, color_primary="#FFEECC", color_accent="#102030")
    response = client.get("/theme.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    css = response.text
    assert "--color-primary: #FFEECC;" in css
    assert "--color-accent: #102030;" in css
    # Pale primary gets dark text, dark accent gets light text.
    assert "--color-on-primary: #000000;" in css
    assert "--color-on-accent: #FFFFFF;" in css


def test_theme_css_lets_only_hex_colours_through():
    # The store refuses these too (tests/connectors/store); the page checks again.
    css = theme_css("#;}*{x:", "#12345G")
    assert "--color-primary: #1F5F8B;" in css
    assert "--color-accent: #F5C518;" in css
    assert "}*{" not in css


def test_theme_css_serves_the_tenants_colours(synced_store: Engine, client: TestClient):
    change_settings(synced_store, color_primary="#FFEEDD", color_accent="#102030")
    css = client.get("/theme.css").text
    assert "--color-primary: #FFEEDD;" in css
    assert "--color-on-primary: #000000;" in css  # dark text on a pale colour
    assert "--color-accent: #102030;" in css


def test_theme_css_only_for_a_tenant_host(synced_store: Engine):
    assert client_for(synced_store, host=BASE_DOMAIN).get("/theme.css").status_code == 404


@pytest.mark.parametrize("host", [f"tandmottagningen.{BASE_DOMAIN}", "127.0.0.1:8000", "x"])
def test_health_check_on_any_host(synced_store: Engine, host: str):
    response = client_for(synced_store, host=host).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_importing_the_app_module_builds_no_app():
    # Only factories at module level: uvicorn --factory calls them.
    assert not isinstance(booking_app.main.app, FastAPI)
    assert callable(booking_app.main.create_app)
