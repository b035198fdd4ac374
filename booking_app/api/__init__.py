"""The Opus-compatible public API (booking subset) under ``/api/public/v1``, and its
page of examples for clinics' websites at the prefix itself."""

from fastapi import APIRouter

from booking_app.api import examples, routes

router = APIRouter()
router.include_router(examples.router)  # before the API's catch-all
router.include_router(routes.router)

__all__ = ["router"]
