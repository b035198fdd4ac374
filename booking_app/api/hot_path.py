"""The availability questions, most of the API's requests, answered without FastAPI's
routing and dependency injection when their tenant's free times are in memory.

Such an answer is a few hundred microseconds of work; FastAPI's router (which
matches a request twice, through every included router) and its dependency solver
cost about a third more on top. :class:`AvailabilityHotPath` sits just outside the
router, inside every other middleware (request id, metrics, security headers, hosts,
CORS): it calls the same route functions with the same :class:`~booking_app.api.deps.Api`
and turns their errors into the same answers (the API's JSON; a renamed tenant's
redirect), so an answer does not depend on the way it took. Anything else (another
path or method, a host whose snapshot is not in memory) goes the whole way, unchanged.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from booking_app.api.deps import api_for
from booking_app.api.errors import ApiError, error_response
from booking_app.tenancy import SubdomainMoved, moved_response


class AvailabilityHotPath:
    def __init__(self, app: ASGIApp, routes: list[APIRoute]) -> None:
        self.app = app
        self.routes = {route.path: route for route in routes}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        state = request.app.state
        in_memory = state.availability.for_host(
            request.headers.get("host"), state.settings.base_domain
        )
        if in_memory is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # as the router sets it: the metrics' route family
        try:
            response = await route.endpoint(api_for(request, in_memory))
        except ApiError as error:
            response = error_response(request, error)
        except SubdomainMoved as moved:
            # Renamed since the snapshot's last poll, asked about a time the snapshot
            # does not hold (the store answers): the redirect the app's handler gives.
            response = moved_response(request, moved)
        await response(scope, receive, send)
