"""References to secrets, as the store keeps them: ``env:NAME`` (an environment
variable) or ``prefect-secret:NAME`` (a Prefect Secret block). The store never holds
the secret itself (an Opus connection string, a marketplace token), only where it is."""

from __future__ import annotations

import os

KINDS = ("env", "prefect-secret")


class UnresolvedSecret(LookupError):
    """The reference points nowhere; the message says where it looked (never the
    reference's value beyond its name)."""


def resolve_secret(ref: str, what: str) -> str:
    """The secret ``ref`` points at; ``what`` names it in messages."""
    kind, _, name = ref.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if not value:
            raise UnresolvedSecret(f"environment variable {name} ({what}) is not set")
        return value
    if kind == "prefect-secret":
        from prefect.blocks.system import Secret  # Prefect only when a block is used

        try:
            return Secret.load(name).get()
        except ValueError as exc:
            raise UnresolvedSecret(f"Prefect Secret block {name!r} ({what}) not found") from exc
    raise UnresolvedSecret(f"unknown {what} reference; use env:NAME or prefect-secret:NAME")
