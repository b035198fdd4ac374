"""The dashboard page and the exports of every table behind its charts."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup

from booking_app.admin.pages import TABS
from booking_app.deps import LangDep, SessionDep
from booking_app.templating import templates as booking_templates
from dashboards import STATIC_PATH, charts, data
from dashboards.access import StatsReaderDep

router = APIRouter(prefix="/admin/{tenant_id}/statistik")

# The booking app's templates (the operator layout) plus ours, with its helpers.
templates = Jinja2Templates(
    env=booking_templates.env.overlay(
        loader=ChoiceLoader(
            [FileSystemLoader(data.__file__.rsplit("/", 1)[0] + "/templates"),
             booking_templates.env.loader]
        )
    ),
    context_processors=booking_templates.context_processors,
)  # fmt: skip

DEFAULT_DAYS = 30
EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}


def filters(request: Request, clinics: list[tuple[int, str]]) -> data.Filters:
    """From ``?fran=&till=&klinik=``; a missing or odd value gives the default (the
    last 30 days, every clinic), never an error page."""
    tz = ZoneInfo(request.app.state.settings.timezone)
    today = request.app.state.clock().astimezone(tz).date()
    end = _date(request.query_params.get("till")) or today
    start = _date(request.query_params.get("fran")) or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        start, end = end, start
    start = max(start, end - data.MAX_RANGE)
    clinic = request.query_params.get("klinik", "")
    known = {cid for cid, _ in clinics}
    clinic_id = int(clinic) if clinic.isdigit() and int(clinic) in known else None
    return data.Filters(start, end, clinic_id)


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None


def _json(value: object) -> Markup:
    """JSON safe inside <script type="application/json">: no "<" can end the element."""
    text = json.dumps(value, ensure_ascii=False, default=str).replace("<", "\\u003c")
    return Markup(text)


def _has_data(frame: pd.DataFrame) -> bool:
    """Rows with any figure other than zero (the funnel lists its steps, zeros and all,
    for a period without visits: nothing to draw)."""
    # Sums may come back as objects (Decimal on PostgreSQL); names and days count as 0.
    figures = frame.drop(columns=["ordning"], errors="ignore")  # the funnel's step order
    figures = figures.apply(pd.to_numeric, errors="coerce").fillna(0)
    return bool(len(frame)) and bool(figures.to_numpy().any())


@router.get("")
def dashboard(
    request: Request, reader: StatsReaderDep, session: SessionDep, lang: LangDep
) -> Response:
    tenant_id = reader.tenant.id
    clinics = data.clinics(session, tenant_id)
    f = filters(request, clinics)
    query = {"fran": f.start.isoformat(), "till": f.end.isoformat()}
    if f.clinic_id is not None:
        query["klinik"] = str(f.clinic_id)
    if lang != "sv":
        query["lang"] = lang
    panels = []
    for name, table in data.TABLES.items():
        frame = table(session, tenant_id, f)
        panels.append(
            {
                "name": name,
                "title": f"stats_chart_{name}",
                "spec": _json(charts.spec(name, frame, lang)),
                "rows": len(frame),
                "has_data": _has_data(frame),
                "columns": list(frame.columns),
                "table": frame.head(50).to_dict("records"),
            }
        )
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "grant": reader,
            "tenant": reader.tenant,
            "operator": reader.operator,
            "tabs": TABS,
            "tab": "statistik",
            "filters": f,
            "clinics": clinics,
            "panels": panels,
            "export_query": query,
            "static": STATIC_PATH,
        },
    )


@router.get("/{name}.{kind}")
def export(
    request: Request, name: str, kind: str, reader: StatsReaderDep, session: SessionDep
) -> Response:
    if name not in data.TABLES or kind not in EXPORTS:
        raise HTTPException(status_code=404)
    f = filters(request, data.clinics(session, reader.tenant.id))
    frame = data.TABLES[name](session, reader.tenant.id, f)
    body = to_csv(frame) if kind == "csv" else to_parquet(frame)
    filename = f"{name}_{f.start.isoformat()}_{f.end.isoformat()}.{kind}"
    return Response(
        body,
        media_type=EXPORTS[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def to_csv(frame: pd.DataFrame) -> bytes:
    # UTF-8 with BOM: Excel (what most analysts open it in) then reads å, ä, ö right.
    return frame.to_csv(index=False).encode("utf-8-sig")


def to_parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()
