"""Uploaded images (practitioner photos, the tenant's logo): read from a size-limited
multipart form, recognised from their content alone, and re-encoded from the decoded
pixels, so that no metadata (EXIF, GPS, comments, colour profiles) and nothing but
pixels reaches the patient site. PNG, JPEG and WebP are taken; SVG (which can carry
script) and everything else is refused."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError
from python_multipart.exceptions import MultipartParseError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import Request as StarletteRequest

from booking_app import csrf
from booking_app.body import BodyTooLarge, received_body
from booking_app.forms import BadForm
from connectors.store.models import Image

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_SIDE = 2000  # pixels, width and height
FORMATS = {"PNG", "JPEG", "WEBP"}
MAX_TEXT_BYTES = 64 * 1024  # the other fields of an upload form (a practitioner's text)
_MULTIPART = "multipart/form-data"


class ImageRefused(Exception):
    """The upload is not an image we take; ``key`` is the message saying why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass
class Upload:
    fields: dict[str, str]
    image: bytes | None  # None: no file chosen
    error: str | None = None  # the body was too large: nothing else was read
    # The image re-encoded (content, type), or why it was refused. Done while reading,
    # before the route's write transaction: decoding and re-encoding 2 MiB of pixels
    # takes far too long to hold the store's write lock for.
    cleaned: tuple[bytes, str] | None = None
    refused: str | None = None


async def read_upload(request: Request) -> Upload:
    """The posted multipart form (file field ``image``), CSRF-checked. A body larger
    than an image of :data:`MAX_IMAGE_BYTES` and its form can be is not read further
    (``error``); a body that is not a multipart form raises :class:`BadForm`."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _MULTIPART:
        raise BadForm()
    try:
        body = await received_body(request, MAX_IMAGE_BYTES + MAX_TEXT_BYTES)
    except BodyTooLarge:
        return Upload({}, None, "admin_image_too_large")

    async def replay() -> dict:
        return {"type": "http.request", "body": bytes(body), "more_body": False}

    try:
        form = await StarletteRequest(request.scope, replay).form(
            max_files=1, max_fields=10, max_part_size=MAX_TEXT_BYTES
        )
    except (MultiPartException, MultipartParseError, UnicodeDecodeError):
        raise BadForm() from None
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    csrf.check(request, fields.get(csrf.FIELD))
    upload = form.get("image")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data:
        return Upload(fields, None)
    try:
        cleaned = await run_in_threadpool(clean_image, data)  # CPU: not on the event loop
    except ImageRefused as refused:
        return Upload(fields, data, refused=refused.key)
    return Upload(fields, data, cleaned=cleaned)


def clean_image(data: bytes) -> tuple[bytes, str]:
    """``data`` re-encoded from its pixels, with its content type: JPEG stays JPEG
    (photos), PNG and WebP become PNG (logos, transparency kept)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRefused("admin_image_too_large")
    try:
        with PILImage.open(io.BytesIO(data)) as probe:
            kind = probe.format
            size = probe.size
            probe.verify()  # the whole file, before any pixel is decoded
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("admin_image_type") from None
    except PILImage.DecompressionBombError:
        raise ImageRefused("admin_image_dimensions") from None
    if kind not in FORMATS:
        raise ImageRefused("admin_image_type")
    if size[0] > MAX_SIDE or size[1] > MAX_SIDE or 0 in size:
        raise ImageRefused("admin_image_dimensions")
    try:
        with PILImage.open(io.BytesIO(data)) as decoded:
            decoded.load()
            upright = ImageOps.exif_transpose(decoded)  # a phone photo's rotation
    except (OSError, SyntaxError, ValueError, PILImage.DecompressionBombError):
        raise ImageRefused("admin_image_type") from None
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    pixels = upright.convert("RGBA" if has_alpha and kind != "JPEG" else "RGB")
    # A new image from the raw pixels: nothing of the file's info (EXIF, ICC, text
    # chunks, XMP) comes along.
    clean = PILImage.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=88, optimize=True)
        return out.getvalue(), "image/jpeg"
    clean.save(out, "PNG", optimize=True)
    return out.getvalue(), "image/png"


UploadDep = Annotated[Upload, Depends(read_upload)]


def store_image(session: Session, tenant_id: int, upload: Upload) -> Image:
    """A new image row of the tenant from an upload's cleaned image (raises
    :class:`ImageRefused` for an upload that was refused, or has none)."""
    if upload.cleaned is None:
        raise ImageRefused(upload.refused or "admin_image_missing")
    content, content_type = upload.cleaned
    image = Image(
        tenant_id=tenant_id,
        content_type=content_type,
        data=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    session.add(image)
    session.flush()
    return image
