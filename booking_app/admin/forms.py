"""The operator tabs' fields and their rules: read a posted form into values for
the store, or into message keys saying what is wrong. No I/O here but the subdomain's
uniqueness, which only the store can answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking_app.theme import readable_on
from connectors.store.models import STEPS, SubdomainRedirect, Tenant
from validations import patient as patient_rules
from validations.patient import Invalid

FLEX_BOOLEANS: tuple[str, ...] = (
    # Allmänna inställningar, in the manual's order
    "view_bookings_enabled",
    "login_enabled",
    "cancel_enabled",
    "change_enabled",
    "new_booking_enabled",
    "new_booking_requires_login",
    "weekend_booking_enabled",
    "code_challenge_enabled",
    "maintenance_mode",
    "publish_boka_vard",
    "publish_opus_online",
    "user_message_enabled",
    "any_practitioner_option",
    "any_clinic_option",
    "skip_confirmation",
)
"""Each is labelled by the message ``admin_flex_<name>``."""
FLEX_OTHER_BOOLEANS = ("ask_address", "campaign_code_enabled", "combined_view")
STEP_FIELDS = ("first_step", "second_step", "third_step", "fourth_step")
CUTOFF_RANGE = (0, 720)  # hours; the store's check constraint
MONTHS_RANGE = (1, 24)

MAX_TEXT_CHARS = 5000
MAX_SCRIPT_CHARS = 10000
MAX_GROUP_CHARS = 100

RESERVED_SUBDOMAINS = frozenset(
    {
        "admin", "api", "app", "assets", "auth", "blog", "cdn", "dev", "docs", "ftp",
        "help", "imap", "login", "mail", "ns1", "ns2", "pop", "smtp", "static", "status",
        "support", "test", "webmail", "www",
    }
)  # fmt: skip
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HEX = re.compile(r"#[0-9A-Fa-f]{6}")


@dataclass
class Parsed:
    """Values for the store, or the message keys of what is wrong (then nothing is
    saved)."""

    values: dict[str, object] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


_WHOLE = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() takes '²' too


def whole_number(raw: str, bounds: tuple[int, int]) -> int | None:
    """``raw`` as a whole number within ``bounds``; None for anything else (a sign,
    a superscript digit, a number too long for any of our fields)."""
    raw = raw.strip()
    if not _WHOLE.fullmatch(raw) or not bounds[0] <= int(raw) <= bounds[1]:
        return None
    return int(raw)


def parse_whole_number(
    form: dict[str, str], name: str, bounds: tuple[int, int], parsed: Parsed
) -> None:
    """The field ``name`` into ``parsed``: its value, or its error key."""
    number = whole_number(form.get(name, ""), bounds)
    if number is None:
        parsed.errors.append(f"admin_error_{name}")
    else:
        parsed.values[name] = number


def parse_flexibility(form: dict[str, str]) -> Parsed:
    parsed = Parsed()
    # A checkbox that is not ticked is simply absent from the form.
    for name in (*FLEX_BOOLEANS, *FLEX_OTHER_BOOLEANS):
        parsed.values[name] = form.get(name) == "on"
    steps = [form.get(name, "") for name in STEP_FIELDS]
    if sorted(steps) != sorted(STEPS):
        parsed.errors.append("admin_error_steps")
    else:
        parsed.values.update(zip(STEP_FIELDS, steps, strict=True))
    parse_whole_number(form, "change_cutoff_hours", CUTOFF_RANGE, parsed)
    parse_whole_number(form, "months_to_sync", MONTHS_RANGE, parsed)
    return parsed


CODE_CAP_RANGE = (1, 10000)  # codes an hour for the whole chain


def parse_sms_limits(form: dict[str, str]) -> Parsed:
    """The tenant's allowed SMS country codes (stored "46,47") and its hourly cap on
    code messages (see :mod:`connectors.store.client_limits`)."""
    parsed = Parsed()
    try:
        codes = patient_rules.country_codes(form.get("sms_country_codes", ""))
    except Invalid as invalid:
        parsed.errors.append(f"admin_error_{invalid.key}")
    else:
        stored = ",".join(str(code) for code in codes)
        if len(stored) > 64:  # the column's width: some 16 countries
            parsed.errors.append("admin_error_sms_country_codes_format")
        else:
            parsed.values["sms_country_codes"] = stored
    parse_whole_number(form, "code_messages_per_hour", CODE_CAP_RANGE, parsed)
    return parsed


def shown_country_codes(stored: str) -> str:
    """ "46,47" as an operator writes it: "+46, +47"."""
    return ", ".join(f"+{code}" for code in stored.split(",") if code)


def subdomain_problem(
    session: Session, value: str, tenant_id: int, now: datetime | None = None
) -> str | None:
    """The message key of what is wrong with ``value`` (already lower-cased) as the
    tenant's subdomain, ``None`` when it is free (or already the tenant's own). With
    ``now``, another tenant's former name is taken while it still redirects."""
    if not value:
        return "admin_subdomain_empty"
    if len(value) > 63 or not _LABEL.fullmatch(value):
        return "admin_subdomain_invalid"
    if value in RESERVED_SUBDOMAINS:
        return "admin_subdomain_reserved"
    owner = session.scalars(
        select(Tenant.id).where(func.lower(Tenant.subdomain) == value)
    ).one_or_none()
    if owner is not None and owner != tenant_id:
        return "admin_subdomain_taken"
    if now is not None:
        redirect = session.get(SubdomainRedirect, value)
        if redirect is not None and redirect.tenant_id != tenant_id and redirect.expires_at > now:
            return "admin_subdomain_taken"
    return None


def normalise_subdomain(value: str) -> str:
    """Operators type "Tandvard" or " tandvard "; the name is one lower-case label."""
    return value.strip().lower()


def _luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#RRGGBB`` colours, 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


AA_TEXT = 4.5  # WCAG 1.4.3, normal text
AA_NON_TEXT = 3.0  # WCAG 1.4.11, borders of buttons and fields


def colour_problems(primary: str, accent: str) -> list[str]:
    """The site draws the primary colour as button and field borders on the white
    page, and text in black or white on both colours (see booking_app.theme)."""
    problems = []
    if contrast_ratio(primary, "#FFFFFF") < AA_NON_TEXT:
        problems.append("admin_error_primary_contrast")
    for colour in (primary, accent):
        if contrast_ratio(colour, readable_on(colour)) < AA_TEXT:
            problems.append("admin_error_text_contrast")
            break
    return problems


def _text(form: dict[str, str], name: str, limit: int, parsed: Parsed) -> str | None:
    # Browsers send textarea line breaks as CRLF; the store keeps LF.
    value = form.get(name, "").replace("\r\n", "\n").strip()
    if len(value) > limit:
        parsed.errors.append("admin_error_too_long")
    return value or None


def parse_media(
    form: dict[str, str], clinic_ids: list[int]
) -> tuple[Parsed, dict[int, str | None]]:
    """The tenant's texts and colours, and each clinic's own text by clinic id."""
    parsed = Parsed()
    for name in ("welcome_text", "patient_info_text", "default_clinic_text"):
        parsed.values[name] = _text(form, name, MAX_TEXT_CHARS, parsed)
    colours = {}
    for name in ("color_primary", "color_accent"):
        value = form.get(name, "").strip()
        if not _HEX.fullmatch(value):
            parsed.errors.append("admin_error_colour")
        colours[name] = value.upper()
    if not parsed.errors:
        parsed.errors.extend(colour_problems(colours["color_primary"], colours["color_accent"]))
    parsed.values.update(colours)
    clinic_texts = {
        cid: _text(form, f"clinic_text_{cid}", MAX_TEXT_CHARS, parsed) for cid in clinic_ids
    }
    return parsed, clinic_texts


def parse_script(form: dict[str, str]) -> Parsed:
    parsed = Parsed()
    parsed.values["analytics_script"] = _text(form, "analytics_script", MAX_SCRIPT_CHARS, parsed)
    return parsed


def parse_order(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and int(raw) < 10000 else None
