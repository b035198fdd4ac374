"""Writing online bookings into the Opus appointment book.

One call, one Opus transaction: a booking's appointment is created, moved or
cancelled together with what that does to the free time (e-tider) and the patient
record, or nothing happens at all. Every appointment carries the booking's
*appointment key* (``IdempotencyKey``, unique in Opus), so a retry after a crash
finds the appointment it made instead of making a second one.

The free time it takes is cut out of the free range it lies in (the demo convention,
and Opus's: an appointment is never inside free time); a cancelled or moved
appointment gives its time back as free time for the same treatments, merged with its
neighbours. The next schedule sync then publishes the change like any other.

What Opus has that we did not make is never changed: if reception booked the time, or
took the free time away, the answer is a conflict and Opus is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from connectors.opus.connection import OpusConnection

BOOKED = "booked"
CANCELLED = "cancelled"

Conflict = Literal["taken_in_opus", "no_longer_free"]
Done = Literal[
    "created", "already_there", "moved", "cancelled", "not_in_opus", "nothing", "conflict"
]


@dataclass(frozen=True)
class Patient:
    personal_number: str | None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    address1: str | None = None
    postal_code: str | None = None
    city: str | None = None
    identified_by_eid: bool = False
    """The personal number came from e-ID: an address change needs no reception check."""


@dataclass(frozen=True)
class Appointment:
    """What Opus should hold under ``key``. Times are the clinic's wall clock."""

    key: str
    clinic_id: str
    clinician_id: int
    treatment_id: int
    starts: datetime
    ends: datetime
    warm_up: timedelta
    cool_down: timedelta
    text: str
    patient: Patient
    change_key: str
    """Unique per booking: keys a pending address change, so it too is made once."""
    requested_at: datetime
    """When the patient booked (wall clock): a pending address change's RequestedAt."""

    @property
    def blocks(self) -> tuple[datetime, datetime]:
        return self.starts - self.warm_up, self.ends + self.cool_down


@dataclass(frozen=True)
class Outcome:
    done: Done
    appointment_id: int | None = None
    patient_id: int | None = None
    range_treatments: tuple[int, ...] = field(default=())
    conflict: Conflict | None = None


class OpusWriter:
    """Writes through one open Opus connection (see :func:`connection.opened`)."""

    def __init__(self, connection: OpusConnection, fence: Callable[[], None] | None = None) -> None:
        self.db = connection
        # Called inside every Opus transaction just before its commit; raising rolls the
        # transaction back. Write-back passes its lock's check: a writer that lost its
        # lock meanwhile must not commit over a newer writer's work.
        self.fence = fence

    # -- the three things a booking can ask of Opus ------------------------------------

    def book(self, wanted: Appointment, range_treatments: tuple[int, ...] = ()) -> Outcome:
        """Make sure the appointment ``wanted.key`` exists, booked, at ``wanted``'s
        time: create it, or move it there (a rebooking), or find it already done.
        ``range_treatments``: what the appointment's current time was free for, to
        give that time back when it moves."""
        with self._transaction():
            current = self._appointment(wanted.key)
            if current is not None and current["Status"] == BOOKED and _same_time(current, wanted):
                return Outcome(
                    "already_there",
                    current["AppointmentID"],
                    current["PatientID"],
                    range_treatments,
                )
            if current is not None and current["Status"] == BOOKED:
                self._give_back(current, wanted.warm_up, wanted.cool_down, range_treatments)
            conflict = self._conflict(wanted)
            if conflict is not None:
                self._rollback()
                return Outcome("conflict", conflict=conflict)
            treatments = self._cut(wanted)
            patient_id = self._patient(wanted)
            if current is None:
                self._insert_appointment(wanted, patient_id)
                done: Done = "created"
            else:
                self._move_appointment(current["AppointmentID"], wanted, patient_id)
                done = "moved"
            appointment = self._appointment(wanted.key)
            return Outcome(done, appointment["AppointmentID"], patient_id, treatments)

    def cancel(
        self,
        key: str,
        warm_up: timedelta,
        cool_down: timedelta,
        range_treatments: tuple[int, ...],
    ) -> Outcome:
        """Cancel the appointment ``key`` and give its time back as free time. An
        appointment that never reached Opus, or is cancelled already, is left alone."""
        with self._transaction():
            current = self._appointment(key)
            if current is None:
                return Outcome("not_in_opus")
            if current["Status"] != BOOKED:
                return Outcome("already_there", current["AppointmentID"], current["PatientID"])
            self._give_back(current, warm_up, cool_down, range_treatments)
            self._execute(
                "UPDATE OnlineAppointment SET Status = ? WHERE AppointmentID = ?",
                (CANCELLED, current["AppointmentID"]),
            )
            return Outcome("cancelled", current["AppointmentID"], current["PatientID"])

    # -- transactions ------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self.db.dialect == "sqlite":
            # Take SQLite's write lock first: two writers then queue instead of both
            # reading a free time and one failing at its first write.
            self._execute("BEGIN IMMEDIATE")
        try:
            yield
            if self.fence is not None:
                self.fence()
        except BaseException:
            self.db.rollback()
            raise
        self.db.commit()

    def _rollback(self) -> None:
        # A conflict after giving back a moved appointment's old time: undo that too.
        self.db.rollback()
        if self.db.dialect == "sqlite":
            self._execute("BEGIN IMMEDIATE")

    # -- reading -----------------------------------------------------------------------

    def _appointment(self, key: str) -> _Row | None:
        return self._one(
            "SELECT AppointmentID, ClinicID, ClinicianID, TreatmentID, PatientID, StartTime, "
            "EndTime, Status FROM OnlineAppointment WHERE IdempotencyKey = ?",
            (key,),
        )

    def _conflict(self, wanted: Appointment) -> Conflict | None:
        start, end = wanted.blocks
        taken = self._one(
            "SELECT AppointmentID FROM OnlineAppointment "
            "WHERE ClinicianID = ? AND Status = ? AND StartTime < ? AND EndTime > ? "
            "AND (IdempotencyKey IS NULL OR IdempotencyKey <> ?)",
            (wanted.clinician_id, BOOKED, self._at(end), self._at(start), wanted.key),
        )
        if taken is not None:
            return "taken_in_opus"
        covering = self._covering_range(wanted)
        if covering is None or not self._one(
            "SELECT 1 AS Allowed FROM OnlineFreeRangeTreatment "
            "WHERE FreeRangeID = ? AND TreatmentID = ?",
            (covering["FreeRangeID"], wanted.treatment_id),
        ):
            return "no_longer_free"
        return None

    def _covering_range(self, wanted: Appointment) -> _Row | None:
        start, end = wanted.blocks
        return self._one(
            "SELECT FreeRangeID, StartTime, EndTime FROM OnlineFreeRange"
            + self._lock_hint()
            + " WHERE ClinicianID = ? AND ClinicID = ? AND StartTime <= ? AND EndTime >= ?"
            + self._lock_suffix(),
            (wanted.clinician_id, wanted.clinic_id, self._at(start), self._at(end)),
        )

    def _treatments(self, range_id: int) -> tuple[int, ...]:
        rows = self._all(
            "SELECT TreatmentID FROM OnlineFreeRangeTreatment WHERE FreeRangeID = ? "
            "ORDER BY TreatmentID",
            (range_id,),
        )
        return tuple(int(row["TreatmentID"]) for row in rows)

    # -- free time ---------------------------------------------------------------------

    def _cut(self, wanted: Appointment) -> tuple[int, ...]:
        """Take the appointment's blocked time out of the free range it lies in;
        returns the treatments that range allowed (to give the time back with)."""
        start, end = wanted.blocks
        free = self._covering_range(wanted)
        assert free is not None  # _conflict checked it in this transaction
        range_id, free_start, free_end = (
            free["FreeRangeID"],
            _datetime(free["StartTime"]),
            _datetime(free["EndTime"]),
        )
        treatments = self._treatments(range_id)
        if free_start < start:
            self._set_range(range_id, free_start, start)
            if end < free_end:
                self._insert_range(wanted.clinic_id, wanted.clinician_id, end, free_end, treatments)
        elif end < free_end:
            self._set_range(range_id, end, free_end)
        else:
            self._delete_range(range_id)
        return treatments

    def _give_back(
        self,
        current: _Row,
        warm_up: timedelta,
        cool_down: timedelta,
        treatments: tuple[int, ...],
    ) -> None:
        """Free the blocked time of appointment ``current`` again, merged with the free
        ranges right before and after it when they allow the same treatments."""
        clinic, clinician = current["ClinicID"], int(current["ClinicianID"])
        start = _datetime(current["StartTime"]) - warm_up
        end = _datetime(current["EndTime"]) + cool_down
        overlapping = self._one(
            "SELECT FreeRangeID FROM OnlineFreeRange "
            "WHERE ClinicianID = ? AND StartTime < ? AND EndTime > ?",
            (clinician, self._at(end), self._at(start)),
        )
        if overlapping is not None:
            return  # already free: someone opened the time again meanwhile
        before = self._neighbour(clinic, clinician, "EndTime", start)
        after = self._neighbour(clinic, clinician, "StartTime", end)
        if not treatments:
            # Unrecorded (a crash between Opus's commit and the store's): what the time
            # next to it is free for, else at least the appointment's own treatment.
            beside = before or after
            treatments = (
                self._treatments(beside["FreeRangeID"])
                if beside is not None
                else tuple(t for t in (current["TreatmentID"],) if t is not None)
            )
        joins_before = before is not None and self._treatments(before["FreeRangeID"]) == treatments
        joins_after = after is not None and self._treatments(after["FreeRangeID"]) == treatments
        if joins_before and joins_after:
            self._delete_range(after["FreeRangeID"])
            self._set_range(before["FreeRangeID"], _datetime(before["StartTime"]), _end_of(after))
        elif joins_before:
            self._set_range(before["FreeRangeID"], _datetime(before["StartTime"]), end)
        elif joins_after:
            self._set_range(after["FreeRangeID"], start, _end_of(after))
        else:
            self._insert_range(clinic, clinician, start, end, treatments)

    def _neighbour(self, clinic: str, clinician: int, column: str, at: datetime) -> _Row | None:
        return self._one(
            "SELECT FreeRangeID, StartTime, EndTime FROM OnlineFreeRange "
            f"WHERE ClinicianID = ? AND ClinicID = ? AND {column} = ?",
            (clinician, clinic, self._at(at)),
        )

    def _set_range(self, range_id: int, start: datetime, end: datetime) -> None:
        self._execute(
            "UPDATE OnlineFreeRange SET StartTime = ?, EndTime = ? WHERE FreeRangeID = ?",
            (self._at(start), self._at(end), range_id),
        )

    def _delete_range(self, range_id: int) -> None:
        self._execute("DELETE FROM OnlineFreeRangeTreatment WHERE FreeRangeID = ?", (range_id,))
        self._execute("DELETE FROM OnlineFreeRange WHERE FreeRangeID = ?", (range_id,))

    def _insert_range(
        self,
        clinic: str,
        clinician: int,
        start: datetime,
        end: datetime,
        treatments: tuple[int, ...],
    ) -> None:
        # FreeRangeID is Opus's, not an identity: the next after every id ever used,
        # removed ones included, so the deletion log never names a living range.
        row = self._one(
            "SELECT MAX(Id) AS Top FROM (SELECT MAX(FreeRangeID) AS Id FROM OnlineFreeRange "
            "UNION ALL SELECT MAX(FreeRangeID) AS Id FROM OnlineFreeRangeDeleted) AS Ids",
            (),
        )
        range_id = int(row["Top"] or 0) + 1 if row else 1
        self._execute(
            "INSERT INTO OnlineFreeRange (FreeRangeID, ClinicID, ClinicianID, StartTime, EndTime) "
            "VALUES (?, ?, ?, ?, ?)",
            (range_id, clinic, clinician, self._at(start), self._at(end)),
        )
        for treatment in treatments:
            self._execute(
                "INSERT INTO OnlineFreeRangeTreatment (FreeRangeID, TreatmentID) VALUES (?, ?)",
                (range_id, treatment),
            )

    # -- appointments and patients -----------------------------------------------------

    def _insert_appointment(self, wanted: Appointment, patient_id: int | None) -> None:
        self._execute(
            "INSERT INTO OnlineAppointment (ClinicID, ClinicianID, TreatmentID, PatientID, "
            "StartTime, EndTime, BookingText, Status, IdempotencyKey) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                wanted.clinic_id,
                wanted.clinician_id,
                wanted.treatment_id,
                patient_id,
                self._at(wanted.starts),
                self._at(wanted.ends),
                wanted.text,
                BOOKED,
                wanted.key,
            ),
        )

    def _move_appointment(self, appointment_id: int, wanted: Appointment, patient_id) -> None:
        self._execute(
            "UPDATE OnlineAppointment SET ClinicID = ?, ClinicianID = ?, TreatmentID = ?, "
            "PatientID = ?, StartTime = ?, EndTime = ?, BookingText = ?, Status = ? "
            "WHERE AppointmentID = ?",
            (
                wanted.clinic_id,
                wanted.clinician_id,
                wanted.treatment_id,
                patient_id,
                self._at(wanted.starts),
                self._at(wanted.ends),
                wanted.text,
                BOOKED,
                appointment_id,
            ),
        )

    def _patient(self, wanted: Appointment) -> int | None:
        """The patient's Opus id: found by personal number, or created. A changed
        address updates the record when e-ID vouched for the patient, otherwise it
        waits in OnlinePendingPatientUpdate for reception's yes or no."""
        patient = wanted.patient
        if not patient.personal_number:
            return None
        found = self._one(
            "SELECT PatientID, Address1, PostalCode, City FROM OnlinePatient "
            "WHERE PersonalNumber = ? ORDER BY PatientID",
            (patient.personal_number,),
        )
        if found is None:
            self._execute(
                "INSERT INTO OnlinePatient (PersonalNumber, FirstName, LastName, Address1, "
                "PostalCode, City, Email, MobilePhone) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    patient.personal_number,
                    patient.first_name,
                    patient.last_name,
                    patient.address1,
                    patient.postal_code,
                    patient.city,
                    patient.email,
                    patient.mobile,
                ),
            )
            created = self._one(
                "SELECT MAX(PatientID) AS PatientID FROM OnlinePatient WHERE PersonalNumber = ?",
                (patient.personal_number,),
            )
            return int(created["PatientID"])
        patient_id = int(found["PatientID"])
        address = (patient.address1, patient.postal_code, patient.city)
        on_record = (found["Address1"], found["PostalCode"], found["City"])
        if patient.address1 and address != on_record:
            self._change_address(patient_id, address, patient.identified_by_eid, wanted)
        return patient_id

    def _change_address(
        self, patient_id: int, address: tuple, vouched: bool, wanted: Appointment
    ) -> None:
        if vouched:
            self._execute(
                "UPDATE OnlinePatient SET Address1 = ?, PostalCode = ?, City = ? "
                "WHERE PatientID = ?",
                (*address, patient_id),
            )
            return
        if self._one(
            "SELECT UpdateID FROM OnlinePendingPatientUpdate WHERE IdempotencyKey = ?",
            (wanted.change_key,),
        ):
            return
        self._execute(
            "INSERT INTO OnlinePendingPatientUpdate (PatientID, Address1, PostalCode, City, "
            "RequestedAt, Status, IdempotencyKey) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                patient_id,
                *address,
                self._at(wanted.requested_at),
                "pending",
                wanted.change_key,
            ),
        )

    # -- SQL plumbing ------------------------------------------------------------------

    def _at(self, moment: datetime) -> Any:
        return self.db.param(moment)

    def _lock_hint(self) -> str:
        return " WITH (UPDLOCK, HOLDLOCK)" if self.db.dialect == "mssql" else ""

    def _lock_suffix(self) -> str:
        # Two writers cutting the same free range queue behind each other's row lock.
        return " FOR UPDATE" if self.db.dialect == "postgresql" else ""

    def _execute(self, sql: str, params: tuple = ()) -> None:
        cursor = self.db.cursor()
        try:
            cursor.execute(sql, params)
        finally:
            cursor.close()

    def _all(self, sql: str, params: tuple) -> list[_Row]:
        cursor = self.db.cursor()
        try:
            cursor.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [_Row(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def _one(self, sql: str, params: tuple) -> _Row | None:
        rows = self._all(sql, params)
        return rows[0] if rows else None


class _Row(dict):
    """A result row addressed by column name in any case: PostgreSQL (and so
    psqlODBC) reports unquoted names folded to lower case."""

    def __init__(self, pairs) -> None:
        super().__init__((name.lower(), value) for name, value in pairs)

    def __getitem__(self, name: str) -> Any:
        return super().__getitem__(name.lower())


def _end_of(row: _Row) -> datetime:
    return _datetime(row["EndTime"])


def _same_time(current: _Row, wanted: Appointment) -> bool:
    return (
        _datetime(current["StartTime"]) == wanted.starts
        and _datetime(current["EndTime"]) == wanted.ends
        and int(current["ClinicianID"]) == wanted.clinician_id
        and current["ClinicID"] == wanted.clinic_id
    )


def _datetime(value: Any) -> datetime:
    # sqlite3 hands times back as the text they were stored as.
    return datetime.fromisoformat(value) if isinstance(value, str) else value
