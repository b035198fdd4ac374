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

from booking_app.api.binding import (
    NO_CONTROL_CHARACTERS,
    NON_BLANK_ID,
    NON_BLANK_TEXT,
    TEXT_WITHOUT_CONTROL_CHARACTERS,
)
from booking_app.api.dto import PERSONAL_NUMBER, BookingDTO, ErrorDTO, RescheduleDTO, TimeSlotDTO

DESCRIPTION = """\
The booking subset of the Opus Dental public API v1, per tenant: the host name
(`<subdomain>.<base domain>`) selects the clinic chain, and an API key of that chain
is sent in the header `apiKey` (or `api_key`).

Compatible with clients of the original server: query names match in any letter case
and with or without the `request.` prefix; JSON property names match in any case; ids
may be numbers or strings; bodies may also be form data with dotted names
(`TimeSlot.Start=…`); a date-time without an offset is Swedish time
(Europe/Stockholm), and only years 2000 to 2100 are accepted. Date-times are
answered in Swedish time with their offset, e.g. `2026-03-02T09:30:00+01:00`.

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
    429: {"model": ErrorDTO, "description": "Too many reservations held by this key at once."},
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
    """``openapi_extra`` for a body bound by hand: its input schema (``…Input``, with
    what the operation requires). Form data (``TimeSlot.Start=…``, as ASP.NET binds it)
    is accepted too but not documented: its dotted names are no JSON schema, and
    generated clients send JSON."""
    schema = {"$ref": f"#/components/schemas/{model.__name__}Input"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


INPUTS: dict[str, dict[str, Any]] = {
    # schema → (required properties, {property: the input schema it refers to})
    "TimeSlotDTO": {"required": ["Start", "ClinicID", "TreatmentID"]},
    "NewTimeSlotDTO": {"copy_of": "TimeSlotDTO", "required": ["Start"]},
    "BookingDTO": {
        "required": ["Patient", "TimeSlot"],
        "refs": {"Patient": "PatientDTO", "TimeSlot": "TimeSlotDTO"},
        "max_length": {"FreeTextMessage": 500, "CampaignCode": 30},
    },
    "PatientDTO": {
        "required": ["FirstName", "LastName"],
        # validations.patient's limits, which the DTO's general 2,000 does not say
        "max_length": {
            "FirstName": 50,
            "LastName": 50,
            "Adress1": 100,
            "PostalCode": 10,
            "City": 50,
        },
    },
    "RescheduleDTO": {
        "required": ["OriginalBookingId", "NewTime"],
        "refs": {"NewTime": "NewTimeSlotDTO", "PatientToReschedule": "PatientDTO"},
    },
}
"""The request bodies' schemas (``<name>Input``): the shared DTO schemas, with the
properties each operation checks for marked required. The answers keep the DTOs'
own schemas, where everything may be null."""

PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "ReservationId": {
        "type": "string",
        "pattern": "^[0-9]{1,10}$",
        "description": "The reservation id from PUT /reservations (or the literal "
        "{ReservationId} with request.reservationId in the query).",
    },
    "patientPersonalIdentification": PERSONAL_NUMBER,
    "id": {"type": "string", "maxLength": 50, "pattern": NO_CONTROL_CHARACTERS},
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
            for parameter in operation.get("parameters", ()):
                if parameter["in"] == "path" and parameter["name"] in PATH_PARAMETERS:
                    parameter["schema"] = {"type": "string", **PATH_PARAMETERS[parameter["name"]]}
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
    for name, rules in INPUTS.items():
        schemas[f"{name}Input"] = _input(schemas[rules.get("copy_of", name)], rules)
    document["components"]["securitySchemes"] = {
        "apiKey": {"type": "apiKey", "in": "header", "name": "apiKey"}
    }
    document["security"] = [{"apiKey": []}]
    return document


def _input(schema: dict[str, Any], rules: dict[str, Any]) -> dict[str, Any]:
    """A body schema's input variant: ``rules["required"]`` required (and not null),
    and the properties in ``rules["refs"]`` pointing at their own input variants."""
    properties = {name: dict(value) for name, value in schema["properties"].items()}
    for name in rules["required"]:
        properties[name] = _not_null(properties[name])
    for name, most in rules.get("max_length", {}).items():
        properties[name] = _with(properties[name], maxLength=most)
    for name, target in rules.get("refs", {}).items():
        ref = {"$ref": f"#/components/schemas/{target}Input"}
        described = {k: v for k, v in properties[name].items() if k == "description"}
        properties[name] = (
            {**ref, **described}
            if name in rules["required"]
            else {
                "anyOf": [ref, {"type": "null"}],
                **described,
            }
        )
    variant = {**schema, "properties": properties, "required": list(rules["required"])}
    variant["title"] = f"{schema.get('title', '')} (input)".strip()
    return variant


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` as ``X``, keeping the property's own keywords; a required text is
    not blank either (blank counts as absent)."""
    if "anyOf" in prop:
        rest = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
        choices = [p for p in prop["anyOf"] if p.get("type") != "null"]
        prop = (choices[0] | rest) if len(choices) == 1 else {"anyOf": choices, **rest}
    if prop.get("type") == "string" and prop.get("pattern") == NO_CONTROL_CHARACTERS:
        prop = {**prop, "pattern": NON_BLANK_ID}
    elif prop.get("type") == "string" and prop.get("pattern") == TEXT_WITHOUT_CONTROL_CHARACTERS:
        prop = {**prop, "pattern": NON_BLANK_TEXT}
    return prop


def _with(prop: dict[str, Any], **keywords: Any) -> dict[str, Any]:
    """``keywords`` on the string choice of a property (``X | None`` or ``X``)."""
    if "anyOf" in prop:
        choices = [p | keywords if p.get("type") == "string" else p for p in prop["anyOf"]]
        return {**prop, "anyOf": choices}
    return prop | keywords
