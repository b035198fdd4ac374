"""The routers that turn away requests outside their paths (booking_app.routing): they
must still serve every path of theirs, and hold no route outside their prefix (which
they would hide)."""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from booking_app.api import router as api_router
from booking_app.booking import router as booking_router
from booking_app.routing import PrefixRouter
from demo.store_seed import DEMO_API_KEY


def _paths(router, prefix: str = "") -> list[str]:
    """Every route path of ``router``, with the prefixes of the routers it includes."""
    paths = []
    for route in router.routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # an included router
            paths += _paths(original, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            paths.append(prefix + route.path)
    return paths


def test_every_route_of_a_prefix_router_is_under_its_prefix() -> None:
    for router in (api_router, booking_router):
        assert isinstance(router, PrefixRouter)
        paths = _paths(router)
        assert len(paths) > 5
        outside = [p for p in paths if not p.startswith(router.path_prefix)]
        assert outside == [], f"{outside} would never be reached"


def test_a_path_outside_the_prefix_reaches_the_next_router_and_inside_its_own(
    client: TestClient,
) -> None:
    # /boka passes the API's router by; the API still answers its own paths, its
    # catch-all included (a JSON 404, not the site's page).
    assert client.get("/boka").status_code == 200
    times = client.get("/api/public/v1/clinics", headers={"apiKey": DEMO_API_KEY})
    assert times.status_code == 200 and isinstance(times.json(), list)
    unknown = client.get("/api/public/v1/no-such-thing", headers={"apiKey": DEMO_API_KEY})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/json")
    # Near misses of a prefix are not taken for it.
    assert client.get("/bokaX").status_code == 404
    assert client.get("/api/public/v1x/clinics").status_code == 404
