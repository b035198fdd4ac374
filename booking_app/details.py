"""Step 5, *Dina uppgifter*: which fields the tenant asks for, and judging them.

Each field is judged on the server by :mod:`validations.patient`; an error is a
message key per field, shown next to the field and linked to it with
``aria-describedby``. What the patient typed is shown again as typed (escaped by the
templates), never stored until every field is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from connectors.store.models import Booking, TenantSettings
from validations import patient
from validations.patient import Invalid

MESSAGE_MAX = 500  # Booking.message
CAMPAIGN_CODE_MAX = 30  # Booking.campaign_code
_POSTAL_CODE = re.compile(r"[0-9]{3} ?[0-9]{2}")


@dataclass(frozen=True)
class Field:
    name: str
    label_key: str
    input_type: str = "text"
    autocomplete: str | None = None
    required: bool = True
    max_length: int | None = None
    hint_key: str | None = None
    multiline: bool = False
    inputmode: str | None = None


PERSONAL_NUMBER = Field(
    "personal_number",
    "field_personal_number",
    max_length=13,
    hint_key="hint_personal_number",
    inputmode="numeric",
)
NAME_FIELDS = (
    Field("first_name", "field_first_name", autocomplete="given-name", max_length=50),
    Field("last_name", "field_last_name", autocomplete="family-name", max_length=50),
)
CONTACT_FIELDS = (
    Field(
        "mobile",
        "field_mobile",
        input_type="tel",
        autocomplete="tel",
        max_length=20,
        hint_key="hint_mobile",
    ),
    Field("email", "field_email", input_type="email", autocomplete="email", max_length=254),
)
ADDRESS_FIELDS = (
    Field("address1", "field_address", autocomplete="street-address", max_length=100),
    Field(
        "postal_code",
        "field_postal_code",
        autocomplete="postal-code",
        max_length=6,
        inputmode="numeric",
    ),
    Field("city", "field_city", autocomplete="address-level2", max_length=50),
)
MESSAGE = Field(
    "message",
    "field_message",
    required=False,
    max_length=MESSAGE_MAX,
    hint_key="hint_message",
    multiline=True,
)
CAMPAIGN_CODE = Field(
    "campaign_code", "field_campaign_code", required=False, max_length=CAMPAIGN_CODE_MAX
)
CODE_CHANNELS = ("email", "sms")


def fields_for(settings: TenantSettings, with_personal_number: bool = True) -> list[Field]:
    """The fields this tenant asks for, in the page's order."""
    fields = [PERSONAL_NUMBER] if with_personal_number else []
    fields += [*NAME_FIELDS, *CONTACT_FIELDS]
    if settings.ask_address:
        fields += ADDRESS_FIELDS
    if settings.user_message_enabled:
        fields.append(MESSAGE)
    if settings.campaign_code_enabled:
        fields.append(CAMPAIGN_CODE)
    return fields


@dataclass
class Details:
    """A posted step 5: the values as typed, and per field the key of what is wrong."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    cleaned: dict[str, str | None] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


def _judge(item: Field, raw: str, today: date, sms_countries: tuple[int, ...]) -> str | None:
    if item.required and not raw.strip():
        raise Invalid(f"{item.name}_required")
    if item.name == "personal_number":
        return patient.personal_number(raw, today)
    if item.name == "mobile":
        # The number gets the confirmation (and perhaps the code) by SMS: a mobile in
        # one of the tenant's allowed countries.
        return patient.mobile(raw, sms_countries)
    if item.name == "email":
        return patient.email(raw)
    if item.name == "postal_code":
        value = raw.strip()
        if not _POSTAL_CODE.fullmatch(value):
            raise Invalid("postal_code_format")
        return value.replace(" ", "")
    assert item.max_length is not None
    return patient.text_field(raw, item.max_length, item.name, required=item.required)


def judge(
    form: dict[str, str],
    settings: TenantSettings,
    today: date,
    with_personal_number: bool = True,
    ask_channel: bool = False,
) -> Details:
    """Every field of ``form`` that the tenant asks for, judged."""
    fields = fields_for(settings, with_personal_number)
    names = [f.name for f in fields] + (["code_channel"] if ask_channel else [])
    details = Details(values={name: form.get(name, "") for name in names})
    sms_countries = patient.sms_countries(settings.sms_country_codes)
    for item in fields:
        try:
            details.cleaned[item.name] = _judge(
                item, details.values[item.name], today, sms_countries
            )
        except Invalid as exc:
            details.errors[item.name] = exc.key
    if ask_channel:
        if details.values["code_channel"] in CODE_CHANNELS:
            details.cleaned["code_channel"] = details.values["code_channel"]
        else:
            details.errors["code_channel"] = "code_channel_required"
    return details


def store_on(booking: Booking, details: Details) -> None:
    """Put judged details on the held booking (the caller's transaction)."""
    for name, value in details.cleaned.items():
        if name != "code_channel":
            setattr(booking, name, value)
