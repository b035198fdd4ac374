"""The Opus-compatible public API (booking subset) under ``/api/public/v1``."""

from booking_app.api.routes import router

__all__ = ["router"]
