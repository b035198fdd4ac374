"""Personal data scrubbed from text we write down or pass on, and from every log record."""

from __future__ import annotations

import logging

import pytest

from connectors.privacy import PersonalDataFilter, install_log_scrubbing, scrub

PLANTED = (
    "19121212-1212",
    "191212121212",
    "121212-1212",
    "astrid.lind@example.se",
    "070-123 45 67",
    "+46701234567",
)


def test_personal_numbers_are_masked_in_every_spelling():
    text = "patient 19121212-1212, 191212121212, 121212-1212, 121212+1212 and 121212%2B1212"
    masked = scrub(text)
    assert "1212" not in masked
    assert masked == "patient ***, ***, ***, *** and ***"


@pytest.mark.parametrize(
    "address",
    ["astrid@example.se", "Astrid.Lind+bokning@Tandvard.Example.SE", "åsa@exempel.se"],
)
def test_email_addresses_are_masked_also_as_servers_echo_them(address: str):
    assert scrub(f"550 5.1.1 <{address}>: Recipient address rejected") == (
        "550 5.1.1 <***>: Recipient address rejected"
    )
    assert scrub(f"to={address.replace('@', '%40')}&x=1") == "to=***&x=1"


@pytest.mark.parametrize(
    "number",
    [
        "+46701234567",
        "+46 70-123 45 67",
        "%2B46701234567",
        "0046701234567",
        "070-123 45 67",
        "0701234567",
        "070-1234567",
        "08-123 456 78",
        "018-12 34 56",
        "+4741234567",
    ],
)
def test_phone_numbers_are_masked_in_every_spelling(number: str):
    assert scrub(f"Invalid to number: {number}.") == "Invalid to number: ***."


def test_other_numbers_are_left_alone():
    text = (
        "booking 42, 2026-11-25 10:30:00+01:00, ids 12345678901234, SQLSTATE 08001, "
        "host 10.0.0.5:1433, 3 tries, message 7 took 0.25 s, t1-c2-p3-s4-20261125T0930"
    )
    assert scrub(text) == text


def test_a_databases_copy_of_a_failing_row_is_dropped_whole():
    text = "violates not-null constraint\nDETAIL:  Failing row contains (7, Astrid, Lind, null)."
    assert scrub(text) == "violates not-null constraint\nDETAIL:  Failing row contains (***)"


def test_the_log_filter_scrubs_message_arguments_and_traceback(caplog):
    logger = logging.getLogger("tests.privacy.filter")
    logger.addFilter(PersonalDataFilter())
    try:
        with caplog.at_level(logging.DEBUG):
            try:
                raise ValueError(f"refused {PLANTED[3]} {PLANTED[5]}")
            except ValueError:
                logger.exception("patient %s, phone %s, %d tries", PLANTED[0], PLANTED[4], 3)
            logger.debug({"who": PLANTED[1]})
            logger.info("keyed %(number)s", {"number": PLANTED[2]})
    finally:
        logger.filters.clear()
    for planted in PLANTED:
        assert planted not in caplog.text
    assert "patient ***, phone ***, 3 tries" in caplog.text  # numbers keep their %d


def test_installed_it_reaches_every_loggers_records(caplog):
    install_log_scrubbing()
    install_log_scrubbing()  # once is enough; twice changes nothing
    assert sum(isinstance(f, PersonalDataFilter) for f in logging.getLogger().filters) == 1
    with caplog.at_level(logging.DEBUG):
        # A child logger's records reach the root's handlers without the root's filters.
        logging.getLogger("sqlalchemy.engine.Engine").debug("[parameters] %r", PLANTED)
        logging.getLogger("some.library").warning("failed for %s", PLANTED[3])
    assert caplog.records and all(p not in caplog.text for p in PLANTED)


def test_uvicorn_style_argument_tuples_stay_tuples():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/?mobile=0701234567", "1.1", 200),
        None,
    )
    PersonalDataFilter().filter(record)
    assert record.args == ("127.0.0.1:5000", "GET", "/?mobile=***", "1.1", 200)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /?mobile=*** HTTP/1.1" 200'
