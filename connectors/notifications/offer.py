"""The waiting list's offer message: an earlier time came free and is held for the
patient until a given time; the link takes it (or lets it go).

Its merge fields are the offered time's (the outbox message belongs to the held
booking) plus ``until`` (the hold's end, local clock) and the offer's own ``link``,
``<site>/tid/<signed token>``: short, so that the SMS stays one SMS. No tenant
template: the text is only these defaults, in the patient's language.
"""

from __future__ import annotations

from datetime import datetime

from opus_online.formatting import format_clock

OFFER_PATH = "/tid/{token}"
"""The offer's page on the booking site (booking_app.waitlist)."""

_WHERE = (
    "{{ date }} kl. {{ time }}\n"
    "{{ treatment }}{% if practitioner %} hos {{ practitioner }}{% endif %}\n"
    "{{ clinic_name }}{% if clinic_address %}, {{ clinic_address }}{% endif %}\n"
)
_WHERE_EN = (
    "{{ date }} at {{ time }}\n"
    "{{ treatment }}{% if practitioner %} with {{ practitioner }}{% endif %}\n"
    "{{ clinic_name }}{% if clinic_address %}, {{ clinic_address }}{% endif %}\n"
)

OFFER_TEXTS: dict[tuple[str, str, str], tuple[str | None, str]] = {
    # (kind, channel, language): (e-mail subject, body); defaults.DEFAULTS takes them in
    ("offer", "sms", "sv"): (
        None,
        "Tidigare tid {{ date }} {{ time }}, svara före {{ until }}: {{ link }}",
    ),
    ("offer", "sms", "en"): (
        None,
        "Earlier time {{ date }} {{ time }}, reply by {{ until }}: {{ link }}",
    ),
    ("offer", "email", "sv"): (
        "Ledig tidigare tid: {{ date }} kl. {{ time }}",
        "Hej {{ patient_name }}!\n\nEn tid tidigare än din bokade har blivit ledig hos "
        "{{ clinic_name }}:\n\n"
        + _WHERE
        + "\nVi håller den åt dig till kl. {{ until }}. Vill du ha den? Ta den här: {{ link }}"
        "\n\nDin nuvarande tid gäller tills du tar den nya.\n\nVänliga hälsningar\n"
        "{{ clinic_name }}\n",
    ),
    ("offer", "email", "en"): (
        "Earlier time free: {{ date }} at {{ time }}",
        "Dear {{ patient_name }},\n\nA time earlier than your appointment has become free at "
        "{{ clinic_name }}:\n\n"
        + _WHERE_EN
        + "\nWe hold it for you until {{ until }}. Would you like it? Take it here: {{ link }}"
        "\n\nYour present appointment stands until you take the new one.\n\nKind regards\n"
        "{{ clinic_name }}\n",
    ),
}


def offer_link(site_url: str, token: str) -> str:
    return site_url.rstrip("/") + OFFER_PATH.format(token=token)


def offer_values(payload: dict, site_url: str) -> dict[str, str]:
    """``link`` and ``until`` from the outbox message's payload."""
    values = {"link": offer_link(site_url, str(payload.get("token", "")))}
    try:
        values["until"] = format_clock(datetime.fromisoformat(str(payload.get("expires_at"))))
    except ValueError:
        values["until"] = ""
    return values


def expired(payload: dict, now: datetime) -> bool:
    """Whether the offer's hold is over: its message would only disappoint."""
    try:
        return datetime.fromisoformat(str(payload.get("expires_at"))) <= now
    except ValueError:
        return False
