"""The personal data register against the models: every table is accounted for, every
column marked personal is registered (and the reverse), a text column whose name
sounds personal is either registered or explained, and every patient table has an
export finder and an erasure step. A new table or column fails here until someone
has said what it holds and what export and erasure do with it."""

from __future__ import annotations

import re

from sqlalchemy import LargeBinary, String, Text

from connectors.store.models import Base
from connectors.store.patient_data import FINDERS
from connectors.store.patient_erasure import ERASURE_ORDER
from connectors.store.personal_data import (
    NOT_PERSONAL_COLUMNS,
    PATIENT_TABLES,
    TABLES,
    WITHOUT_PERSONAL_DATA,
    Erase,
    personal_columns,
)

SOUNDS_PERSONAL = re.compile(
    r"personal|name|mail|mobile|phone|address|postal|city|recipient|payload|message|"
    r"body|text|client|visitor|birth|comment|row_data|(^|_)ip($|_)|error|source|path|code"
)


def _columns():
    return [(t.name, c) for t in Base.metadata.sorted_tables for c in t.columns]


def test_every_table_is_registered_once_with_or_without_personal_data():
    in_models = {t.name for t in Base.metadata.sorted_tables}
    with_data = [t.name for t in TABLES]
    assert len(with_data) == len(set(with_data))
    assert not set(with_data) & set(WITHOUT_PERSONAL_DATA)
    unregistered = in_models - set(with_data) - set(WITHOUT_PERSONAL_DATA)
    assert not unregistered, f"say in connectors/store/personal_data.py what {unregistered} hold"
    assert (set(with_data) | set(WITHOUT_PERSONAL_DATA)) <= in_models  # nothing stale


def test_the_columns_marked_personal_are_exactly_the_registered_ones():
    marked = {(table, c.name) for table, c in _columns() if c.info.get("personal")}
    assert marked == personal_columns()


def test_a_text_column_that_sounds_personal_is_registered_or_explained():
    suspects = {
        (table, c.name)
        for table, c in _columns()
        if isinstance(c.type, String | Text | LargeBinary) and SOUNDS_PERSONAL.search(c.name)
    }
    unexplained = suspects - personal_columns() - set(NOT_PERSONAL_COLUMNS)
    assert not unexplained, f"mark personal or explain in NOT_PERSONAL_COLUMNS: {unexplained}"
    every_column = {(table, c.name) for table, c in _columns()}
    assert set(NOT_PERSONAL_COLUMNS) <= every_column


def test_every_patient_table_is_exported_and_erased():
    names = {t.name for t in PATIENT_TABLES}
    assert set(FINDERS) == names
    assert set(ERASURE_ORDER) == names
    for entry in PATIENT_TABLES:
        assert entry.exported
        assert entry.erasure in ("pseudonymise", "delete", "keep")
        # Only a table without personal columns of its own may be kept as it is.
        assert entry.erasure != "keep" or not entry.columns
        for column in entry.columns:
            if entry.erasure == "delete":
                assert column.erase is Erase.ROW, (entry.name, column.name)
            else:
                assert column.erase in (Erase.NULL, Erase.BLANK, Erase.EMPTY_JSON)


def test_erased_values_fit_the_columns():
    """NULL only where the column takes NULL; a NOT NULL text column gets '' or '{}'."""
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    for entry in PATIENT_TABLES:
        for column in entry.columns:
            model_column = tables[entry.name].columns[column.name]
            if column.erase is Erase.NULL:
                assert model_column.nullable, (entry.name, column.name)
