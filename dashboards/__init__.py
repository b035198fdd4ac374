"""The analysts' statistics pages, mounted into the booking app under ``/admin``.

They live under the operator pages' path, on the admin host only (see
:mod:`booking_app.origins`), so that the operator login and its per-tenant grants decide
who sees what; see :mod:`dashboards.access`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
STATIC_PATH = "/statistik-filer"


def install(app: FastAPI) -> None:
    """The routes and the chart library's files. Call before the operator pages: their
    ``/admin/{tenant_id}/{tab}`` would otherwise take ``statistik``."""
    from dashboards import pages

    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="dashboards-static")
    app.include_router(pages.router)
