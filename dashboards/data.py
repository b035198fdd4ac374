"""The tables behind the charts, read from the flow's daily tables for one tenant.

Every function takes the tenant and the :class:`Filters` and returns a DataFrame whose
columns are what the chart draws and what the CSV/Parquet export holds. The clinic
filter applies to booking figures only: a visit starts before any clinic is chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from connectors.store.models import (
    VISIT_FUNNEL,
    Clinic,
    StatsBookingDaily,
    StatsCampaignDaily,
    StatsDeviceDaily,
    StatsFunnelDaily,
    StatsSourceDaily,
    StatsUtilisationDaily,
    StatsVisitsDaily,
)
from dashboards.waitlist_data import refilled

WEEKDAYS = ("mån", "tis", "ons", "tor", "fre", "lör", "sön")
MAX_RANGE = timedelta(days=366 * 2)


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    clinic_id: int | None = None


def _frame(session: Session, query: Select) -> pd.DataFrame:
    result = session.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _days(model, tenant_id: int, f: Filters):
    return (model.tenant_id == tenant_id, model.day >= f.start, model.day <= f.end)


def _clinic(model, f: Filters):
    return (model.clinic_id == f.clinic_id,) if f.clinic_id is not None else ()


def visits(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
    m = StatsVisitsDaily
    query = (
        select(m.day.label("dag"), m.pageviews.label("sidvisningar"), m.visits.label("besok"),
               m.visitors.label("besokare"))
        .where(*_days(m, tenant_id, f))
        .order_by(m.day)
    )  # fmt: skip
    return _frame(session, query)


def funnel(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
    m = StatsFunnelDaily
    query = (
        select(m.step.label("steg"), func.sum(m.visitors).label("besokare"))
        .where(*_days(m, tenant_id, f))
        .group_by(m.step)
    )
    frame = _frame(session, query).set_index("steg").reindex(VISIT_FUNNEL, fill_value=0)
    frame = frame.reset_index().astype({"besokare": "int64"})
    frame.insert(0, "ordning", range(1, len(frame) + 1))
    first = frame["besokare"].iloc[0]
    frame["andel"] = (frame["besokare"] / first).round(4) if first else 0.0
    return frame


def conversion(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
    """Per day: visitors, those who reached the confirmation, and the share."""
    m = StatsFunnelDaily
    query = (
        select(m.day.label("dag"), m.step, m.visitors)
        .where(*_days(m, tenant_id, f), m.step.in_(("start", "bekraftad")))
        .order_by(m.day)
    )
    frame = _frame(session, query)
    if frame.empty:
        return pd.DataFrame(columns=["dag", "besokare", "bekraftade", "konvertering"])
    wide = frame.pivot_table(index="dag", columns="step", values="visitors", aggfunc="sum")
    wide = wide.reindex(columns=["start", "bekraftad"], fill_value=0).fillna(0)
    out = pd.DataFrame(
        {
            "dag": wide.index,
            "besokare": wide["start"].astype("int64").to_numpy(),
            "bekraftade": wide["bekraftad"].astype("int64").to_numpy(),
        }
    )
    out["konvertering"] = (out["bekraftade"] / out["besokare"].where(out["besokare"] > 0)).round(4)
    return out.fillna({"konvertering": 0.0})


def _visits_by(model, column, name: str) -> Callable[[Session, int, Filters], pd.DataFrame]:
    def table(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
        query = (
            select(getattr(model, column).label(name), func.sum(model.visits).label("besok"),
                   func.sum(model.visitors).label("besokare"))
            .where(*_days(model, tenant_id, f))
            .group_by(getattr(model, column))
            .order_by(func.sum(model.visits).desc(), getattr(model, column))
        )  # fmt: skip
        return _frame(session, query).astype({"besok": "int64", "besokare": "int64"})

    return table


sources = _visits_by(StatsSourceDaily, "source", "kalla")
devices = _visits_by(StatsDeviceDaily, "device", "enhet")


def channels(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
    m = StatsBookingDaily
    query = (
        select(m.day.label("dag"), m.channel.label("kanal"), func.sum(m.booked).label("bokade"),
               func.sum(m.rebooked).label("ombokade"), func.sum(m.cancelled).label("avbokade"),
               func.sum(m.conflicts).label("konflikter"),
               func.sum(m.lead_time_minutes).label("ledtid_minuter"))
        .where(*_days(m, tenant_id, f), *_clinic(m, f))
        .group_by(m.day, m.channel)
        .order_by(m.day, m.channel)
    )  # fmt: skip
    frame = _frame(session, query)
    counts = ["bokade", "ombokade", "avbokade", "konflikter", "ledtid_minuter"]
    frame = frame.astype(dict.fromkeys(counts, "int64"))
    made = frame["bokade"] + frame["ombokade"]
    frame["ledtid_timmar_medel"] = (frame["ledtid_minuter"] / 60 / made.where(made > 0)).round(1)
    return frame.drop(columns="ledtid_minuter")


def cancellations(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
    m = StatsBookingDaily
    query = (
        select(m.day.label("dag"), func.sum(m.booked + m.rebooked).label("bokade"),
               func.sum(m.cancelled).label("avbokade"))
        .where(*_days(m, tenant_id, f), *_clinic(m, f))
        .group_by(m.day)
        .order_by(m.day)
    )  # fmt: skip
    frame = _frame(session, query).astype({"bokade": "int64", "avbokade": "int64"})
    rate = frame["avbokade"] / frame["bokade"].where(frame["bokade"] > 0)
    frame["avbokningsgrad"] = rate.round(4)
    return frame


def campaigns(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
    m = StatsCampaignDaily
    query = (
        select(m.campaign_code.label("kampanjkod"), func.sum(m.bookings).label("bokningar"))
        .where(*_days(m, tenant_id, f), *_clinic(m, f))
        .group_by(m.campaign_code)
        .order_by(func.sum(m.bookings).desc(), m.campaign_code)
    )
    return _frame(session, query).astype({"bokningar": "int64"})


def utilisation(session: Session, tenant_id: int, f: Filters) -> pd.DataFrame:
    """Weekday × hour: booked minutes over published minutes, over the whole range."""
    m = StatsUtilisationDaily
    query = select(m.day, m.hour, m.published_minutes, m.booked_minutes).where(
        *_days(m, tenant_id, f), *_clinic(m, f)
    )
    frame = _frame(session, query)
    columns = ["veckodag", "timme", "publicerade_minuter", "bokade_minuter", "belaggning"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame["veckodag"] = [WEEKDAYS[d.weekday()] for d in frame["day"]]
    out = (
        frame.groupby(["veckodag", "hour"], sort=False)[["published_minutes", "booked_minutes"]]
        .sum()
        .reset_index()
        .rename(
            columns={
                "hour": "timme",
                "published_minutes": "publicerade_minuter",
                "booked_minutes": "bokade_minuter",
            }
        )
    )
    published = out["publicerade_minuter"]
    out["belaggning"] = (out["bokade_minuter"] / published.where(published > 0)).round(4)
    out["ordning"] = out["veckodag"].map(WEEKDAYS.index)
    out = out.sort_values(["ordning", "timme"]).drop(columns="ordning")
    return out[columns].reset_index(drop=True)


TABLES: dict[str, Callable[[Session, int, Filters], pd.DataFrame]] = {
    "besok": visits,
    "tratt": funnel,
    "konvertering": conversion,
    "kallor": sources,
    "enheter": devices,
    "kanaler": channels,
    "avbokningar": cancellations,
    "kampanjkoder": campaigns,
    "belaggning": utilisation,
    "aterbud": refilled,  # återfyllda avbokningar (the waiting list)
}
"""URL name → table. The names are the exports' file names too."""


def clinics(session: Session, tenant_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Clinic.id, Clinic.name)
        .where(Clinic.tenant_id == tenant_id)
        .order_by(Clinic.display_order, Clinic.name)
    )
    return [(clinic_id, name) for clinic_id, name in rows]
