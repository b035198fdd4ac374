"""SMART Scheduling Links bulk publication: manifest and NDJSON, per tenant by host."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import Engine, select

from connectors.marketplace.resources import DEEP_LINK
from connectors.store.db import session_scope
from connectors.store.models import Tenant
from demo.store_seed import DEMO_SUBDOMAIN
from tests.booking_app.api.api_client import OTHER_HOST, OTHER_SUBDOMAIN, add_second_tenant
from tests.booking_app.booking_pages import change_settings, client_for


def ndjson(client: TestClient, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def test_not_served_while_the_setting_is_off(client: TestClient, synced_store: Engine):
    urls = ("/$bulk-publish", "/bulk-publish/Location.ndjson", "/bulk-publish/Slot.ndjson")
    for url in urls:
        assert client.get(url).status_code == 404
    change_settings(synced_store, publish_boka_vard=True)  # the same store, the setting on
    for url in urls:
        assert client.get(url).status_code == 200  # so the 404s were the setting's


def test_manifest_and_files_are_valid_and_link_up(synced_store: Engine):
    change_settings(synced_store, publish_boka_vard=True)
    client = client_for(synced_store)
    manifest = client.get("/$bulk-publish").json()
    assert [o["type"] for o in manifest["output"]] == ["Location", "Schedule", "Slot"]
    files = {}
    for output in manifest["output"]:
        path = output["url"].split("://", 1)[1].split("/", 1)[1]
        files[output["type"]] = ndjson(client, "/" + path)
        for resource in files[output["type"]]:
            assert resource["resourceType"] == output["type"]
            get_fhir_model_class(output["type"]).model_validate(resource)
    assert files["Location"] and files["Schedule"] and files["Slot"]
    schedules = {f"Schedule/{s['id']}" for s in files["Schedule"]}
    locations = {f"Location/{loc['id']}" for loc in files["Location"]}
    for slot in files["Slot"]:
        assert slot["schedule"]["reference"] in schedules and slot["status"] == "free"
        assert slot["extension"][0]["url"] == DEEP_LINK
    for schedule in files["Schedule"]:
        assert any(a["reference"] in locations for a in schedule["actor"])


def test_another_host_sees_nothing(synced_store: Engine):
    change_settings(synced_store, publish_boka_vard=True)
    other = client_for(synced_store, host="annan.opus.test")
    assert other.get("/$bulk-publish").status_code == 404


def test_another_tenant_sees_only_its_own(tmp_path: Path, synced_store: Engine, start_day: date):
    add_second_tenant(tmp_path, synced_store, start_day)
    change_settings(synced_store, publish_boka_vard=True)
    change_settings(synced_store, OTHER_SUBDOMAIN, publish_boka_vard=True)
    with session_scope(synced_store) as session:
        ids = {name: id_ for name, id_ in session.execute(select(Tenant.subdomain, Tenant.id))}
    demo, other = client_for(synced_store), client_for(synced_store, host=OTHER_HOST)
    for kind in ("Location", "Slot"):
        own = {r["id"] for r in ndjson(demo, f"/bulk-publish/{kind}.ndjson")}
        theirs = {r["id"] for r in ndjson(other, f"/bulk-publish/{kind}.ndjson")}
        assert own and theirs
        assert all(i.startswith(f"t{ids[DEMO_SUBDOMAIN]}-") for i in own)
        assert all(i.startswith(f"t{ids[OTHER_SUBDOMAIN]}-") for i in theirs)
        assert not own & theirs
