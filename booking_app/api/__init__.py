"""The Opus-compatible public API (booking subset) under ``/api/public/v1``, and its
page of examples for clinics' websites at the prefix itself."""

from booking_app.api import examples, routes
from booking_app.api.routes import PREFIX
from booking_app.routing import PrefixRouter

router = PrefixRouter(PREFIX)  # the site's requests pass the API by in one comparison
router.include_router(examples.router)  # before the API's catch-all
router.include_router(routes.router)

__all__ = ["router"]
