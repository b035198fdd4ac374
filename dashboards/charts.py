"""One Vega-Lite chart per table, built with Altair; the browser draws them with the
vega files in ``dashboards/static`` (served by the app, no CDN)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd

from booking_app.messages import t

WIDTH = 420
HEIGHT = 220


def _base(frame: pd.DataFrame, title: str) -> alt.Chart:
    # Dates as ISO text: Vega-Lite parses them, and JSON has no date type.
    if "dag" in frame.columns:
        frame = frame.assign(dag=frame["dag"].astype(str))
    return alt.Chart(frame, title=title, width=WIDTH, height=HEIGHT)


def visits(frame: pd.DataFrame, lang: str) -> alt.Chart:
    long = frame.melt("dag", ["sidvisningar", "besok", "besokare"], "matt", "antal")
    long["matt"] = long["matt"].map(
        {k: t(f"stats_{k}", lang) for k in ("sidvisningar", "besok", "besokare")}
    )
    return (
        _base(long, t("stats_chart_besok", lang))
        .mark_line(point=True)
        .encode(
            x=alt.X("dag:T", title=t("stats_day", lang)),
            y=alt.Y("antal:Q", title=t("stats_count", lang)),
            color=alt.Color("matt:N", title=None),
        )
    )


def funnel(frame: pd.DataFrame, lang: str) -> alt.Chart:
    frame = frame.assign(namn=[t(f"stats_step_{s}", lang) for s in frame["steg"]])
    order = list(frame["namn"])
    return (
        _base(frame, t("stats_chart_tratt", lang))
        .mark_bar()
        .encode(
            y=alt.Y("namn:N", sort=order, title=None),
            x=alt.X("besokare:Q", title=t("stats_besokare", lang)),
        )
    )


def conversion(frame: pd.DataFrame, lang: str) -> alt.Chart:
    return (
        _base(frame, t("stats_chart_konvertering", lang))
        .mark_line(point=True)
        .encode(
            x=alt.X("dag:T", title=t("stats_day", lang)),
            y=alt.Y("konvertering:Q", title=t("stats_conversion", lang), axis=alt.Axis(format="%")),
        )
    )


def _bars(key: str, category: str, value: str) -> Callable[[pd.DataFrame, str], alt.Chart]:
    def chart(frame: pd.DataFrame, lang: str) -> alt.Chart:
        return (
            _base(frame.head(15), t(key, lang))
            .mark_bar()
            .encode(
                y=alt.Y(f"{category}:N", sort="-x", title=None),
                x=alt.X(f"{value}:Q", title=t(f"stats_{value}", lang)),
            )
        )

    return chart


def channels(frame: pd.DataFrame, lang: str) -> alt.Chart:
    frame = frame.assign(kanal=[t(f"stats_channel_{c}", lang) for c in frame["kanal"]])
    return (
        _base(frame, t("stats_chart_kanaler", lang))
        .mark_bar()
        .encode(
            x=alt.X("dag:T", title=t("stats_day", lang)),
            y=alt.Y("sum(bokade):Q", title=t("stats_bokade", lang)),
            color=alt.Color("kanal:N", title=None),
        )
    )


def cancellations(frame: pd.DataFrame, lang: str) -> alt.Chart:
    return (
        _base(frame, t("stats_chart_avbokningar", lang))
        .mark_line(point=True)
        .encode(
            x=alt.X("dag:T", title=t("stats_day", lang)),
            y=alt.Y(
                "avbokningsgrad:Q", title=t("stats_cancel_rate", lang), axis=alt.Axis(format="%")
            ),
        )
    )


def utilisation(frame: pd.DataFrame, lang: str) -> alt.Chart:
    return (
        _base(frame, t("stats_chart_belaggning", lang))
        .mark_rect()
        .encode(
            x=alt.X("timme:O", title=t("stats_hour", lang)),
            y=alt.Y("veckodag:O", sort=["mån", "tis", "ons", "tor", "fre", "lör", "sön"],
                    title=None),
            color=alt.Color("belaggning:Q", title=t("stats_utilisation", lang),
                            scale=alt.Scale(domain=[0, 1], scheme="blues")),
        )
    )  # fmt: skip


CHARTS: dict[str, Callable[[pd.DataFrame, str], alt.Chart]] = {
    "besok": visits,
    "tratt": funnel,
    "konvertering": conversion,
    "kallor": _bars("stats_chart_kallor", "kalla", "besok"),
    "enheter": _bars("stats_chart_enheter", "enhet", "besok"),
    "kanaler": channels,
    "avbokningar": cancellations,
    "kampanjkoder": _bars("stats_chart_kampanjkoder", "kampanjkod", "bokningar"),
    "belaggning": utilisation,
}


def refilled(frame: pd.DataFrame, lang: str) -> alt.Chart:
    """Återfyllda avbokningar: freed times and those refilled, per day."""
    long = frame.melt("dag", ["lediga_tider", "aterfyllda"], "matt", "antal")
    long["matt"] = long["matt"].map(
        {"lediga_tider": t("stats_freed", lang), "aterfyllda": t("stats_refilled", lang)}
    )
    return (
        _base(long, t("stats_chart_aterbud", lang))
        .mark_bar()
        .encode(
            x=alt.X("dag:T", title=t("stats_day", lang)),
            xOffset="matt:N",
            y=alt.Y("antal:Q", title=t("stats_count", lang)),
            color=alt.Color("matt:N", title=None),
        )
    )


CHARTS["aterbud"] = refilled


def spec(name: str, frame: pd.DataFrame, lang: str) -> dict[str, Any]:
    """The Vega-Lite specification (data inline) of the chart ``name``."""
    return CHARTS[name](frame, lang).to_dict()
