"""Liveness and readiness, for the demo runner and load balancers, on any host.
Matched before every other route: probes come often and must stay cheap."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness for the demo runner, on any host; it does not touch the store, so a
    busy store does not make the process look dead."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Readiness, for a load balancer: "this process can answer". 503 while the store
    cannot be reached (one round trip), and while the snapshots of the tenants to read
    ahead (``snapshot_preload``) are first read; every other tenant's is read when it is
    first asked about, and answered from the store meanwhile, so a process is ready
    long before every tenant in the country is in its memory. A tenant whose snapshot
    failed to load is answered from the store: the process can still answer it, so it
    stays ready (200) and names the tenant as degraded, for the operators to look at."""
    availability = request.app.state.availability
    if not await run_in_threadpool(availability.store_reachable):
        return JSONResponse({"status": "store_unreachable"}, 503)
    if not availability.ready:
        return JSONResponse({"status": "loading"}, 503)
    degraded = sorted(availability.degraded)
    if degraded:
        return JSONResponse({"status": "degraded", "degraded_tenants": degraded}, 200)
    return JSONResponse({"status": "ready"}, 200)
