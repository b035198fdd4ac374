"""Where the store keeps personal data, and what a patient's export and erasure do
with each piece: the one register of it.

Every column that holds personal data is marked in :mod:`connectors.store.models`
with ``info={"personal": True}`` and listed here, and every table is listed here
either with its personal columns or in :data:`WITHOUT_PERSONAL_DATA` with the reason
(``tests/connectors/store/test_personal_data.py`` fails for a table or a marked
column that is not, and for a column whose name suggests personal data that is
neither registered nor explained).

Whose data it is (:class:`Subject`):

- ``patient``: found by the patient's personal number, directly or through the
  patient's bookings and logins; in the patient's export and handled by erasure
  (:mod:`connectors.store.patient_data`);
- ``staff``: practitioners and operators, shown on the booking page or kept for the
  audit log; not a patient's data, so neither exported nor erased with a patient;
- ``client``: a browser or network address, as a keyed or salted hash (or, for
  operators' failed logins, the address itself) for a short time; it cannot be tied
  to a personal number, so it is in no export, and it goes with its short window.

Erasure pseudonymises in place where the row is needed for statistics or for the
booking's Opus appointment (a booking keeps its times, clinic, practitioner,
treatment, channel, status and campaign code, so every statistic adds up the same),
and deletes where nothing needs the row (a patient's logins). What stays in Opus
(the patient record, the journal, the appointments and their texts) is the clinic's
record of care and is not ours to erase: the operator is told so.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Subject(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"
    CLIENT = "client"


class Erase(StrEnum):
    """What erasure does to one column of a patient's row."""

    NULL = "null"  # set to NULL
    BLANK = "blank"  # set to '' (a NOT NULL text column)
    EMPTY_JSON = "empty_json"  # set to '{}' (a NOT NULL JSON column)
    ROW = "row"  # the whole row is deleted (see Table.erasure)
    NONE = "none"  # not a patient's data: erasure of a patient does not touch it


ERASED_VALUE = {Erase.NULL: None, Erase.BLANK: "", Erase.EMPTY_JSON: "{}"}


@dataclass(frozen=True)
class Column:
    name: str
    holds: str
    erase: Erase


@dataclass(frozen=True)
class Table:
    """A table with personal data, or one whose rows belong to a patient through
    another table (``columns`` empty): how a patient's rows are found, whether they
    are exported, and what erasure does to them."""

    name: str
    subject: Subject
    columns: tuple[Column, ...]
    found_by: str
    exported: bool
    erasure: str  # "pseudonymise" | "delete" | "keep" | "none"
    note: str = ""
    export_omits: tuple[str, ...] = ()
    """Columns left out of an export: secrets of ours (a hash of a code or a cookie)
    that tell the patient nothing and would help whoever gets the file."""


PATIENT = Subject.PATIENT
STAFF = Subject.STAFF
CLIENT = Subject.CLIENT

TABLES: tuple[Table, ...] = (
    Table(
        "booking",
        PATIENT,
        (
            Column("personal_number", "personal number", Erase.NULL),
            Column("first_name", "name", Erase.NULL),
            Column("last_name", "name", Erase.NULL),
            Column("email", "e-mail address", Erase.NULL),
            Column("mobile", "phone number", Erase.NULL),
            Column("address1", "postal address", Erase.NULL),
            Column("postal_code", "postal address", Erase.NULL),
            Column("city", "postal address", Erase.NULL),
            Column("message", "free-text message (Användarmeddelande)", Erase.NULL),
            Column("client_address_key", "keyed hash of the client's IP address", Erase.NULL),
            Column("client_cookie_key", "keyed hash of the browser's cookie", Erase.NULL),
            Column("opus_patient_id", "the patient's id in Opus", Erase.NULL),
            Column("write_back_error", "Opus's error text (may echo the patient)", Erase.NULL),
        ),
        found_by="personal_number",
        exported=True,
        erasure="pseudonymise",
        note="Kept without personal data: its times, clinic, practitioner, treatment, "
        "channel, status and campaign code make the booking statistics, and its "
        "appointment key ties it to the Opus appointment. The campaign code is kept: "
        "statistics count bookings per code.",
        export_omits=("code_hash",),
    ),
    Table(
        "outbox_message",
        PATIENT,
        (
            Column("recipient", "e-mail address or phone number", Erase.BLANK),
            Column("payload", "the message's merge fields (names, codes)", Erase.EMPTY_JSON),
            Column("last_error", "the server's refusal (may echo the address)", Erase.NULL),
            Column("provider_id", "the SMS gateway's id (its logs hold the number)", Erase.NULL),
        ),
        found_by="booking_id: the patient's bookings",
        exported=True,
        erasure="pseudonymise",
        note="Kind, channel, status and times are kept. A message not sent yet is "
        "given up (status failed), since it has nobody to go to.",
    ),
    Table(
        "patient_session",
        PATIENT,
        (
            Column("personal_number", "personal number (from BankID)", Erase.ROW),
            Column("given_name", "name (from BankID)", Erase.ROW),
            Column("surname", "name (from BankID)", Erase.ROW),
        ),
        found_by="personal_number",
        exported=True,
        erasure="delete",
        note="Deleting a session logs the patient out.",
        export_omits=("token_hash",),
    ),
    Table(
        "bankid_order",
        PATIENT,
        (),
        found_by="order_id of the patient's sessions",
        exported=True,
        erasure="delete",
        note="No personal columns of its own; deleted with the session it made.",
        export_omits=("browser_hash", "auto_start_token", "qr_start_token", "qr_start_secret"),
    ),
    Table(
        "opus_appointment",
        PATIENT,
        (
            Column("personal_number", "personal number (read from Opus)", Erase.NULL),
            Column("mobile", "mobile number, for reminders (read from Opus)", Erase.NULL),
            Column("first_name", "first name, for reminders (read from Opus)", Erase.NULL),
            Column("last_name", "last name, for reminders (read from Opus)", Erase.NULL),
        ),
        found_by="personal_number",
        exported=True,
        erasure="pseudonymise",
        note="A copy of Opus's appointments for Mina bokningar. Opus keeps them; the "
        "sync reads an appointment again (with its patient) only when it changes in Opus.",
    ),
    Table(
        "reminder",
        PATIENT,
        (),
        found_by="booking_id of the patient's bookings, opus_appointment_id of their "
        "copied Opus appointments",
        exported=True,
        erasure="delete",
        note="No personal columns: when a reminder is due and whether it went. Deleted: "
        "an erased patient is reminded of nothing (their message is given up).",
    ),
    Table(
        "waitlist_entry",
        PATIENT,
        (),
        found_by="booking_id of the patient's bookings",
        exported=True,
        erasure="keep",
        note="No personal columns: the patient's wishes for an earlier time (clinic, "
        "practitioner, weekdays, hours). Kept for the refill statistics; erasure ends an "
        "active one, so no offer goes out.",
    ),
    Table(
        "waitlist_offer",
        PATIENT,
        (),
        found_by="entry_id of the patient's waiting-list entries",
        exported=True,
        erasure="keep",
        note="No personal columns: which freed time was offered when, and the answer. "
        "Kept for the refill statistics.",
    ),
    Table(
        "marketplace_appointment",
        PATIENT,
        (),
        found_by="booking_id: the patient's bookings",
        exported=True,
        erasure="keep",
        note="No personal columns: the marketplace's appointment id, our outcome and "
        "reason code. Kept so that an appointment is never taken twice.",
    ),
    Table(
        "audit_entry",
        STAFF,
        (Column("operator_email", "the operator's e-mail address", Erase.NONE),),
        found_by="-",
        exported=False,
        erasure="none",
        note="Who changed what. A patient's export or erasure is logged with a keyed "
        "hash of the personal number, never the number.",
    ),
    Table(
        "operator",
        STAFF,
        (
            Column("email", "the operator's e-mail address", Erase.NONE),
            Column("name", "the operator's name", Erase.NONE),
        ),
        found_by="-",
        exported=False,
        erasure="none",
    ),
    Table(
        "practitioner",
        STAFF,
        (
            Column("first_name", "the practitioner's name (from Opus)", Erase.NONE),
            Column("last_name", "the practitioner's name (from Opus)", Erase.NONE),
            Column("info_text", "the practitioner's presentation", Erase.NONE),
        ),
        found_by="-",
        exported=False,
        erasure="none",
        note="Published on the booking page by the clinic.",
    ),
    Table(
        "image",
        STAFF,
        (Column("data", "a practitioner's photo (or the logo)", Erase.NONE),),
        found_by="-",
        exported=False,
        erasure="none",
    ),
    Table(
        "quarantined_row",
        STAFF,
        (Column("row_data", "an Opus row the sync refused (a clinician's name)", Erase.NONE),),
        found_by="-",
        exported=False,
        erasure="none",
        note="Streams clinic, clinician, treatment and free_range only: no patient rows.",
    ),
    Table(
        "login_throttle",
        CLIENT,
        (Column("client", "an operator login's IP address, or a keyed hash", Erase.NONE),),
        found_by="-",
        exported=False,
        erasure="none",
        note="Failed logins per address for a 15-minute window.",
    ),
    Table(
        "visit_event",
        CLIENT,
        (Column("visitor", "a salted hash of address and browser, per day", Erase.NONE),),
        found_by="-",
        exported=False,
        erasure="none",
        note="The day's salt is deleted when the day is over: then nobody can tie the "
        "hash to an address.",
    ),
)

WITHOUT_PERSONAL_DATA: dict[str, str] = {
    "tenant": "the clinic chain",
    "opus_database": "a reference to a connection string",
    "tenant_settings": "the operator's settings (sender addresses are the clinic's own)",
    "message_template": "the clinic's texts with merge fields, no patient's values",
    "clinic": "the clinic's public address and phone",
    "clinic_practitioner": "who works where",
    "treatment": "booking templates",
    "treatment_set": "sets of treatment ids",
    "treatment_set_member": "sets of treatment ids",
    "free_range": "free time",
    "sync_state": "the sync's progress",
    "sync_run": "run counts; its message is a scrubbed error text",
    "worker_lease": "which worker holds a job",
    "api_key": "a hash of the key and the websites that may use it",
    "operator_grant": "roles",
    "operator_session": "a hash of the cookie",
    "marketplace_account": "the clinic's marketplace account",
    "marketplace_resource": "what the marketplace accepted (clinic, practitioner, slot)",
    "visit_salt": "random salts, deleted after their day",
    "stats_visits_daily": "counts",
    "stats_funnel_daily": "counts",
    "stats_source_daily": "counts per referrer host or UTM source",
    "stats_device_daily": "counts",
    "stats_booking_daily": "counts",
    "stats_campaign_daily": "counts per campaign code",
    "stats_utilisation_daily": "minutes",
    "subdomain_redirect": "the clinic's former subdomains",
    "availability_version": "counters",
    "limit_hit": "counts of refusals, nothing about who",
    "waitlist_opening": "a freed time (clinic, practitioner, when) to offer",
}

NOT_PERSONAL_COLUMNS: dict[tuple[str, str], str] = {
    ("tenant", "name"): "the clinic chain's name",
    ("opus_database", "name"): "the database's name",
    ("tenant_settings", "welcome_text"): "the clinic's text",
    ("tenant_settings", "patient_info_text"): "the clinic's text",
    ("tenant_settings", "default_clinic_text"): "the clinic's text",
    ("tenant_settings", "email_sender"): "the clinic's sender address",
    ("tenant_settings", "sms_sender"): "the clinic's SMS sender id",
    ("message_template", "body"): "the clinic's template",
    ("clinic", "name"): "the clinic's name",
    ("clinic", "address1"): "the clinic's public address",
    ("clinic", "address2"): "the clinic's public address",
    ("clinic", "postal_code"): "the clinic's public address",
    ("clinic", "city"): "the clinic's public address",
    ("clinic", "phone"): "the clinic's public phone",
    ("clinic", "email"): "the clinic's public e-mail address",
    ("clinic", "group_name"): "a town or region",
    ("clinic", "clinic_text"): "the clinic's text",
    ("treatment", "name"): "a treatment",
    ("treatment", "booking_text"): "the treatment's text for Opus",
    ("sync_run", "message"): "a scrubbed error text",
    ("api_key", "name"): "the key's name",
    ("marketplace_account", "last_error"): "the marketplace's error text",
    ("booking", "campaign_code"): "the clinic's campaign code (kept for statistics)",
    ("booking", "code_hash"): "a keyed hash of a one-time code, cleared once used",
    ("booking", "code_channel"): "email or sms",
    ("booking", "conflict_reason"): "a reason code",
    ("bankid_order", "return_to"): "a local path of the booking site",
    ("marketplace_appointment", "reason"): "a reason code",
    ("stats_source_daily", "source"): "a referrer host or UTM source",
    ("visit_event", "source"): "a referrer host or UTM source",
    ("visit_event", "path"): "a route template",
    ("subdomain_redirect", "subdomain"): "the clinic's former subdomain",
    ("tenant_settings", "sms_country_codes"): "a setting",
    ("bankid_order", "hint_code"): "BankID's status code",
    ("marketplace_resource", "resource_type"): "a FHIR resource type",
    ("quarantined_row", "source_id"): "an Opus id of a clinic, clinician, treatment or range",
    ("stats_campaign_daily", "campaign_code"): "the clinic's campaign code",
    ("worker_lease", "name"): "a job's name",
    ("waitlist_opening", "source"): "what freed the time: a cancellation, a move or the sync",
}
"""Text columns whose names sound personal but hold nothing personal, with why."""


def table(name: str) -> Table:
    for entry in TABLES:
        if entry.name == name:
            return entry
    raise KeyError(name)


PATIENT_TABLES: tuple[Table, ...] = tuple(t for t in TABLES if t.subject is PATIENT)
"""What a patient's export contains and erasure handles."""


def personal_columns() -> set[tuple[str, str]]:
    """Every (table, column) registered as personal data."""
    return {(t.name, c.name) for t in TABLES for c in t.columns}


def erased_values(table_name: str) -> dict[str, object]:
    """The values erasure (and retention's pseudonymisation) gives a patient's row of
    ``table_name``: every personal column without its data."""
    return {
        c.name: ERASED_VALUE[c.erase] for c in table(table_name).columns if c.erase in ERASED_VALUE
    }
