"""The store's engines keep the values of a failed statement out of its error and out
of the log: they are patients' personal numbers, names, addresses and phone numbers."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from connectors.privacy import install_log_scrubbing
from connectors.store.db import write_session_scope
from connectors.store.models import OutboxMessage

PLANTED = ("19121212-1212", "191212121212", "tolvan@example.se", "070-123 45 67", "+46701234567")
NAME = "Tolvansson"


def test_an_integrity_error_names_no_patient_in_its_text_or_the_log(
    store: Engine, caplog: pytest.LogCaptureFixture
):
    install_log_scrubbing()  # as the app, the command and the flows do
    payload = {"personnummer": PLANTED[0], "pnr": PLANTED[1], "efternamn": NAME}
    payload |= {"mobil": PLANTED[3], "sms": PLANTED[4]}
    message = {
        "tenant_id": 999_999,  # no such tenant: the foreign key refuses the row
        "channel": "email",
        "kind": "new",
        "recipient": PLANTED[2],
        "payload": json.dumps(payload),
    }
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(IntegrityError) as refused,
        write_session_scope(store) as session,
    ):
        session.execute(insert(OutboxMessage).values(**message))
    logging.getLogger("flows.worker").error("round failed", exc_info=refused.value)

    text = str(refused.value)
    assert "parameters hidden" in text  # the statement is there, its values are not
    for planted in (*PLANTED, NAME):
        assert planted not in text
        assert planted not in caplog.text
