"""SMART Scheduling Links bulk publication: manifest and NDJSON, per tenant by host."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import Engine

from connectors.marketplace.resources import DEEP_LINK
from tests.booking_app.booking_pages import change_settings, client_for


def ndjson(client: TestClient, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def test_not_served_while_the_setting_is_off(client: TestClient):
    assert client.get("/$bulk-publish").status_code == 404
    assert client.get("/bulk-publish/Slot.ndjson").status_code == 404


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
