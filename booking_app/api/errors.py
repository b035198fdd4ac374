"""The API's errors: JSON ``{"Message": "..."}`` with the right status, never an HTML
page and never a 500 for something the client sent.

The body follows ASP.NET Web API, which clients of the original server already parse:
``Message``, and for invalid fields ``ModelState`` (field name → messages). A 409 adds
``NearestFreeTimes``. Errors are raised as :class:`ApiError` anywhere below a route and
turned into responses by :class:`ApiRoute`, which this router uses for every route:
the app's own handlers (HTML error pages for patients) stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from booking_app.api.messages import language, text

RETRY_AFTER_SECONDS = 600
"""Maintenance has no announced end; the patient pages ask for the same pause."""


class ApiError(Exception):
    """An answer other than 200. ``key`` names the message; ``fields`` maps a field
    (as the client named it, e.g. ``Patient.Email``) to message keys."""

    status_code = 400

    def __init__(
        self,
        key: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        **params: object,
    ) -> None:
        super().__init__(key)
        self.key = key
        self.fields = fields or {}
        self.headers = headers
        self.extra = extra or {}
        self.params = params


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, key: str) -> None:
        super().__init__(key, headers={"WWW-Authenticate": 'ApiKey header="apiKey"'})


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class MethodNotAllowed(ApiError):
    status_code = 405


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


class TooManyRequests(ApiError):
    """A limit on the client (its API key) is reached: nothing was done."""

    status_code = 429


class UnsupportedMediaType(ApiError):
    status_code = 415


class Unavailable(ApiError):
    status_code = 503

    def __init__(self, key: str) -> None:
        super().__init__(key, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class FieldErrors:
    """Collects every invalid field of a request, so the client learns them all at
    once instead of one per round trip."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, key: str) -> None:
        self.fields.setdefault(field, []).append(key)

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise BadRequest("invalid_request", fields=self.fields)


def request_language(request: Request) -> str:
    return language(request.headers.get("accept-language"))


def error_response(request: Request, error: ApiError) -> JSONResponse:
    lang = request_language(request)
    body: dict[str, Any] = {"Message": text(error.key, lang, **error.params)}
    if error.fields:
        body["ModelState"] = {
            field: [text(key, lang) for key in keys] for field, keys in error.fields.items()
        }
    body.update(error.extra)
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


class ApiRoute(APIRoute):
    """Routes of the public API: their errors are JSON, whatever raised them (the
    route, a dependency, FastAPI's own parameter validation)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def api_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return error_response(request, error)
            except RequestValidationError:
                # Parameters are bound by hand (binding.py); this is a safety net.
                return error_response(request, BadRequest("invalid_request"))

        return api_handler
