"""Why a row was quarantined: stable codes, with the words operators read."""

from __future__ import annotations

from typing import NamedTuple


class Reason(NamedTuple):
    sv: str
    en: str


REASONS: dict[str, Reason] = {
    "id_missing": Reason("Id saknas", "id is missing"),
    "id_duplicate": Reason("Id förekommer flera gånger", "id occurs more than once"),
    "name_missing": Reason("Namn saknas", "name is missing"),
    "duration_invalid": Reason(
        "Längd saknas eller är inte positiv", "duration missing or not positive"
    ),
    "clinic_missing": Reason("Klinik saknas", "ClinicID is missing"),
    "clinic_unknown": Reason("Okänd klinik", "ClinicID is not a known clinic"),
    "clinician_missing": Reason("Behandlare saknas", "ClinicianID is missing"),
    "clinician_unknown": Reason("Okänd behandlare", "ClinicianID is not a known clinician"),
    "practitioner_not_added": Reason(
        "Behandlaren är inte tillagd för kliniken (Tillagda behandlare)",
        "the clinician is not an added practitioner of this clinic",
    ),
    "start_missing": Reason("Starttid saknas", "StartTime is missing"),
    "end_missing": Reason("Sluttid saknas", "EndTime is missing"),
    "end_before_start": Reason(
        "Sluttiden är före eller lika med starttiden", "EndTime is not after StartTime"
    ),
    "local_time_invalid": Reason(
        "Tiden finns inte eller är tvetydig vid byte till/från sommartid",
        "the local time does not exist or is ambiguous at a DST change",
    ),
    "outside_horizon": Reason(
        "Tiden ligger utanför publiceringsperioden", "the range is outside the publishing window"
    ),
    "overlaps": Reason(
        "Överlappar en annan ledig tid för samma behandlare",
        "overlaps another free range of the same clinician",
    ),
    "no_treatments": Reason(
        "Ingen behandling tillåten i tiden", "no treatment is allowed in the range"
    ),
    "treatment_unknown": Reason(
        "Okänd behandling", "an allowed TreatmentID is not a known treatment"
    ),
}


def describe(codes: str | list[str], language: str = "sv") -> str:
    """'end_before_start,overlaps' → the operator's sentence for each, joined."""
    items = codes.split(",") if isinstance(codes, str) else codes
    return "; ".join(getattr(REASONS[c], language) if c in REASONS else c for c in items if c)
