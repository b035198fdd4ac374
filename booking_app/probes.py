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
    """Readiness, for a load balancer: 503 until every tenant's free times are in memory
    (a process just started answers them from the store, much more slowly, meanwhile)."""
    ready = request.app.state.availability.ready
    return JSONResponse({"status": "ready" if ready else "loading"}, 200 if ready else 503)
