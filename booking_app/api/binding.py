"""Reading requests the way the original Opus server (ASP.NET Web API) does, so that
its clients work unchanged:

- query names match without regard to case, with or without the ``request.`` prefix
  (``TreatmentID=5`` binds ``request.treatmentID``); an empty value is no value;
- JSON property names match without regard to case (Json.NET does), unknown ones are
  ignored, and ids may come as numbers or as strings (``"ClinicianID": "12"``);
- date-times may come without an offset; they are then clinic time (Europe/Stockholm);
- bodies may be JSON or form data (``Patient.FirstName=...``), and are size-limited.

Date-times go out as Stockholm time with its offset (``2026-03-02T09:30:00+01:00``):
readable as clinic time by clients that drop the offset, exact for those that keep it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, ClassVar, Self, TypeVar
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import Request
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from booking_app.api.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

STOCKHOLM = ZoneInfo("Europe/Stockholm")
M = TypeVar("M", bound=BaseModel)
INT32_MAX = 2**31 - 1
MAX_BODY_BYTES = 16 * 1024
"""A booking is well under 2 KB; anything near this limit is not a booking."""
MAX_FORM_FIELDS = 100
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
"""Date-times outside these years are refused: nothing is booked there, and far-off
years would overflow date arithmetic further down."""
DATETIME_YEARS = "^ *(20[0-9]{2}|2100)-"
"""The OpenAPI document's pattern for a date-time in those years (ISO 8601 is read
with leading spaces stripped)."""
NO_CONTROL_CHARACTERS = r"^[^\u0000-\u001f\u007f]*$"
"""The OpenAPI pattern of an id or name that is looked up: no control characters."""
_NOT_SPACE = r"[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""Any character but a control character or what ``str.strip`` takes for a space."""
NON_BLANK_ID = r"^[^\u0000-\u001f\u007f]*" + _NOT_SPACE + r"[^\u0000-\u001f\u007f]*$"
"""The same for a required one: also not blank (a blank value is no value)."""
TEXT_WITHOUT_CONTROL_CHARACTERS = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"
"""The OpenAPI pattern of patient text: tabs and line breaks, no other control character."""
NON_BLANK_TEXT = (
    r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*"
    + _NOT_SPACE
    + r"[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"
)
"""The same for required text: not blank."""


# -- date-times ---------------------------------------------------------------------------


def parse_datetime(value: object) -> datetime:
    """An ISO 8601 date-time (or date) as an aware UTC datetime. Without an offset it is
    Stockholm time; of a wall time that occurs twice (autumn), the first is meant."""
    if isinstance(value, datetime):
        return _in_utc(value)
    if isinstance(value, str) and len(value) <= 40:
        return _parsed_text(value)
    raise PydanticCustomError("datetime_format", "not a date-time")


@lru_cache(maxsize=4096)  # clients ask about the same few days (today, two weeks on)
def _parsed_text(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PydanticCustomError("datetime_format", "not a date-time") from None
    return _in_utc(moment)


def _in_utc(moment: datetime) -> datetime:
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise PydanticCustomError("datetime_range", "date-time out of range")
    if moment.tzinfo is None:
        local = moment.replace(tzinfo=STOCKHOLM)
        # A spring-forward wall time (02:30 on the last Sunday of March) does not exist;
        # zoneinfo would quietly move it, so refuse it instead.
        if local.astimezone(UTC).astimezone(STOCKHOLM).replace(tzinfo=None) != moment:
            raise PydanticCustomError("datetime_nonexistent", "no such local time")
        moment = local
    return moment.astimezone(UTC)


@lru_cache(maxsize=65536)  # free times fall on a grid: the same moments come back
def format_datetime(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).isoformat(timespec="seconds")


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _no_control_characters(value: object) -> object:
    if isinstance(value, str) and any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PydanticCustomError("field_control_characters", "control characters")
    return value


DateTimeField = Annotated[
    datetime,
    BeforeValidator(parse_datetime),
    PlainSerializer(format_datetime, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "Out: Stockholm time with offset. In: with an offset, or "
            "without one as Stockholm time.",
            "example": "2026-03-02T09:30:00+01:00",
            # Years EARLIEST_YEAR to LATEST_YEAR only (a generated client can check it).
            "pattern": DATETIME_YEARS,
        }
    ),
]
Int32 = Annotated[
    int,
    Field(ge=0, le=INT32_MAX),
    WithJsonSchema({"type": "integer", "format": "int32", "minimum": 0, "maximum": INT32_MAX}),
]
OptionalInt32 = Annotated[Int32 | None, BeforeValidator(_blank_to_none)]
OptionalDateTime = Annotated[DateTimeField | None, BeforeValidator(_blank_to_none)]
OpusIdText = Annotated[
    str,
    BeforeValidator(_no_control_characters),
    Field(max_length=50, json_schema_extra={"pattern": NO_CONTROL_CHARACTERS}),
]
"""An id or name that is looked up (clinic id, group name): short, no control characters
(PostgreSQL refuses a NUL in a query parameter, which would otherwise be a 500)."""
OptionalOpusIdText = Annotated[OpusIdText | None, BeforeValidator(_blank_to_none)]


def _no_control_characters_in_text(value: object) -> object:
    if isinstance(value, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise PydanticCustomError("field_control_characters", "control characters")
    return value


FreeText = (
    Annotated[
        str,
        BeforeValidator(_no_control_characters_in_text),
        Field(max_length=2000, json_schema_extra={"pattern": TEXT_WITHOUT_CONTROL_CHARACTERS}),
    ]
    | None
)
"""Patient text; its own limits and checks are validations.patient's, with their
messages. This only keeps a giant value, or a NUL (which PostgreSQL cannot store, and
the e-mail check lets through), from reaching them."""


# -- models ------------------------------------------------------------------------------


def _keys_ignoring_case(model: type[BaseModel], data: object) -> object:
    """``data`` with its keys renamed to the model's aliases, matched without regard to
    case; an exact match wins over a case-insensitive one, and unknown keys go."""
    if not isinstance(data, dict):
        return data
    targets: dict[str, str] = {}
    for name, field in model.model_fields.items():
        alias = field.alias or name
        targets.setdefault(alias.casefold(), alias)
        targets.setdefault(name.casefold(), alias)
    matched: dict[str, Any] = {}
    exact = [k for k in data if isinstance(k, str) and targets.get(k.casefold()) == k]
    for key in (*exact, *data):
        target = targets.get(key.casefold()) if isinstance(key, str) else None
        if target is not None and target not in matched:
            matched[target] = data[key]
    return matched


class OpusModel(BaseModel):
    """A DTO of the Opus API: PascalCase aliases out and in, case-insensitive in."""

    model_config = ConfigDict(
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        coerce_numbers_to_str=True,
        extra="ignore",
    )

    @model_validator(mode="before")
    @classmethod
    def _match_keys(cls, data: object) -> object:
        return _keys_ignoring_case(cls, data)


_ERROR_KEYS = {
    "missing": "field_required",
    "int_parsing": "field_integer",
    "int_type": "field_integer",
    "int_from_float": "field_integer",
    "greater_than_equal": "field_integer_range",
    "less_than_equal": "field_integer_range",
    "bool_parsing": "field_boolean",
    "bool_type": "field_boolean",
    "string_type": "field_text",
    "string_too_long": "field_too_long",
    "model_type": "field_object",
    "model_attributes_type": "field_object",
    "dict_type": "field_object",
    "datetime_format": "datetime_format",
    "datetime_range": "datetime_range",
    "datetime_nonexistent": "datetime_nonexistent",
    "field_control_characters": "field_control_characters",
}


def field_errors(error: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    """Pydantic's errors as ``ModelState``: field path → message keys. The message is
    ours, never pydantic's, which would repeat the input."""
    fields: dict[str, list[str]] = {}
    for item in error.errors(include_input=False, include_url=False):
        path = ".".join(str(part) for part in item["loc"] if isinstance(part, str | int))
        key = _ERROR_KEYS.get(item["type"], "field_invalid")
        keys = fields.setdefault(prefix + path if path else prefix.rstrip(".") or "body", [])
        if key not in keys:
            keys.append(key)
    return fields


def parse_dto(model: type[M], data: dict[str, Any], prefix: str = "") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise BadRequest("invalid_request", fields=field_errors(error, prefix)) from None


# -- query strings -----------------------------------------------------------------------

_SUPPLIED = "opus.query_supplied"
"""The request scope's key for :meth:`QueryModel.supplied`'s values, per model."""


@cache  # per model: asked on every free-time question
def _known_names(model: type[QueryModel]) -> frozenset[str]:
    return frozenset(name for _, names in _names_tried(model) for name in names)


@cache
def _names_tried(model: type[QueryModel]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each field's alias with the casefolded query names it is bound from, in the order
    tried: the documented (prefixed) name first, as ASP.NET's binder tries it first;
    "request." is accepted everywhere, since clients copy it between calls."""
    return tuple(
        (
            alias,
            tuple(
                dict.fromkeys(
                    c.casefold() for c in (model.prefix + alias, "request." + alias, alias)
                )
            ),
        )
        for alias in (field.alias or name for name, field in model.model_fields.items())
    )


class QueryModel(BaseModel):
    """A spec "Request" object bound from the query string. Field aliases are the
    documented names without ``prefix`` (``clinicID`` for ``request.clinicID``)."""

    model_config = ConfigDict(validate_by_alias=True, coerce_numbers_to_str=True, extra="ignore")
    prefix: ClassVar[str] = "request."
    documented_required: ClassVar[frozenset[str]] = frozenset()
    """Aliases the operation needs although the model lets them be absent (the check is
    the operation's, with its own message): documented as required."""

    @classmethod
    def known_names(cls) -> frozenset[str]:
        """Every query name (casefolded) that :meth:`bind` reads."""
        return _known_names(cls)

    @classmethod
    def supplied(cls, request: Request) -> dict[str, str]:
        """The query's non-blank values by casefolded name, the first of each, of the
        names :meth:`bind` reads only: what decides the bound request, and so the key
        of a remembered answer (other names must not make a new one)."""
        # Asked twice of a free-time question (its remembered answer's key, binding):
        # read once per request.
        per_request = request.scope.setdefault(_SUPPLIED, {})
        if cls in per_request:
            return per_request[cls]
        known = cls.known_names()
        supplied: dict[str, str] = {}
        for key, value in request.query_params.multi_items():
            if value.strip() and key.casefold() in known:
                supplied.setdefault(key.casefold(), value)
        per_request[cls] = supplied
        return supplied

    @classmethod
    def bind(cls, request: Request) -> Self:
        supplied = cls.supplied(request)
        data: dict[str, str] = {}
        for alias, names in _names_tried(cls):
            for name in names:
                if name in supplied:
                    data[alias] = supplied[name]
                    break
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise BadRequest("invalid_request", fields=field_errors(error, cls.prefix)) from None

    @classmethod
    def openapi(cls, unprefixed_too: bool = False) -> dict[str, Any]:
        """The documented query parameters, for a route's ``openapi_extra``; with
        ``unprefixed_too``, each also without the prefix (where the spec lists both)."""
        schema = cls.model_json_schema(by_alias=True)
        required = set(schema.get("required", ())) | cls.documented_required
        parameters = []
        for alias, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k not in ("title", "default")}
            if "anyOf" in prop:  # "X | None": document X
                prop = next(p for p in prop.pop("anyOf") if p.get("type") != "null") | prop
            if alias in required and prop.get("pattern") == NO_CONTROL_CHARACTERS:
                prop["pattern"] = NON_BLANK_ID
            names = [cls.prefix + alias] + ([alias] if unprefixed_too and cls.prefix else [])
            parameters.extend(
                {"name": name, "in": "query", "required": alias in required, "schema": prop}
                for name in names
            )
        return {"parameters": parameters}


# -- bodies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawBody:
    """A request body, read (size-limited) before the route's transaction starts and
    parsed only after the caller is known to hold a key."""

    content: bytes
    content_type: str

    def data(self) -> dict[str, Any]:
        if self.content_type == "application/x-www-form-urlencoded":
            return _form(self.content)
        if self.content_type in ("", "application/json", "text/json") or (
            self.content_type.endswith("+json")
        ):
            return _json(self.content)
        raise UnsupportedMediaType("unsupported_media_type")


async def read_body(request: Request) -> RawBody:
    """The body, refused with 413 beyond :data:`MAX_BODY_BYTES`: by its declared length
    before reading anything, and while reading for a body sent in chunks."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge("body_too_large", limit=MAX_BODY_BYTES)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise PayloadTooLarge("body_too_large", limit=MAX_BODY_BYTES)
        chunks.append(chunk)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return RawBody(b"".join(chunks), content_type)


def _json(content: bytes) -> dict[str, Any]:
    if not content.strip():
        return {}
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested thousands deep
        raise BadRequest("body_not_json") from None
    if not isinstance(data, dict):
        raise BadRequest("body_not_object")
    return data


def _form(content: bytes) -> dict[str, Any]:
    """Form fields with dotted names (``TimeSlot.Start``) as nested objects, the way
    ASP.NET binds them into a DTO."""
    try:
        pairs = parse_qsl(
            content.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("invalid_request") from None
    data: dict[str, Any] = {}
    for name, value in pairs:
        *parents, leaf = name.split(".")
        node = data
        for parent in parents:
            child = node.setdefault(parent, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node.setdefault(leaf, value)
    return data
