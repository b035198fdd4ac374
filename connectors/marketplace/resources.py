"""A tenant's offer as FHIR resources: Location (clinic), Practitioner,
PractitionerRole (practitioner at a clinic), HealthcareService (treatment at a
clinic), Schedule (practitioner × clinic × treatment) and Slot (a bookable start).

Every resource carries a business identifier of ours, the same one every time, so
the marketplace updates instead of duplicating (``PUT Slot?identifier=system|value``).
Each is validated by its ``fhir.resources`` model before it leaves.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from fhir.resources.R4B import get_fhir_model_class

from connectors.store.marketplace import Catalogue, Key, OfferedSlot

IDENTIFIER_BASE = "https://opusdentalonline.com/fhir/identifier"
ACCOUNT_SYSTEM = f"{IDENTIFIER_BASE}/account"
BOOKING_SYSTEM = f"{IDENTIFIER_BASE}/booking"
DEEP_LINK = "http://fhir-registry.smarthealthit.org/StructureDefinition/booking-deep-link"
# Swedish personal and coordination numbers (Inera's identifier systems)
PERSONNUMMER = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER = "http://electronichealth.se/identifier/samordningsnummer"


def system(resource_type: str) -> str:
    return f"{IDENTIFIER_BASE}/{resource_type.lower()}"


def conditional_url(resource_type: str, identifier: str) -> str:
    """``Slot?identifier=<system>|<value>``, encoded: the target of a conditional
    update or delete, and a conditional reference inside a transaction."""
    return f"{resource_type}?identifier={quote(system(resource_type) + '|' + identifier, safe='')}"


def id_reference(resource_type: str, identifier: str) -> str:
    """``Slot/<id>``: bulk publication uses our identifier values as resource ids."""
    return f"{resource_type}/{identifier}"


Linker = Callable[[str, str], str]


@dataclass(frozen=True)
class Built:
    key: Key
    resource: dict
    content_hash: str


# -- identifiers (valid FHIR ids too: [A-Za-z0-9-.], at most 64) ----------------------


def location_key(tenant: int, clinic: int) -> str:
    return f"t{tenant}-c{clinic}"


def practitioner_key(tenant: int, practitioner: int) -> str:
    return f"t{tenant}-p{practitioner}"


def role_key(tenant: int, clinic: int, practitioner: int) -> str:
    return f"t{tenant}-c{clinic}-p{practitioner}"


def service_key(tenant: int, clinic: int, treatment: int) -> str:
    return f"t{tenant}-c{clinic}-s{treatment}"


def schedule_key(tenant: int, clinic: int, practitioner: int, treatment: int) -> str:
    return f"t{tenant}-c{clinic}-p{practitioner}-s{treatment}"


def slot_key(tenant: int, slot: OfferedSlot) -> str:
    schedule = schedule_key(tenant, slot.clinic_id, slot.practitioner_id, slot.treatment_id)
    return f"{schedule}-{slot.starts_at.astimezone(UTC):%Y%m%dT%H%M}"


_SLOT_KEY = re.compile(r"t(\d+)-c(\d+)-p(\d+)-s(\d+)-(\d{8}T\d{4})")


@dataclass(frozen=True)
class SlotRef:
    tenant_id: int
    clinic_id: int
    practitioner_id: int
    treatment_id: int
    starts_at: datetime


def parse_slot_key(value: str) -> SlotRef | None:
    match = _SLOT_KEY.fullmatch(value or "")
    if match is None:
        return None
    tenant, clinic, practitioner, treatment, start = match.groups()
    starts = datetime.strptime(start, "%Y%m%dT%H%M").replace(tzinfo=UTC)
    return SlotRef(int(tenant), int(clinic), int(practitioner), int(treatment), starts)


# -- building --------------------------------------------------------------------------


def validated(resource: dict) -> dict:
    """The resource as its R4B model reads and writes it; raises (pydantic's
    ValidationError) when it is not valid FHIR."""
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return model.model_dump(mode="json", exclude_none=True, by_alias=True)


def content_hash(resource: dict) -> str:
    return hashlib.sha256(json.dumps(resource, sort_keys=True).encode()).hexdigest()


def build(
    offer: Catalogue,
    link: Linker = conditional_url,
    with_ids: bool = False,
    booking_url: str | None = None,
) -> list[Built]:
    """Every resource of ``offer``, referenced ones first. ``link`` writes references
    (conditional for a transaction, ``Type/id`` for bulk files, where ``with_ids``
    gives each resource our identifier as its id); ``booking_url`` adds SMART
    Scheduling Links' deep link to each Slot."""
    tenant = offer.tenant.id
    out: list[Built] = []

    def add(resource_type: str, key: str, body: dict) -> None:
        resource = {"resourceType": resource_type}
        if with_ids:
            resource["id"] = key
        resource["identifier"] = [{"system": system(resource_type), "value": key}]
        resource.update(body)
        resource = validated(resource)
        out.append(Built((resource_type, key), resource, content_hash(resource)))

    def ref(resource_type: str, key: str, display: str | None = None) -> dict:
        reference = {"reference": link(resource_type, key)}
        if display:
            reference["display"] = display
        return reference

    for clinic in offer.clinics:
        add("Location", location_key(tenant, clinic.id), _location(clinic))
    seen: set[int] = set()
    for clinic in offer.clinics:
        for practitioner in offer.practitioners[clinic.id]:
            if practitioner.id not in seen:
                seen.add(practitioner.id)
                add(
                    "Practitioner", practitioner_key(tenant, practitioner.id), _person(practitioner)
                )
    for clinic in offer.clinics:
        location = ref("Location", location_key(tenant, clinic.id), clinic.name)
        treatments = offer.treatments[clinic.id]
        for treatment in treatments:
            add(
                "HealthcareService",
                service_key(tenant, clinic.id, treatment.id),
                {
                    "active": True,
                    "location": [location],
                    "name": treatment.name,
                    "type": [{"text": treatment.name}],
                    **({"comment": treatment.description} if treatment.description else {}),
                },
            )
        for practitioner in offer.practitioners[clinic.id]:
            role = {
                "active": True,
                "practitioner": ref(
                    "Practitioner",
                    practitioner_key(tenant, practitioner.id),
                    practitioner.display_name,
                ),
                "location": [location],
                "healthcareService": [
                    ref("HealthcareService", service_key(tenant, clinic.id, t.id))
                    for t in treatments
                ],
            }
            if practitioner.title:
                role["code"] = [{"text": practitioner.title}]
            add("PractitionerRole", role_key(tenant, clinic.id, practitioner.id), role)
    for clinic in offer.clinics:
        for practitioner in offer.practitioners[clinic.id]:
            for treatment in offer.treatments[clinic.id]:
                add(
                    "Schedule",
                    schedule_key(tenant, clinic.id, practitioner.id, treatment.id),
                    {
                        "active": True,
                        "serviceType": [{"text": treatment.name}],
                        "actor": [
                            ref("PractitionerRole", role_key(tenant, clinic.id, practitioner.id)),
                            ref("Location", location_key(tenant, clinic.id)),
                            ref("HealthcareService", service_key(tenant, clinic.id, treatment.id)),
                        ],
                    },
                )
    names = {t.id: t.name for ts in offer.treatments.values() for t in ts}
    for slot in offer.slots:
        body: dict = {
            "schedule": ref(
                "Schedule",
                schedule_key(tenant, slot.clinic_id, slot.practitioner_id, slot.treatment_id),
            ),
            "status": "free",
            "start": slot.starts_at.astimezone(UTC).isoformat(),
            "end": slot.ends_at.astimezone(UTC).isoformat(),
            "serviceType": [{"text": names[slot.treatment_id]}],
        }
        if booking_url:
            body["extension"] = [{"url": DEEP_LINK, "valueUrl": booking_url}]
        add("Slot", slot_key(tenant, slot), body)
    return out


def _location(clinic) -> dict:
    body: dict = {"status": "active", "name": clinic.name}
    telecom = [
        {"system": kind, "value": value}
        for kind, value in (("phone", clinic.phone), ("email", clinic.email))
        if value
    ]
    if telecom:
        body["telecom"] = telecom
    lines = [line for line in (clinic.address1, clinic.address2) if line]
    if lines or clinic.city or clinic.postal_code:
        address: dict = {"country": "SE"}
        if lines:
            address["line"] = lines
        if clinic.postal_code:
            address["postalCode"] = clinic.postal_code
        if clinic.city:
            address["city"] = clinic.city
        body["address"] = address
    return body


def _person(practitioner) -> dict:
    name: dict = {"text": practitioner.display_name or "Behandlare"}
    if practitioner.last_name:
        name["family"] = practitioner.last_name
    if practitioner.first_name:
        name["given"] = [practitioner.first_name]
    return {"active": True, "name": [name]}
