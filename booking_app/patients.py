"""Who the patient is, when they have logged in with e-ID (BankID).

The e-ID login comes with its own issue; until then nobody is logged in. The booking
pages ask only :func:`current_patient`: the login sets ``request.state.patient`` to a
:class:`LoggedInPatient` (from its session cookie) and every gate here follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

LOGIN_PATH: str | None = None
"""Where "Logga in med BankID" leads; the e-ID issue sets it with its login page."""


@dataclass(frozen=True)
class LoggedInPatient:
    """What an e-ID login tells us. ``personal_number`` is 12 digits."""

    personal_number: str
    first_name: str | None = None
    last_name: str | None = None


def current_patient(request: Request) -> LoggedInPatient | None:
    patient = getattr(request.state, "patient", None)
    return patient if isinstance(patient, LoggedInPatient) else None


PatientDep = Annotated[LoggedInPatient | None, Depends(current_patient)]
