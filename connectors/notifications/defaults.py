"""The texts sent when a tenant has written none of its own (*Opus standardtext*), in
Swedish and English. They use the same merge fields and syntax as tenants' templates
(see :mod:`connectors.notifications.templates`), and are checked by the same check.

Code and conflict messages have no tenant template (the manual's *E-post* and *SMS*
tabs have three: new booking, rebooking, cancellation; and the reminder); their texts
are only these.
The SMS texts stay within one SMS even with long values (the tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    subject: str | None  # e-mail only
    body: str


_PHONE_SV = "{% if clinic_phone %} eller ring {{ clinic_phone }}{% endif %}"
_PHONE_EN = "{% if clinic_phone %} or call {{ clinic_phone }}{% endif %}"
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

DEFAULTS: dict[tuple[str, str, str], Text] = {
    # -- e-mail, Swedish ------------------------------------------------------------
    ("new", "email", "sv"): Text(
        "Bokningsbekräftelse {{ date }} kl. {{ time }}",
        "Hej {{ patient_name }}!\n\nVälkommen till {{ clinic_name }}. Din tid är bokad:\n\n"
        + _WHERE
        + "\nVill du avboka eller ändra tiden? Gör det här: {{ link }}"
        + _PHONE_SV
        + ".\n\nVälkommen!\n{{ clinic_name }}\n",
    ),
    ("rebook", "email", "sv"): Text(
        "Din tid är ändrad: {{ date }} kl. {{ time }}",
        "Hej {{ patient_name }}!\n\nDin tid hos {{ clinic_name }} är ändrad. Din nya tid:\n\n"
        + _WHERE
        + "\nVill du avboka eller ändra igen? Gör det här: {{ link }}"
        + _PHONE_SV
        + ".\n\nVälkommen!\n{{ clinic_name }}\n",
    ),
    ("cancel", "email", "sv"): Text(
        "Avbokad: {{ date }} kl. {{ time }}",
        "Hej {{ patient_name }}!\n\nDin tid hos {{ clinic_name }} är avbokad:\n\n"
        + _WHERE
        + "\nVill du boka en ny tid? Gör det här: {{ link }}"
        + _PHONE_SV
        + ".\n\nVänliga hälsningar\n{{ clinic_name }}\n",
    ),
    ("conflict", "email", "sv"): Text(
        "Din tid kunde inte bokas",
        "Hej {{ patient_name }}!\n\nTyvärr kunde tiden {{ date }} kl. {{ time }} hos "
        "{{ clinic_name }} inte bokas: den hann bokas på annat sätt innan din bokning nådde "
        "kliniken. Den nya bokningen gäller alltså inte."
        "{% if original_stands %} Din tidigare bokade tid gäller fortfarande.{% endif %}\n\n"
        "{% if clinic_phone %}Ring oss på {{ clinic_phone }} så hjälper vi dig att hitta en "
        "ny tid.{% else %}Kontakta oss så hjälper vi dig att hitta en ny tid.{% endif %} "
        "Du kan också boka en ny tid här: {{ link }}\n\n"
        "Vi ber om ursäkt för besväret.\n{{ clinic_name }}\n",
    ),
    ("code", "email", "sv"): Text(
        "{{ code }} är din kod",
        "Din kod för att bekräfta bokningen är:\n\n{{ code }}\n\nKoden gäller i 10 minuter. "
        "Har du inte bokat någon tid kan du bortse från det här meddelandet.\n",
    ),
    ("reminder", "email", "sv"): Text(
        "Påminnelse: {{ date }} kl. {{ time }}",
        "Hej {{ patient_name }}!\n\nVi vill påminna om din tid hos {{ clinic_name }}:\n\n"
        + _WHERE
        + "\nKan du inte komma? Avboka eller ändra tiden här: {{ link }}"
        + _PHONE_SV
        + ".\n\nVälkommen!\n{{ clinic_name }}\n",
    ),
    # -- SMS, Swedish ---------------------------------------------------------------
    ("new", "sms", "sv"): Text(
        None, "Bokat: {{ clinic_name }} {{ date }} kl. {{ time }}. Avboka/ändra: {{ link }}"
    ),
    ("rebook", "sms", "sv"): Text(
        None, "Ny tid: {{ clinic_name }} {{ date }} kl. {{ time }}. Avboka/ändra: {{ link }}"
    ),
    ("cancel", "sms", "sv"): Text(
        None, "Avbokat: {{ clinic_name }} {{ date }} kl. {{ time }}. Boka ny tid: {{ link }}"
    ),
    # The signed link is longer than a confirmation's: no "kl." and no colon, to stay
    # one SMS with long values (the tests check it).
    ("reminder", "sms", "sv"): Text(
        None, "Påminnelse {{ clinic_name }} {{ date }} {{ time }}. Avboka/ändra: {{ link }}"
    ),
    ("conflict", "sms", "sv"): Text(
        None,
        "Tyvärr kunde tiden {{ date }} kl. {{ time }} hos {{ clinic_name }} inte bokas. "
        "{% if original_stands %}Din tidigare tid gäller. {% endif %}"
        "{% if clinic_phone %}Ring {{ clinic_phone }} för en ny tid."
        "{% else %}Kontakta kliniken för en ny tid.{% endif %}",
    ),
    ("code", "sms", "sv"): Text(
        None, "{{ code }} är din kod för att bekräfta bokningen. Den gäller i 10 minuter."
    ),
    # -- e-mail, English ------------------------------------------------------------
    ("new", "email", "en"): Text(
        "Booking confirmed: {{ date }} at {{ time }}",
        "Dear {{ patient_name }},\n\nWelcome to {{ clinic_name }}. Your appointment:\n\n"
        + _WHERE_EN
        + "\nTo cancel or change it, go to {{ link }}"
        + _PHONE_EN
        + ".\n\nSee you soon!\n{{ clinic_name }}\n",
    ),
    ("rebook", "email", "en"): Text(
        "Appointment changed: {{ date }} at {{ time }}",
        "Dear {{ patient_name }},\n\nYour appointment at {{ clinic_name }} has been changed. "
        "Your new time:\n\n"
        + _WHERE_EN
        + "\nTo cancel or change it again, go to {{ link }}"
        + _PHONE_EN
        + ".\n\nSee you soon!\n{{ clinic_name }}\n",
    ),
    ("cancel", "email", "en"): Text(
        "Cancelled: {{ date }} at {{ time }}",
        "Dear {{ patient_name }},\n\nYour appointment at {{ clinic_name }} has been cancelled:\n\n"
        + _WHERE_EN
        + "\nTo book a new time, go to {{ link }}"
        + _PHONE_EN
        + ".\n\nKind regards\n{{ clinic_name }}\n",
    ),
    ("conflict", "email", "en"): Text(
        "Your appointment could not be booked",
        "Dear {{ patient_name }},\n\nUnfortunately the time {{ date }} at {{ time }} at "
        "{{ clinic_name }} could not be booked: it was taken before your booking reached the "
        "clinic. The new booking is therefore not valid."
        "{% if original_stands %} Your earlier appointment still stands.{% endif %}\n\n"
        "{% if clinic_phone %}Please call us on {{ clinic_phone }} and we will help you find "
        "a new time.{% else %}Please contact us and we will help you find a new time."
        "{% endif %} You can also book a new time here: {{ link }}\n\n"
        "We apologise for the inconvenience.\n{{ clinic_name }}\n",
    ),
    ("code", "email", "en"): Text(
        "{{ code }} is your code",
        "Your code to confirm the booking is:\n\n{{ code }}\n\nThe code is valid for 10 "
        "minutes. If you have not booked an appointment, please ignore this message.\n",
    ),
    ("reminder", "email", "en"): Text(
        "Reminder: {{ date }} at {{ time }}",
        "Dear {{ patient_name }},\n\nThis is a reminder of your appointment at "
        "{{ clinic_name }}:\n\n"
        + _WHERE_EN
        + "\nCannot come? Cancel or change it here: {{ link }}"
        + _PHONE_EN
        + ".\n\nSee you soon!\n{{ clinic_name }}\n",
    ),
    # -- SMS, English ---------------------------------------------------------------
    ("new", "sms", "en"): Text(
        None, "Booked: {{ clinic_name }} {{ date }} at {{ time }}. Cancel/change: {{ link }}"
    ),
    ("rebook", "sms", "en"): Text(
        None, "New time: {{ clinic_name }} {{ date }} at {{ time }}. Cancel/change: {{ link }}"
    ),
    ("cancel", "sms", "en"): Text(
        None, "Cancelled: {{ clinic_name }} {{ date }} at {{ time }}. Book again: {{ link }}"
    ),
    ("reminder", "sms", "en"): Text(
        None, "Reminder: {{ clinic_name }} {{ date }} {{ time }}. Cancel/change: {{ link }}"
    ),
    ("conflict", "sms", "en"): Text(
        None,
        "Sorry, the time {{ date }} at {{ time }} at {{ clinic_name }} could not be booked. "
        "{% if original_stands %}Your earlier time stands. {% endif %}"
        "{% if clinic_phone %}Call {{ clinic_phone }} for a new time."
        "{% else %}Please contact the clinic for a new time.{% endif %}",
    ),
    ("code", "sms", "en"): Text(
        None, "{{ code }} is your code to confirm the booking. It is valid for 10 minutes."
    ),
}


def default_text(kind: str, channel: str, language: str) -> Text:
    """The default for ``kind`` on ``channel``, in ``language`` (Swedish when unknown)."""
    return DEFAULTS.get((kind, channel, language)) or DEFAULTS[(kind, channel, "sv")]


def _waiting_list_texts() -> None:
    """The waiting list's offer texts (connectors.notifications.offer) join the rest."""
    from connectors.notifications.offer import OFFER_TEXTS

    DEFAULTS.update({key: Text(*texts) for key, texts in OFFER_TEXTS.items()})


_waiting_list_texts()
