"""SMART Scheduling Links bulk publication of a tenant's free times, for aggregators
that poll: ``GET /$bulk-publish`` (the manifest) and NDJSON files of Location,
Schedule and Slot. Public and read-only; the tenant comes from the Host header, as
everywhere on the site. Served only while *Publicera på "Boka vård"* is on: that
setting is the clinic's consent to being listed by others. Each Slot carries a deep
link to the tenant's booking page.
"""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from booking_app.deps import NowDep, SessionDep, SettingsDep, TenantDep
from connectors.marketplace.resources import build, id_reference
from connectors.store.marketplace import catalogue

router = APIRouter()
PUBLISHED = ("Location", "Schedule", "Slot")
NDJSON = "application/fhir+ndjson"


def _published(tenant: TenantDep) -> None:
    if tenant.settings is None or not tenant.settings.publish_boka_vard:
        raise HTTPException(status_code=404)


@router.get("/$bulk-publish")
def manifest(request: Request, tenant: TenantDep, now: NowDep) -> JSONResponse:
    _published(tenant)
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "transactionTime": now.isoformat(timespec="seconds"),
            "request": f"{base}/$bulk-publish",
            "output": [
                {"type": kind, "url": f"{base}/bulk-publish/{kind}.ndjson"} for kind in PUBLISHED
            ],
            "error": [],
        },
        headers={"Cache-Control": "max-age=300"},
    )


@router.get("/bulk-publish/{kind}.ndjson")
def resources(
    kind: str,
    request: Request,
    tenant: TenantDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    _published(tenant)
    if kind not in PUBLISHED:
        raise HTTPException(status_code=404)
    horizon = timedelta(days=settings.marketplace_horizon_days)
    offer = catalogue(session, tenant.id, now, horizon, with_slots=kind == "Slot")
    booking_url = str(request.base_url)
    lines = [
        json.dumps(b.resource, ensure_ascii=False)
        for b in build(offer, link=id_reference, with_ids=True, booking_url=booking_url)
        if b.key[0] == kind
    ]
    body = "".join(line + "\n" for line in lines)
    return Response(body, media_type=NDJSON, headers={"Cache-Control": "max-age=300"})
