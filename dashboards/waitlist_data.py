"""*Återfyllda avbokningar*: per day, the times that came free (cancellations and
moves) and how many of them the waiting list booked again, and how soon. Read from
the waiting list's own tables (connectors.store.waitlist), for one tenant; the clinic
filter applies."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.orm import Session

from connectors.store.waitlist import refilled_rows

STOCKHOLM = ZoneInfo("Europe/Stockholm")
COLUMNS = ["dag", "lediga_tider", "erbjudanden", "aterfyllda", "andel_aterfyllda",
           "minuter_till_aterfylld"]  # fmt: skip


def refilled(session: Session, tenant_id: int, f) -> pd.DataFrame:
    """One row per day with a freed time: freed, offers made, refilled, the share
    refilled, and the median minutes from freed to refilled."""
    start = datetime.combine(f.start, time(), STOCKHOLM)
    end = datetime.combine(f.end + timedelta(days=1), time(), STOCKHOLM)
    rows = refilled_rows(session, tenant_id, start, end, f.clinic_id)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})
    frame = pd.DataFrame(
        [
            (
                freed_at.astimezone(STOCKHOLM).date(),
                offers,
                refilled_at is not None,
                None if refilled_at is None else (refilled_at - freed_at).total_seconds() / 60,
            )
            for freed_at, _, _, _, _, offers, refilled_at in rows
        ],
        columns=["dag", "offers", "refilled", "minutes"],
    )
    out = frame.groupby("dag").agg(
        lediga_tider=("offers", "size"),
        erbjudanden=("offers", "sum"),
        aterfyllda=("refilled", "sum"),
        minuter_till_aterfylld=("minutes", "median"),
    )
    out = out.reset_index().astype(
        {"lediga_tider": "int64", "erbjudanden": "int64", "aterfyllda": "int64"}
    )
    out["andel_aterfyllda"] = (out["aterfyllda"] / out["lediga_tider"]).round(4)
    out["minuter_till_aterfylld"] = out["minuter_till_aterfylld"].round(1)
    return out[COLUMNS]
