"""A request's body, read once, size-limited, before any write transaction.

A body arrives at the client's pace: a slow uplink (or a deliberate trickle) can take
seconds over a 2 MiB logo. Read inside a write transaction, that time holds SQLite's
one write lock and every tenant's writers queue behind it. So every reader of a body
goes through :func:`received_body`, which keeps what it read in the request's state,
and :func:`booking_app.deps.get_write_session` waits for the whole body (with
:data:`MAX_BODY_BYTES`) before it opens its transaction. Routes still declare their
form first, so that their own smaller limit is the one that applies.
"""

from __future__ import annotations

from fastapi import Request

MAX_BODY_BYTES = 2 * 1024 * 1024 + 64 * 1024
"""The largest body any page takes: an image upload and its form's other fields."""

_STATE_KEY = "received_body"
_REFUSED = b""  # kept for a body refused as too large: nothing more is read of it


class BodyTooLarge(Exception):
    """The body is longer than the reader's limit (declared or read)."""


async def received_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, at most ``max_bytes`` (else :class:`BodyTooLarge`): read from
    the client the first time, from the request's state after that."""
    state = request.scope.setdefault("state", {})
    if _STATE_KEY in state:
        body, refused = state[_STATE_KEY]
        if refused or len(body) > max_bytes:
            raise BodyTooLarge()
        return body
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        state[_STATE_KEY] = (_REFUSED, True)
        raise BodyTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:  # a chunked body has no length to check first
            state[_STATE_KEY] = (_REFUSED, True)
            raise BodyTooLarge()
    state[_STATE_KEY] = (bytes(body), False)
    return bytes(body)


async def body_received(request: Request) -> None:
    """Wait for the rest of the body unless a reader has had it already (read, or
    refused as too large: a refused body is not read further)."""
    if _STATE_KEY not in request.scope.setdefault("state", {}):
        await received_body(request, MAX_BODY_BYTES)
