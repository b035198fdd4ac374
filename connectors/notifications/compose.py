"""From an outbox message to the e-mail or SMS the patient gets.

The tenant's template for the message's kind and channel is used when it renders;
otherwise (none written, or one that fails) the default text, in the booking's
language. Composing never fails on a template: a broken one is logged and the
default goes out instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from connectors.notifications import ics
from connectors.notifications.defaults import Text, default_text
from connectors.notifications.fields import Appointment, booking_link, merge_values
from connectors.notifications.offer import offer_values
from connectors.notifications.templates import TemplateFault, render

log = logging.getLogger(__name__)

TEMPLATED_KINDS = ("new", "rebook", "cancel", "reminder")
"""The kinds a tenant may write its own text for (the manual's three templates, and
the reminder)."""
MESSAGE_ID_DOMAIN = "opusdentalonline.com"


@dataclass(frozen=True)
class Outgoing:
    """One outbox message with everything needed to write it (plain values)."""

    message_id: int
    tenant_id: int
    channel: str  # email | sms
    kind: str  # code | new | rebook | cancel | conflict | reminder | offer
    recipient: str
    tenant_name: str
    site_url: str  # the tenant's booking site, e.g. https://klinik.opusdentalonline.com
    language: str = "sv"
    appointment: Appointment | None = None
    template: Text | None = None  # the tenant's own, for this kind and channel
    # The code of a code message; a reminder's signed link (made as it is sent).
    payload: dict = field(default_factory=dict)


def merge_fields(outgoing: Outgoing) -> dict[str, str]:
    values: dict[str, str] = {}
    if outgoing.appointment is not None:
        values = merge_values(
            outgoing.appointment, outgoing.site_url, outgoing.kind, outgoing.channel
        )
    if outgoing.kind == "reminder" and outgoing.payload.get("link"):
        values["link"] = str(outgoing.payload["link"])
    if outgoing.kind == "code":
        values["code"] = str(outgoing.payload.get("code", ""))
    if outgoing.kind == "offer":  # the waiting list's offer: its own link, until when
        values.update(offer_values(outgoing.payload, outgoing.site_url))
    if outgoing.kind == "conflict":
        # A conflicting rebooking leaves the patient's earlier time standing (write-back).
        values["original_stands"] = "ja" if outgoing.payload.get("original_stands") else ""
    return values


def _texts(outgoing: Outgoing, html: bool) -> tuple[str | None, str]:
    """(subject, body) from the tenant's template, else from the default."""
    values = merge_fields(outgoing)
    default = default_text(outgoing.kind, outgoing.channel, outgoing.language)
    own = outgoing.template if outgoing.kind in TEMPLATED_KINDS else None
    if own is not None:
        try:
            subject = own.subject or default.subject
            return (
                None if subject is None else render(subject, values),
                render(own.body, values, html=html),
            )
        except TemplateFault as exc:
            log.warning(
                "tenant %s: %s %s template unusable, sending the default text: %s",
                outgoing.tenant_id,
                outgoing.channel,
                outgoing.kind,
                exc,
            )
    subject = None if default.subject is None else render(default.subject, values)
    return subject, render(default.body, values, html=html)


def sms_text(outgoing: Outgoing) -> str:
    return _texts(outgoing, html=False)[1].strip()


@dataclass(frozen=True)
class Sender:
    """Whom an e-mail is from, and where answers go when no clinic address says."""

    address: str
    reply_to: str | None = None


def choose_sender(own: str | None, default: str, verified: Callable[[str], bool]) -> Sender:
    """The tenant's own address when ``verified`` says its domain is ours to send for;
    otherwise the default address (the tenant's name is the display name either way),
    with the tenant's address, if any, for answers. Mail From a domain whose SPF and
    DKIM we do not hold is spoofing, whatever the operator typed or the store holds."""
    if own and verified(own):
        return Sender(own)
    return Sender(default, reply_to=own or None)


def email_message(outgoing: Outgoing, sender: Sender, now: datetime) -> EmailMessage:
    """The whole e-mail: text and HTML alternatives, and for bookings, rebookings and
    cancellations a calendar file. ``sender`` comes from :func:`choose_sender`."""
    subject, text = _texts(outgoing, html=False)
    _, html_body = _texts(outgoing, html=True)
    message = EmailMessage()
    message["From"] = formataddr((outgoing.tenant_name, sender.address))
    message["To"] = outgoing.recipient
    # One line, however the template was written: a header cannot hold a line break.
    message["Subject"] = " ".join((subject or outgoing.tenant_name).split())[:200]
    message["Date"] = format_datetime(now)
    # The same id on every try: a server or client that sees it twice drops the copy.
    message["Message-ID"] = f"<outbox-{outgoing.message_id}@{MESSAGE_ID_DOMAIN}>"
    message["Auto-Submitted"] = "auto-generated"  # no autoreplies to it (RFC 3834)
    appointment = outgoing.appointment
    if appointment is not None and appointment.clinic_email:
        message["Reply-To"] = formataddr((appointment.clinic_name, appointment.clinic_email))
    elif sender.reply_to:
        message["Reply-To"] = formataddr((outgoing.tenant_name, sender.reply_to))
    message.set_content(text)
    message.add_alternative(_html_document(html_body, outgoing.language), subtype="html")
    if appointment is not None and outgoing.kind in ("new", "rebook", "cancel"):
        cancelled = outgoing.kind == "cancel"
        message.add_attachment(
            ics.calendar(
                appointment,
                link=booking_link(outgoing.site_url, appointment.reference),
                now=now,
                cancelled=cancelled,
            ),
            maintype="text",
            subtype="calendar",
            filename="avbokning.ics" if cancelled else "bokning.ics",
            params={"method": "CANCEL" if cancelled else "PUBLISH", "charset": "utf-8"},
        )
    # After the parts: setting content clears the Content-* headers set before it.
    message["Content-Language"] = outgoing.language
    return message


def _html_document(body: str, language: str) -> str:
    # Inline style only: mail clients drop <style> and never load our stylesheet.
    return (
        f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: sans-serif; line-height: 1.5">\n'
        f"<p>{body}</p>\n</body></html>\n"
    )
