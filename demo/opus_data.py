"""A realistic Opus database for the demo, the tests and the benchmarks.

The default is a small chain: three clinics in two towns (Uppsala and Västerås),
one in Enköping that the operator has not grouped, dentists and hygienists with
Swedish names, the chain's treatments, free ranges on weekdays for the coming weeks
with lunch breaks, a few Saturday ranges, some appointments reception has booked,
and patients. Larger databases for benchmarks come from the same generator
(``clinics``, ``clinicians_per_clinic``, ``days``), and ``bad_rows`` adds rows that
the sync must quarantine.

Writes through any DB-API connection with ``?`` parameters (sqlite3, pyodbc).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from connectors.opus.schema import (
    Dialect,
    create_row_version_triggers,
    create_schema,
    set_identity_counters,
    set_row_version_counter,
)
from validations.patient import luhn_check_digit

TOWNS = [
    (
        "UPP1",
        "Tandmottagningen Centrum",
        "Kungsgatan 12",
        "753 21",
        "Uppsala",
        "018-10 20 30",
        "Uppsala",
    ),
    (
        "UPP2",
        "Tandmottagningen Gränby",
        "Gränby centrum 4",
        "754 43",
        "Uppsala",
        "018-10 20 40",
        "Uppsala",
    ),
    (
        "VAS1",
        "Tandmottagningen Stora torget",
        "Stora torget 3",
        "722 15",
        "Västerås",
        "021-12 34 50",
        "Västerås",
    ),
    (
        "ENK1",
        "Tandmottagningen Enköping",
        "Kungsgatan 20",
        "745 31",
        "Enköping",
        "0171-44 55 00",
        None,
    ),
]
FIRST_NAMES = [
    "Anna",
    "Erik",
    "Maria",
    "Lars",
    "Karin",
    "Johan",
    "Sara",
    "Per",
    "Emma",
    "Anders",
    "Elin",
    "Mikael",
    "Linnea",
    "Fredrik",
    "Sofia",
    "Oskar",
    "Ida",
    "Gustav",
    "Maja",
    "Nils",
    "Åsa",
    "Björn",
    "Märta",
    "Örjan",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Lindberg",
    "Lindqvist",
    "Berglund",
    "Åberg",
    "Öberg",
    "Sjöström",
    "Holmgren",
    "Ekström",
]
# (id, name, description, duration, warm-up, cool-down, create, change, cancel,
#  change limit in hours, booking text)
TREATMENTS = [
    (
        1,
        "Undersökning",
        "Undersökning med röntgen",
        45,
        0,
        5,
        1,
        1,
        1,
        24,
        "Webbokning: undersökning",
    ),
    (
        2,
        "Akut tandvärk",
        "Akut besök vid tandvärk eller skada",
        30,
        0,
        5,
        1,
        0,
        1,
        2,
        "Webbokning: akut",
    ),
    (
        3,
        "Lagning",
        "Lagning av hål eller trasig fyllning",
        60,
        5,
        10,
        1,
        1,
        1,
        24,
        "Webbokning: lagning",
    ),
    (
        4,
        "Implantatkonsultation",
        "Konsultation inför implantat",
        45,
        0,
        5,
        1,
        1,
        1,
        48,
        "Webbokning: implantat",
    ),
    (
        5,
        "Tandstensborttagning",
        "Tandstensborttagning hos tandhygienist",
        45,
        0,
        5,
        1,
        1,
        1,
        24,
        "Webbokning: tandsten",
    ),
    (
        6,
        "Barnundersökning",
        "Undersökning för barn och unga",
        30,
        0,
        5,
        1,
        1,
        1,
        24,
        "Webbokning: barn",
    ),
    (
        7,
        "Blekning, konsultation",
        "Konsultation inför tandblekning",
        30,
        0,
        0,
        1,
        1,
        1,
        24,
        "Webbokning: blekning",
    ),
    (8, "Rotfyllning", "Bokas av kliniken", 90, 10, 10, 0, 0, 0, 48, None),
]
DENTIST_SETS = [(1, 2, 3), (1, 2, 3), (2,), (1, 4)]
HYGIENIST_SETS = [(1, 5, 6), (5, 6), (7,)]

# A clinician's day: free ranges as (start, end) minutes after midnight. Lunch 12–13.
DAY_TEMPLATES = [
    [(480, 600), (630, 720), (780, 900), (930, 1020)],
    [(480, 720), (780, 960)],
    [(540, 690), (810, 1020)],
    [(480, 570), (840, 990)],
    [],
]
SATURDAY = [(540, 780)]


@dataclass(frozen=True)
class DemoSpec:
    clinics: int = 4
    clinicians_per_clinic: int = 4
    days: int = 42
    start: date | None = None
    bad_rows: bool = False
    seed: int = 7


@dataclass
class DemoOpus:
    """What was written, as DataFrames with Opus's column names."""

    clinics: pd.DataFrame
    clinicians: pd.DataFrame
    clinician_clinics: pd.DataFrame
    treatments: pd.DataFrame
    free_ranges: pd.DataFrame
    free_range_treatments: pd.DataFrame
    patients: pd.DataFrame
    appointments: pd.DataFrame
    groups: dict[str, str | None] = field(default_factory=dict)
    """Grupp per ClinicID, for seeding the operator's settings."""
    not_added: set[int] = field(default_factory=set)
    """Clinicians the operator has (deliberately) not added."""


def generate(spec: DemoSpec = DemoSpec()) -> DemoOpus:
    rng = np.random.default_rng(spec.seed)
    start = spec.start or date.today()
    clinics, groups = _clinics(spec.clinics)
    clinicians, memberships = _clinicians(spec, clinics, rng)
    ranges, links = _free_ranges(spec, clinicians, memberships, start, rng)
    patients = _patients(rng, 30 if spec.clinics <= len(TOWNS) else 0)
    appointments = _appointments(ranges, patients, rng)
    demo = DemoOpus(
        clinics=clinics,
        clinicians=clinicians,
        clinician_clinics=memberships,
        treatments=pd.DataFrame(TREATMENTS, columns=_TREATMENT_COLUMNS),
        free_ranges=ranges,
        free_range_treatments=links,
        patients=patients,
        appointments=appointments,
        groups=groups,
    )
    if spec.bad_rows:
        _add_bad_rows(demo, start)
    return demo


def write(demo: DemoOpus, dbapi_connection, dialect: Dialect) -> None:
    """Create the schema and load ``demo`` (row versions included) in bulk."""
    create_schema(dbapi_connection, dialect, row_version_triggers=False)
    cursor = dbapi_connection.cursor()
    if hasattr(cursor, "fast_executemany"):
        cursor.fast_executemany = True
    for table, frame in [
        ("OnlineClinic", demo.clinics),
        ("OnlineClinician", demo.clinicians),
        ("OnlineClinicianClinic", demo.clinician_clinics),
        ("OnlineTreatment", demo.treatments),
        ("OnlineFreeRange", demo.free_ranges),
        ("OnlineFreeRangeTreatment", demo.free_range_treatments),
        ("OnlinePatient", demo.patients),
        ("OnlineAppointment", demo.appointments),
    ]:
        _insert(cursor, table, frame)
    dbapi_connection.commit()
    versions = [
        demo.free_ranges["RowVersion"].max(),
        demo.patients["RowVersion"].max(),
        demo.appointments["RowVersion"].max(),
    ]
    set_row_version_counter(
        dbapi_connection, dialect, int(max((v for v in versions if pd.notna(v)), default=0))
    )
    set_identity_counters(dbapi_connection, dialect)
    create_row_version_triggers(dbapi_connection, dialect)


def _insert(cursor, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    columns = ", ".join(frame.columns)
    placeholders = ", ".join("?" for _ in frame.columns)
    values = [_plain(frame[c]) for c in frame.columns]
    cursor.executemany(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", list(zip(*values, strict=True))
    )


def _plain(series: pd.Series) -> list:
    """Python values a DB-API driver accepts: text times as Opus keeps them, None for gaps."""
    if pd.api.types.is_datetime64_any_dtype(series):
        text = series.dt.strftime("%Y-%m-%d %H:%M:%S")
        return [None if pd.isna(v) else v for v in text.tolist()]
    return [
        None if pd.isna(v) else (int(v) if isinstance(v, np.integer) else v)
        for v in series.tolist()
    ]


# -- the chain ---------------------------------------------------------------------------

_TREATMENT_COLUMNS = [
    "TreatmentID",
    "Name",
    "Description",
    "Duration",
    "WarmUpDuration",
    "CoolDownDuration",
    "CreateInWeb",
    "ChangeInWeb",
    "CancelInWeb",
    "ChangeInWebLimit",
    "BookingText",
]


def _clinics(count: int) -> tuple[pd.DataFrame, dict[str, str | None]]:
    rows = list(TOWNS[:count])
    for n in range(len(rows), count):
        rows.append(
            (
                f"K{n + 1:04d}",
                f"Tandmottagningen {n + 1}",
                f"Storgatan {n + 1}",
                "111 22",
                "Stockholm",
                "08-123 45 67",
                "Stockholm",
            )
        )
    frame = pd.DataFrame(
        [r[:6] for r in rows],
        columns=["ClinicID", "Name", "Address1", "PostalCode", "City", "Phone"],
    )
    frame["Email"] = [f"{r[0].lower()}@tandmottagningen.example" for r in rows]
    return frame, {r[0]: r[6] for r in rows}


def _clinicians(
    spec: DemoSpec, clinics: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    count = len(clinics) * spec.clinicians_per_clinic
    ids = np.arange(1, count + 1)
    hygienist = (ids - 1) % spec.clinicians_per_clinic >= max(
        1, spec.clinicians_per_clinic * 6 // 10
    )
    clinicians = pd.DataFrame(
        {
            "ClinicianID": ids,
            "FirstName": rng.choice(FIRST_NAMES, count),
            "LastName": rng.choice(LAST_NAMES, count),
            "Title": np.where(hygienist, "Tandhygienist", "Tandläkare"),
            "Active": 1,
        }
    )
    memberships = pd.DataFrame(
        {
            "ClinicianID": ids,
            "ClinicID": np.repeat(clinics["ClinicID"].to_numpy(), spec.clinicians_per_clinic),
        }
    )
    if len(clinics) >= 2:  # one dentist also works a day a week at the second clinic
        memberships.loc[len(memberships)] = [1, clinics["ClinicID"].iloc[1]]
    return clinicians, memberships


def _free_ranges(
    spec: DemoSpec,
    clinicians: pd.DataFrame,
    memberships: pd.DataFrame,
    start: date,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    days = pd.date_range(start, periods=spec.days, freq="D")
    home = memberships.drop_duplicates("ClinicianID").set_index("ClinicianID")["ClinicID"]
    n_clinicians, n_days = len(clinicians), len(days)
    # Choose a template per clinician-day, weekdays only; then explode to ranges.
    template = rng.integers(0, len(DAY_TEMPLATES), size=(n_clinicians, n_days))
    weekday = np.asarray(days.day_of_week < 5)
    starts, ends, who, when = [], [], [], []
    for t, ranges in enumerate(DAY_TEMPLATES):
        ci, di = np.nonzero((template == t) & weekday)
        for begin, end in ranges:
            starts.append(begin + np.zeros(len(ci), np.int64))
            ends.append(end + np.zeros(len(ci), np.int64))
            who.append(ci)
            when.append(di)
    # A few Saturday ranges: the first clinician of each clinic, every other Saturday.
    saturdays = np.flatnonzero(days.day_of_week == 5)[::2]
    firsts = np.flatnonzero(
        (clinicians["ClinicianID"].to_numpy() - 1) % spec.clinicians_per_clinic == 0
    )
    for begin, end in SATURDAY:
        ci, di = np.repeat(firsts, len(saturdays)), np.tile(saturdays, len(firsts))
        starts.append(begin + np.zeros(len(ci), np.int64))
        ends.append(end + np.zeros(len(ci), np.int64))
        who.append(ci)
        when.append(di)
    ci, di = np.concatenate(who), np.concatenate(when)
    order = np.lexsort((np.concatenate(starts), di, ci))
    ci, di = ci[order], di[order]
    day_start = days.to_numpy()[di]
    clinician_ids = clinicians["ClinicianID"].to_numpy()[ci]
    n = len(ci)
    ranges = pd.DataFrame(
        {
            "FreeRangeID": np.arange(1, n + 1),
            "ClinicID": home.loc[clinician_ids].to_numpy(),
            "ClinicianID": clinician_ids,
            "StartTime": day_start
            + pd.to_timedelta(np.concatenate(starts)[order], unit="min").to_numpy(),
            "EndTime": day_start
            + pd.to_timedelta(np.concatenate(ends)[order], unit="min").to_numpy(),
            "RowVersion": np.arange(1, n + 1),
        }
    )
    hygienist = (clinicians["Title"] == "Tandhygienist").to_numpy()[ci]
    set_choice = np.where(
        hygienist, rng.integers(0, len(HYGIENIST_SETS), n), rng.integers(0, len(DENTIST_SETS), n)
    )
    link_ids, link_treatments = [], []
    for is_hygienist, sets in ((False, DENTIST_SETS), (True, HYGIENIST_SETS)):
        for s, treatments in enumerate(sets):
            rows = np.flatnonzero((hygienist == is_hygienist) & (set_choice == s))
            link_ids.append(np.repeat(ranges["FreeRangeID"].to_numpy()[rows], len(treatments)))
            link_treatments.append(np.tile(np.array(treatments), len(rows)))
    links = pd.DataFrame(
        {"FreeRangeID": np.concatenate(link_ids), "TreatmentID": np.concatenate(link_treatments)}
    )
    return ranges, links.sort_values(["FreeRangeID", "TreatmentID"], ignore_index=True)


def _patients(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """Synthetic patients. Personal numbers are well-formed (Luhn) but made up."""
    rows = []
    for i in range(count):
        born = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 65)))
        # 000 is never issued; drawn as before (the demo data stay as they were), then 001.
        serial = f"{int(rng.integers(0, 1000)) or 1:03d}"
        body = born.strftime("%y%m%d") + serial
        number = born.strftime("%Y%m%d") + serial + str(luhn_check_digit(body))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        rows.append(
            (
                i + 1,
                number,
                first,
                last,
                f"Exempelvägen {i + 1}",
                None,
                "753 20",
                "Uppsala",
                f"{first.lower()}.{last.lower()}@example.se".replace("å", "a")
                .replace("ä", "a")
                .replace("ö", "o"),
                f"070-{int(rng.integers(1000000, 9999999))}",
                i + 1,
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "PatientID",
            "PersonalNumber",
            "FirstName",
            "LastName",
            "Address1",
            "Address2",
            "PostalCode",
            "City",
            "Email",
            "MobilePhone",
            "RowVersion",
        ],
    )


def _appointments(
    ranges: pd.DataFrame, patients: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Reception's bookings: 45 minutes just before some free ranges, where the
    clinician has no other free range (an appointment is never inside free time)."""
    columns = [
        "AppointmentID",
        "ClinicID",
        "ClinicianID",
        "TreatmentID",
        "PatientID",
        "StartTime",
        "EndTime",
        "BookingText",
        "Status",
        "IdempotencyKey",
        "RowVersion",
    ]
    if patients.empty:
        return pd.DataFrame(columns=columns)
    previous_end = ranges.groupby("ClinicianID")["EndTime"].shift(1)
    room = (ranges["StartTime"] - previous_end).fillna(pd.Timedelta(days=1)) >= pd.Timedelta(
        minutes=45
    )
    candidates = ranges[room & (ranges["StartTime"].dt.hour >= 9)]
    picks = candidates.sample(n=min(40, len(candidates)), random_state=int(rng.integers(0, 2**31)))
    n = len(picks)
    frame = pd.DataFrame(
        {
            "AppointmentID": np.arange(1, n + 1),
            "ClinicID": picks["ClinicID"].to_numpy(),
            "ClinicianID": picks["ClinicianID"].to_numpy(),
            "TreatmentID": 1,
            "PatientID": rng.choice(patients["PatientID"].to_numpy(), n),
            "StartTime": (picks["StartTime"] - pd.Timedelta(minutes=45)).to_numpy(),
            "EndTime": picks["StartTime"].to_numpy(),
            "BookingText": "Bokad i receptionen",
            "Status": "booked",
            "IdempotencyKey": None,
            "RowVersion": ranges["RowVersion"].max() + np.arange(1, n + 1),
        }
    )
    return frame[columns]


def _add_bad_rows(demo: DemoOpus, start: date) -> None:
    """Rows a live Opus database can hold and the sync must refuse, each for one reason."""
    ranges, links = demo.free_ranges, demo.free_range_treatments
    next_id, next_version = (
        int(ranges["FreeRangeID"].max()) + 1,
        int(ranges["RowVersion"].max()) + 1000,
    )
    day = datetime.combine(
        start + timedelta(days=(7 - start.weekday()) % 7 or 7), datetime.min.time()
    )
    first = ranges[ranges["StartTime"] >= day].iloc[0]  # a range next week, safely in the window
    substitute = int(demo.clinicians["ClinicianID"].max()) + 1
    demo.clinicians.loc[len(demo.clinicians)] = [substitute, "Vera", "Vikarie", "Tandläkare", 1]
    demo.clinician_clinics.loc[len(demo.clinician_clinics)] = [substitute, first["ClinicID"]]
    demo.not_added.add(substitute)
    at = lambda h, m=0: day + timedelta(hours=h, minutes=m)  # noqa: E731
    bad = [
        # (clinic, clinician, start, end, treatments)
        (first["ClinicID"], None, at(7), at(7, 30), (1,)),  # clinician missing
        (first["ClinicID"], int(first["ClinicianID"]), at(18), at(17), (1,)),  # end before start
        (
            first["ClinicID"],
            int(first["ClinicianID"]),
            first["StartTime"] + timedelta(minutes=30),
            first["EndTime"] + timedelta(minutes=30),
            (1,),
        ),  # overlaps
        (first["ClinicID"], 9999, at(8), at(9), (1,)),  # unknown clinician
        (first["ClinicID"], substitute, at(8), at(11), (1, 2)),  # not an added practitioner
        (first["ClinicID"], int(first["ClinicianID"]), at(19), at(20), (999,)),  # unknown treatment
        (first["ClinicID"], int(first["ClinicianID"]), at(20), at(21), ()),  # no treatment
        ("NOPE", int(first["ClinicianID"]), at(21), at(22), (1,)),  # unknown clinic
    ]
    new_ranges, new_links = [], []
    for offset, (clinic, clinician, begin, end, treatments) in enumerate(bad):
        range_id = next_id + offset
        new_ranges.append((range_id, clinic, clinician, begin, end, next_version + offset))
        new_links.extend((range_id, t) for t in treatments)
    demo.free_ranges = pd.concat(
        [ranges, pd.DataFrame(new_ranges, columns=ranges.columns).astype({"ClinicianID": "Int64"})],
        ignore_index=True,
    )
    demo.free_range_treatments = pd.concat(
        [links, pd.DataFrame(new_links, columns=links.columns)], ignore_index=True
    )
    demo.treatments.loc[len(demo.treatments)] = [
        99,
        "Trasig mall",
        None,
        0,
        0,
        0,
        1,
        1,
        1,
        24,
        None,
    ]
