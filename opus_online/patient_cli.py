"""`opus-online patient export|erase --tenant SUBDOMAIN`: a patient's request for their
data, or for erasure, carried out from the command line.

The personal number is read from standard input (the first line; at a terminal it is
asked for without echo), never from an argument: an argument stays in the shell's
history and shows in ``ps``. It is never printed back, except inside the export
itself, which goes to standard output (redirect it to a file for the patient).

``erase`` without ``--yes`` says what erasure would do and what stays in Opus, and
changes nothing; with ``--yes`` it erases. Every run is audited in the tenant's log
(who: the command line's user and machine; the patient as a keyed hash).
"""

from __future__ import annotations

import getpass
import json
import socket
import sys
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from connectors.store import patient_requests
from connectors.store.db import engine_for, session_scope
from connectors.store.models import Tenant
from connectors.store.patient_data import Actor
from connectors.store.patient_erasure import Preview
from connectors.store.personal_data import PATIENT_TABLES
from opus_online.config import Settings
from validations.patient import Invalid, personal_number

PROG = "opus-online patient"
INVALID = {
    "personal_number_format": "give 10 or 12 digits (YYYYMMDD-NNNN)",
    "personal_number_date": "the date of birth in it is not a real date",
    "personal_number_serial": "no personal number has the serial 000",
    "personal_number_checksum": "its check digit is wrong (a typo?)",
}
BLOCKERS = {
    "hold_in_progress": "the patient is booking right now (a held time); try again in 15 minutes",
    "write_back_pending": "a booking or change has not reached Opus yet (see Att hantera); "
    "try again once it has",
}
IN_OPUS = (
    "Opus keeps, and this does not erase: the patient record, the journal, every "
    "appointment with its booking text (the patient's message and campaign code "
    "included), and any address change waiting for reception. They are the clinic's "
    "record of care, kept under its own rules; erase them in Opus if the clinic decides so."
)


class PatientCommandError(Exception):
    """What stops the command; the message is for the operator (never the number)."""


def read_personal_number(stdin: TextIO, today) -> str:
    at_terminal = stdin.isatty()
    raw = getpass.getpass("Personal number: ") if at_terminal else stdin.readline().strip()
    try:
        return personal_number(raw, today)
    except Invalid as invalid:
        raise PatientCommandError(f"not a personal number: {INVALID[invalid.key]}") from None


def _actor() -> Actor:
    return Actor(f"command line: {getpass.getuser()}@{socket.gethostname()}")


def _tenant(url: str, subdomain: str) -> Tenant:
    with session_scope(engine_for(url)) as session:
        tenant = session.scalars(select(Tenant).where(Tenant.subdomain == subdomain)).first()
    if tenant is None:
        raise PatientCommandError(f"no tenant with the subdomain {subdomain!r}")
    return tenant


def run(
    command: str,
    subdomain: str,
    yes: bool,
    settings: Settings,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> int:
    now = datetime.now(UTC)
    url = settings.resolved_store_url
    try:
        number = read_personal_number(stdin, now.astimezone(ZoneInfo(settings.timezone)).date())
        tenant = _tenant(url, subdomain)
    except PatientCommandError as error:
        print(f"{PROG} {command}: {error}", file=sys.stderr)
        return 1
    engine, secret, actor = engine_for(url), settings.secret(), _actor()
    if command == "export":
        document = patient_requests.export(engine, tenant, number, actor, secret, now)
        json.dump(document, stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
        found = sum(len(rows) for rows in document["tables"].values())
        print(f"exported {found} rows of {tenant.subdomain}'s store (audited)", file=sys.stderr)
        return 0
    if not yes:
        found = patient_requests.preview(engine, tenant.id, number, actor, secret, now)
        print(report(found, tenant), file=stdout)
        if not found.nothing_found and not found.blockers:
            print("Nothing was changed. Run again with --yes to erase.", file=stdout)
        return 0
    erased = patient_requests.erase(engine, tenant.id, number, actor, secret, now)
    print(report(erased.preview, tenant, erased.done), file=stdout)
    return 1 if erased.refused else 0


def report(preview: Preview, tenant: Tenant, done: dict[str, int] | None = None) -> str:
    """What erasure found, would do or did, and what stays in Opus; never a value."""
    lines = [f"Patient data at {tenant.name} ({tenant.subdomain}):"]
    if preview.nothing_found:
        lines.append("  nothing: this personal number has no data in the store.")
        return "\n".join(lines)
    for entry in PATIENT_TABLES:
        count = preview.found.get(entry.name, 0)
        if count:
            what = {"pseudonymise": "personal data removed", "delete": "deleted"}
            action = what.get(entry.erasure, "kept: nothing personal in it")
            lines.append(f"  {entry.name}: {count} rows ({action})")
    for blocker in preview.blockers:
        lines.append(f"Erasure must wait: {BLOCKERS[blocker]}.")
    if preview.coming:
        lines.append(
            f"Coming appointments: {preview.coming}. They stay in Opus; once erased, the "
            "patient can no longer see or change them online, nor gets messages about them."
        )
    if preview.unsent:
        lines.append(f"Messages not sent yet: {preview.unsent} (erasure gives them up).")
    for place in preview.in_opus:
        ids = ", ".join(map(str, place.patient_ids)) or "unknown"
        lines.append(
            f"In Opus database {place.database!r}: patient id {ids}; "
            f"{place.written_appointments} appointments booked online; "
            f"{place.copied_appointments} appointments copied for Mina bokningar."
        )
    lines.append(IN_OPUS)
    if done is not None:
        changed = ", ".join(
            f"{name} {n}" for name, n in done.items() if n and name not in patient_requests.KEPT
        )
        lines.append(f"Erased ({changed}); audited in the tenant's log.")
    elif preview.blockers:
        lines.append("Nothing was erased.")
    return "\n".join(lines)
