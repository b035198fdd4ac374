"""Liveness and readiness, for the demo runner and load balancers, on any host.
Matched before every other route: probes come often and must stay cheap."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness for the demo runner, on any host; it does not touch the store, so a
    busy store does not make the process look dead."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness, for a load balancer: 503 until every tenant's free times have been read
    once (a process just started answers them from the store, much more slowly,
    meanwhile). A tenant whose snapshot failed to load is answered from the store: the
    process can still answer it, so it stays ready (200) and names the tenant as
    degraded, for the operators to look at."""
    availability = request.app.state.availability
    if not availability.ready:
        return JSONResponse({"status": "loading"}, 503)
    degraded = sorted(availability.degraded)
    if degraded:
        return JSONResponse({"status": "degraded", "degraded_tenants": degraded}, 200)
    return JSONResponse({"status": "ready"}, 200)
