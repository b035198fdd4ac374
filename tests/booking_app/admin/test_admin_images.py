"""*Behandlare* and the logo: uploads are recognised from their content, limited,
re-encoded without metadata, shown on the patient site at once, audited; another
tenant's practitioner answers 404."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage
from sqlalchemy import Engine, func, select

from connectors.store.db import session_scope
from connectors.store.models import (
    AuditEntry,
    Image,
    OpusDatabase,
    Practitioner,
    TenantSettings,
)
from tests.booking_app.admin.admin_pages import (
    csrf_token,
    log_in,
    operator,
    other_tenant,
    tenant_id,
)
from tests.booking_app.booking_steps import follow, get

A = "a@tandmottagningen.se"


def picture(kind: str = "JPEG", size: tuple[int, int] = (120, 90), **save) -> bytes:
    mode = "RGBA" if kind in ("PNG", "WEBP") else "RGB"
    image = PILImage.new(mode, size, (200, 30, 60, 128) if mode == "RGBA" else (200, 30, 60))
    out = io.BytesIO()
    image.save(out, kind, **save)
    return out.getvalue()


def with_exif() -> bytes:
    exif = PILImage.Exif()
    exif[0x013B] = "Hemlig Fotograf"  # Artist
    exif[0x010F] = "Telefonmärke"  # Make
    return picture("JPEG", exif=exif.tobytes())


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


@pytest.fixture
def own(booking_client, booking_store: Engine) -> int:
    tenant = tenant_id(booking_store)
    operator(booking_store, A, {tenant: "administrator"})
    assert log_in(booking_client, A).status_code == 303
    return tenant


def _token(client, path: str) -> str:
    return csrf_token(client.get(path))


def upload(client, path: str, data: bytes, name: str = "bild.jpg", **fields: str):
    # The token is the browser's (one cookie), so any of the tenant's pages shows it.
    token = _token(client, "/".join(path.split("/")[:3]) + "/behandlare")
    return client.post(
        path,
        data={"csrf_token": token, **fields},
        files={"image": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def _shown_practitioner(client) -> int:
    """A practitioner the patient site lists in the first clinic's first treatment."""
    page = get(client, "/boka")
    page = follow(client, next(a for a in page.links if a.href.startswith("/boka?clinic=")))
    page = follow(client, next(a for a in page.links if "treatment=" in a.href))
    href = next(a.href for a in page.links if "practitioner=" in a.href and "=any" not in a.href)
    return int(href.split("practitioner=")[1].split("&")[0])


def _practitioner_step(client) -> str:
    page = get(client, "/boka")
    page = follow(client, next(a for a in page.links if a.href.startswith("/boka?clinic=")))
    return follow(client, next(a for a in page.links if "treatment=" in a.href)).html


def _settings_of(engine: Engine, tenant: int) -> set[str]:
    with session_scope(engine) as session:
        return set(
            session.scalars(select(AuditEntry.setting).where(AuditEntry.tenant_id == tenant))
        )


def test_practitioner_photo_and_text_reach_the_patient_site_without_metadata(
    booking_client, booking_store: Engine, own: int
) -> None:
    pid = _shown_practitioner(booking_client)
    assert booking_client.get(f"/admin/{own}/behandlare").status_code == 200
    answer = upload(
        booking_client,
        f"/admin/{own}/behandlare/{pid}",
        with_exif(),
        name="portratt.svg",  # the name says nothing: the content is a JPEG
        info_text="Tandläkare sedan 2004.",
    )
    assert answer.status_code == 303, answer.text
    with session_scope(booking_store) as session:
        practitioner = session.get(Practitioner, pid)
        image = session.get(Image, practitioner.image_id)
        assert practitioner.info_text == "Tandläkare sedan 2004."
        assert image.content_type == "image/jpeg" and image.tenant_id == own
        data, image_id = image.data, image.id
    assert b"Exif" not in data and b"Hemlig" not in data
    with PILImage.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG" and stored.size == (120, 90)
        assert len(stored.getexif()) == 0
    step = _practitioner_step(booking_client)
    assert f'src="/bild/{image_id}"' in step and "Tandläkare sedan 2004." in step
    served = booking_client.get(f"/bild/{image_id}")
    assert served.status_code == 200 and served.content == data
    assert booking_client.get(f"/admin/{own}/bild/{image_id}").status_code == 200
    assert {f"practitioner {pid}.image_id", f"practitioner {pid}.info_text"} <= _settings_of(
        booking_store, own
    )

    # A new photo replaces the old one, whose address stops answering.
    assert (
        upload(booking_client, f"/admin/{own}/behandlare/{pid}", picture("PNG")).status_code == 303
    )
    assert booking_client.get(f"/bild/{image_id}").status_code == 404

    token = _token(booking_client, f"/admin/{own}/behandlare")
    removed = booking_client.post(
        f"/admin/{own}/behandlare/{pid}/ta-bort-bild",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    with session_scope(booking_store) as session:
        assert session.get(Practitioner, pid).image_id is None
        assert session.scalar(select(func.count()).select_from(Image)) == 0
    assert "/bild/" not in _practitioner_step(booking_client)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (SVG, "SVG"),
        (b"hej, det h\xc3\xa4r \xc3\xa4r ingen bild", "ingen PNG-, JPEG- eller WebP-bild"),
        (picture("GIF"), "ingen PNG-, JPEG- eller WebP-bild"),
        (picture("BMP"), "ingen PNG-, JPEG- eller WebP-bild"),
        (picture("PNG")[:60], "ingen PNG-, JPEG- eller WebP-bild"),  # cut short
        (picture("PNG", (2001, 10)), "2 000 × 2 000 pixlar"),
        (b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 100), "högst 2 MB"),
    ],
    ids=["svg", "text", "gif", "bmp", "truncated", "too-wide", "too-large"],
)
def test_refused_uploads_change_nothing(
    booking_client, booking_store: Engine, own: int, data: bytes, message: str
) -> None:
    pid = _shown_practitioner(booking_client)
    answer = upload(booking_client, f"/admin/{own}/behandlare/{pid}", data, name="bild.png")
    assert answer.status_code == 400
    assert message in answer.text
    with session_scope(booking_store) as session:
        assert session.get(Practitioner, pid).image_id is None
        assert session.scalar(select(func.count()).select_from(Image)) == 0
    assert _settings_of(booking_store, own) == set()


def test_another_tenants_practitioner_is_not_found(
    booking_client, booking_store: Engine, own: int
) -> None:
    other = other_tenant(booking_store)
    with session_scope(booking_store) as session:
        database = OpusDatabase(tenant_id=other, name="Annan", connection_ref="env:ANNAN")
        session.add(database)
        session.flush()
        practitioner = Practitioner(
            tenant_id=other, opus_database_id=database.id, opus_clinician_id=1, first_name="X"
        )
        session.add(practitioner)
        session.flush()
        theirs = practitioner.id
    answer = upload(booking_client, f"/admin/{own}/behandlare/{theirs}", picture(), info_text="x")
    assert answer.status_code == 404
    token = _token(booking_client, f"/admin/{own}/behandlare")
    removed = booking_client.post(
        f"/admin/{own}/behandlare/{theirs}/ta-bort-bild", data={"csrf_token": token}
    )
    assert removed.status_code == 404
    assert upload(booking_client, f"/admin/{own}/behandlare/x1", picture()).status_code == 404
    with session_scope(booking_store) as session:
        assert session.get(Practitioner, theirs).info_text is None


def test_an_upload_needs_the_csrf_token(booking_client, booking_store: Engine, own: int) -> None:
    pid = _shown_practitioner(booking_client)
    answer = booking_client.post(
        f"/admin/{own}/behandlare/{pid}",
        data={"csrf_token": "x" * 43},
        files={"image": ("a.jpg", picture(), "image/jpeg")},
    )
    assert answer.status_code == 403


def test_logo_is_reencoded_as_png_shown_on_the_front_page_and_removable(
    booking_client, booking_store: Engine, own: int
) -> None:
    path = f"/admin/{own}/media"
    missing = booking_client.post(
        f"{path}/logo",
        data={"csrf_token": _token(booking_client, path)},
        files={"image": ("", b"", "application/octet-stream")},
    )
    assert missing.status_code == 400 and "Välj en bildfil" in missing.text
    refused = upload(booking_client, f"{path}/logo", SVG, name="logo.svg")
    assert refused.status_code == 400 and "SVG" in refused.text
    answer = upload(booking_client, f"{path}/logo", picture("WEBP", (300, 80)), name="logo.webp")
    assert answer.status_code == 303
    with session_scope(booking_store) as session:
        logo_id = session.get(TenantSettings, own).logo_image_id
        image = session.get(Image, logo_id)
        assert image.content_type == "image/png"
        with PILImage.open(io.BytesIO(image.data)) as stored:
            assert (stored.format, stored.mode, stored.size) == ("PNG", "RGBA", (300, 80))
    assert f'src="/bild/{logo_id}"' in booking_client.get("/").text
    assert f"/admin/{own}/bild/{logo_id}" in booking_client.get(path).text
    assert "logo_image_id" in _settings_of(booking_store, own)
    removed = booking_client.post(
        f"{path}/logo/ta-bort",
        data={"csrf_token": _token(booking_client, path)},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert f"/bild/{logo_id}" not in booking_client.get("/").text
    assert booking_client.get(f"/bild/{logo_id}").status_code == 404


def test_an_analyst_sees_the_tab_but_cannot_upload(booking_client, booking_store: Engine) -> None:
    tenant = tenant_id(booking_store)
    operator(booking_store, "analys@tandmottagningen.se", {tenant: "analyst"})
    log_in(booking_client, "analys@tandmottagningen.se")
    page = booking_client.get(f"/admin/{tenant}/behandlare")
    assert page.status_code == 200 and 'type="file"' not in page.text
    pid = _shown_practitioner(booking_client)
    answer = upload(booking_client, f"/admin/{tenant}/behandlare/{pid}", picture())
    assert answer.status_code == 403
