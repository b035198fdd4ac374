"""What a mail server or SMS gateway said when it would not take a message.

The outbox needs one distinction only: try again later (:class:`Transient`: down,
slow, busy, a temporary refusal) or never (:class:`Permanent`: this address or
number will not work). The reason is what operators read, so it is short, says who
refused, and never holds the message's text nor the address or number.
"""

from __future__ import annotations

from connectors.privacy import scrub


class DeliveryError(Exception):
    """The message did not go out. ``reason`` is for operators."""

    permanent = False

    def __init__(self, reason: str) -> None:
        # Servers echo what they were sent ("550 <anna@example.se>: no such user").
        reason = scrub(reason)
        super().__init__(reason)
        self.reason = reason[:500]


class Transient(DeliveryError):
    """Worth another try later."""


class Permanent(DeliveryError):
    """No retry will help (bad address, bad number, content refused)."""

    permanent = True
