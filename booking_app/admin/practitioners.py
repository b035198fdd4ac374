"""*Behandlare* (a photo and a text per practitioner) and the *Media* tab's logo.

Uploads go through :mod:`booking_app.admin.images`: recognised from their content,
size-limited, re-encoded. A replaced or removed image's row is deleted, so the patient
site stops serving it; the audit log keeps which image id was set when."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking_app.admin import tabs
from booking_app.admin.deps import AdminFormDep, ChangeGrantDep, Grant, GrantDep
from booking_app.admin.images import ImageRefused, UploadDep, store_image
from booking_app.admin.pages import saved, tab_page
from booking_app.deps import NowDep, SessionDep, WriteSessionDep
from connectors.store import audit
from connectors.store.models import Image, Practitioner

router = APIRouter(prefix="/admin/{tenant_id}")

MAX_PRACTITIONER_TEXT = 1000


def _practitioners(session: Session, tenant_id: int) -> list[Practitioner]:
    return list(
        session.scalars(
            select(Practitioner)
            .where(Practitioner.tenant_id == tenant_id, Practitioner.in_opus)
            .order_by(Practitioner.last_name, Practitioner.first_name, Practitioner.id)
        )
    )


def _practitioner(session: Session, grant: Grant, practitioner_id: str) -> Practitioner:
    """The tenant's practitioner by the URL's id; 404 for any other (another
    tenant's id looks exactly like one that does not exist)."""
    if not practitioner_id.isdigit() or len(practitioner_id) > 10:
        raise HTTPException(status_code=404)
    practitioner = session.get(Practitioner, int(practitioner_id))
    if practitioner is None or practitioner.tenant_id != grant.tenant.id:
        raise HTTPException(status_code=404)
    return practitioner


def _page(
    request: Request,
    grant: Grant,
    session: Session,
    errors: list[str] | None = None,
    texts: dict[int, str] | None = None,
) -> Response:
    practitioners = _practitioners(session, grant.tenant.id)
    return tab_page(
        request,
        "practitioners.html",
        grant,
        "behandlare",
        errors=errors,
        status_code=400 if errors else 200,
        practitioners=practitioners,
        texts={p.id: p.info_text or "" for p in practitioners} | (texts or {}),
        max_text=MAX_PRACTITIONER_TEXT,
    )


def _replace_image(session: Session, old_id: int | None) -> None:
    if old_id is not None:
        old = session.get(Image, old_id)
        if old is not None:
            session.delete(old)
            session.flush()


@router.get("/behandlare")
def practitioners(request: Request, grant: GrantDep, session: SessionDep) -> Response:
    return _page(request, grant, session)


@router.post("/behandlare/{practitioner_id}")
def save_practitioner(
    request: Request,
    practitioner_id: str,
    upload: UploadDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    practitioner = _practitioner(session, grant, practitioner_id)
    if upload.error:
        return _page(request, grant, session, [upload.error])
    text = upload.fields.get("info_text", "").replace("\r\n", "\n").strip()
    if len(text) > MAX_PRACTITIONER_TEXT:
        return _page(request, grant, session, ["admin_error_too_long"], {practitioner.id: text})
    values: dict[str, object] = {"info_text": text or None}
    old_image = practitioner.image_id
    if upload.image is not None:
        try:
            values["image_id"] = store_image(session, grant.tenant.id, upload).id
        except ImageRefused as refused:
            return _page(request, grant, session, [refused.key], {practitioner.id: text})
    audit.apply_changes(
        session, practitioner, values, tenant_id=grant.tenant.id, operator=grant.operator,
        now=now, prefix=f"practitioner {practitioner.id}.",
    )  # fmt: skip
    if "image_id" in values:
        _replace_image(session, old_image)
    return saved(grant, "behandlare")


@router.post("/behandlare/{practitioner_id}/ta-bort-bild")
def remove_practitioner_image(
    practitioner_id: str,
    form: AdminFormDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    practitioner = _practitioner(session, grant, practitioner_id)
    old_image = practitioner.image_id
    audit.apply_changes(
        session, practitioner, {"image_id": None}, tenant_id=grant.tenant.id,
        operator=grant.operator, now=now, prefix=f"practitioner {practitioner.id}.",
    )  # fmt: skip
    _replace_image(session, old_image)
    return saved(grant, "behandlare")


# -- the Media tab's logo ------------------------------------------------------------


@router.post("/media/logo")
def save_logo(
    request: Request,
    upload: UploadDep,
    grant: ChangeGrantDep,
    session: WriteSessionDep,
    now: NowDep,
) -> Response:
    error = upload.error or (None if upload.image else "admin_image_missing")
    settings = tabs.tenant_settings(session, grant)
    if error is None:
        try:
            image = store_image(session, grant.tenant.id, upload)
        except ImageRefused as refused:
            error = refused.key
    if error is not None:
        return tabs.media_page(request, grant, session, [error])
    old_image = settings.logo_image_id
    audit.apply_changes(
        session, settings, {"logo_image_id": image.id}, tenant_id=grant.tenant.id,
        operator=grant.operator, now=now,
    )  # fmt: skip
    _replace_image(session, old_image)
    return saved(grant, "media")


@router.post("/media/logo/ta-bort")
def remove_logo(
    form: AdminFormDep, grant: ChangeGrantDep, session: WriteSessionDep, now: NowDep
) -> Response:
    settings = tabs.tenant_settings(session, grant)
    old_image = settings.logo_image_id
    audit.apply_changes(
        session, settings, {"logo_image_id": None}, tenant_id=grant.tenant.id,
        operator=grant.operator, now=now,
    )  # fmt: skip
    _replace_image(session, old_image)
    return saved(grant, "media")


@router.get("/bild/{image_id}")
def image(image_id: str, grant: GrantDep, session: SessionDep) -> Response:
    """The tenant's image for the operator pages (which may run on another host than
    the tenant's patient site)."""
    if not image_id.isdigit() or len(image_id) > 10:
        raise HTTPException(status_code=404)
    row = session.get(Image, int(image_id))
    if row is None or row.tenant_id != grant.tenant.id:
        raise HTTPException(status_code=404)
    return Response(
        row.data,
        media_type=row.content_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
