"""Appointments booked on the marketplace, read back, and our answer to each.

The marketplace books a Slot of ours: its Appointment refers to the Slot (which the
search includes, so its business identifier tells us clinic, practitioner, treatment
and start) and names the patient, as a contained Patient resource, by personal or
coordination number. We answer by updating the Appointment: our booking's reference
as an identifier when it is in the clinic's book, or status ``cancelled`` with a
reason when it cannot be (the time went to another patient meanwhile).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectors.marketplace.client import MarketplaceClient
from connectors.marketplace.resources import (
    BOOKING_SYSTEM,
    PERSONNUMMER,
    SAMORDNINGSNUMMER,
    SlotRef,
    parse_slot_key,
    system,
)

CANCEL_REASONS = {
    "conflict": "Tiden är inte längre ledig hos kliniken.",
    "invalid": "Bokningen saknar giltiga patientuppgifter.",
}


@dataclass(frozen=True)
class BookedAppointment:
    """One booked Appointment on the marketplace. ``slot`` is None when it is not a
    Slot of ours; patient fields are as the marketplace sent them (judged later)."""

    appointment_id: str
    slot: SlotRef | None
    personal_number: str | None
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    comment: str | None
    resource: dict

    def __repr__(self) -> str:  # never print the patient
        return f"BookedAppointment({self.appointment_id!r})"


def booked_appointments(client: MarketplaceClient, now: datetime) -> list[BookedAppointment]:
    """Booked Appointments starting from a day ago on (older ones are history)."""
    since = (now - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = client.search(
        "Appointment",
        {"status": "booked", "date": f"ge{since}", "_include": "Appointment:slot"},
    )
    slots = {f"Slot/{r.get('id')}": r for r in found if r.get("resourceType") == "Slot"}
    return [
        _read(appointment, slots)
        for appointment in found
        if appointment.get("resourceType") == "Appointment" and appointment.get("id")
    ]


def _read(appointment: dict, slots: dict[str, dict]) -> BookedAppointment:
    slot_ref = None
    for reference in appointment.get("slot") or []:
        slot = slots.get(str(reference.get("reference", "")))
        for identifier in (slot or {}).get("identifier") or []:
            if identifier.get("system") == system("Slot"):
                slot_ref = parse_slot_key(str(identifier.get("value", "")))
    patient = _patient(appointment)
    names = (patient.get("name") or [{}])[0]
    telecom = {t.get("system"): t.get("value") for t in patient.get("telecom") or []}
    number = next(
        (
            str(i.get("value"))
            for i in patient.get("identifier") or []
            if i.get("system") in (PERSONNUMMER, SAMORDNINGSNUMMER)
        ),
        None,
    )
    return BookedAppointment(
        appointment_id=str(appointment["id"]),
        slot=slot_ref,
        personal_number=number,
        first_name=" ".join(names.get("given") or []) or None,
        last_name=names.get("family"),
        email=telecom.get("email"),
        phone=telecom.get("phone") or telecom.get("sms"),
        comment=appointment.get("comment"),
        resource=appointment,
    )


def _patient(appointment: dict) -> dict:
    """The contained Patient the participants point at (``#id``)."""
    contained = {f"#{r.get('id')}": r for r in appointment.get("contained") or []}
    for participant in appointment.get("participant") or []:
        actor = (participant.get("actor") or {}).get("reference", "")
        found = contained.get(actor)
        if found and found.get("resourceType") == "Patient":
            return found
    return {}


def accept(client: MarketplaceClient, booked: BookedAppointment, reference: str) -> None:
    """Tell the marketplace the booking is in the clinic's book (under our reference)."""
    resource = copy.deepcopy(booked.resource)
    identifiers = resource.setdefault("identifier", [])
    if not any(i.get("system") == BOOKING_SYSTEM for i in identifiers):
        identifiers.append({"system": BOOKING_SYSTEM, "value": reference})
    client.update(resource)


def reject(client: MarketplaceClient, booked: BookedAppointment, outcome: str) -> None:
    """Cancel the Appointment at the marketplace, saying why."""
    resource = copy.deepcopy(booked.resource)
    resource["status"] = "cancelled"
    resource["cancelationReason"] = {"text": CANCEL_REASONS.get(outcome, outcome)}
    client.update(resource)
