"""The API's own OpenAPI document (JSON), served at ``/api/public/v1/swagger.json`` and
``/openapi.json``. The app's Swagger UI stays off (it loads from a CDN); the document
is enough for client generators and for reading.

Query parameters and bodies are bound by hand (binding.py), so FastAPI cannot see
them; routes declare them through ``openapi_extra``, from the same models that bind
them, and the body models' schemas are added here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.routing import BaseRoute

from booking_app.api.dto import BookingDTO, ErrorDTO, RescheduleDTO, TimeSlotDTO

DESCRIPTION = """\
The booking subset of the Opus Dental public API v1, per tenant: the host name
(`<subdomain>.<base domain>`) selects the clinic chain, and an API key of that chain
is sent in the header `apiKey` (or `api_key`).

Compatible with clients of the original server: query names match in any letter case
and with or without the `request.` prefix; JSON property names match in any case; ids
may be numbers or strings; a date-time without an offset is Swedish time
(Europe/Stockholm). Date-times are answered in Swedish time with their offset,
e.g. `2026-03-02T09:30:00+01:00`.

Errors are JSON: `{"Message": "..."}`, with `ModelState` (field → messages) on 400 and
`NearestFreeTimes` on 409. Messages are Swedish, English with `Accept-Language: en`.
Reservation and booking ids are only valid within the tenant that made them.

A patient's bookings (reschedule, cancel, list) follow the clinic's online rules and
are found only with the patient's own personal number: another patient's booking id
is 404. Personal numbers in paths and query strings are masked in the access log.
"""

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDTO, "description": "Invalid input; ModelState names the fields."},
    401: {"model": ErrorDTO, "description": "No API key, or not a key of this tenant."},
    404: {"model": ErrorDTO, "description": "Unknown tenant, id or path."},
}
DELETE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    409: {"model": ErrorDTO, "description": "Already booked: cancel the booking instead."},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {"model": ErrorDTO, "description": "The clinic does not take new bookings online."},
    409: {"model": ErrorDTO, "description": "The time is taken; NearestFreeTimes lists others."},
    413: {"model": ErrorDTO, "description": "The body is too large."},
    415: {"model": ErrorDTO, "description": "The body is neither JSON nor form data."},
    503: {"model": ErrorDTO, "description": "Maintenance (Retry-After)."},
}

CHANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {
        "model": ErrorDTO,
        "description": "A rule of the clinic refuses the change; Reason names it "
        "(CancelDisabled, ChangeDisabled, CancelNotAllowedForTreatment, "
        "ChangeNotAllowedForTreatment, PastCutOff), with CutOff and ClinicPhone.",
    },
    409: {
        "model": ErrorDTO,
        "description": "The booking is no longer active (Reason NotActive), or the new "
        "time is taken (NearestFreeTimes lists others).",
    },
    503: {"model": ErrorDTO, "description": "Maintenance (Retry-After)."},
}
LIST_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {"model": ErrorDTO, "description": "The clinic does not show bookings online."},
    503: {"model": ErrorDTO, "description": "Maintenance (Retry-After)."},
}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a body bound by hand."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


_built: dict[int, dict[str, Any]] = {}


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The document for ``routes``, built once: routes do not change after startup."""
    key = id(routes)
    if key not in _built:
        _built[key] = _build(routes)
    return _built[key]


def _build(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    document = get_openapi(
        title="Opus Online public API",
        version="v1",
        description=DESCRIPTION,
        routes=list(routes),
        separate_input_output_schemas=False,
    )
    # FastAPI documents a 422 for path parameters; this API answers 400 instead.
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for model in (TimeSlotDTO, BookingDTO, RescheduleDTO):
        schema = model.model_json_schema(
            by_alias=True, ref_template="#/components/schemas/{model}", mode="validation"
        )
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "apiKey"}
    }
    document["security"] = [{"apiKey": []}]
    return document
