"""*Mina bokningar*: a logged-in patient's bookings, rebooking and cancelling."""

from __future__ import annotations

MY_BOOKINGS_TEXTS: dict[str, dict[str, str]] = {
    "my_bookings": {"sv": "Mina bokningar", "en": "My bookings"},
    "my_bookings_none": {
        "sv": "Du har inga kommande bokningar.",
        "en": "You have no upcoming appointments.",
    },
    "my_booking_cancel": {"sv": "Avboka", "en": "Cancel"},
    "my_booking_rebook": {"sv": "Boka om", "en": "Rebook"},
    "my_booking_cancelled": {
        "sv": "Din tid är avbokad.",
        "en": "Your appointment has been cancelled.",
    },
    "my_booking_rebooked": {
        "sv": "Din tid är ombokad till {time}.",
        "en": "Your appointment has been moved to {time}.",
    },
    "my_booking_not_active": {
        "sv": "Bokningen går inte längre att ändra.",
        "en": "The booking can no longer be changed.",
    },
    "my_booking_cancel_disabled": {
        "sv": "Det går inte att avboka på webben.",
        "en": "Appointments cannot be cancelled online.",
    },
    "my_booking_change_disabled": {
        "sv": "Det går inte att boka om på webben.",
        "en": "Appointments cannot be rebooked online.",
    },
    "my_booking_cancel_not_for_treatment": {
        "sv": "Den här behandlingen kan inte avbokas på webben.",
        "en": "This treatment cannot be cancelled online.",
    },
    "my_booking_change_not_for_treatment": {
        "sv": "Den här behandlingen kan inte bokas om på webben.",
        "en": "This treatment cannot be rebooked online.",
    },
    "my_booking_past_cutoff": {
        "sv": "Det är för sent att ändra eller avboka på webben (det gick till {time}).",
        "en": "It is too late to change or cancel online (possible until {time}).",
    },
    "my_booking_made_by_clinic": {
        "sv": "Tiden är bokad av kliniken och ändras per telefon.",
        "en": "The clinic booked this appointment; it is changed by phone.",
    },
    "call_clinic_phone": {
        "sv": "Ring kliniken på {phone}.",
        "en": "Please call the clinic on {phone}.",
    },
    "call_clinic": {"sv": "Kontakta kliniken.", "en": "Please contact the clinic."},
    "my_booking_refused_title": {
        "sv": "Bokningen kunde inte ändras",
        "en": "The booking could not be changed",
    },
    "cancel_heading": {"sv": "Avboka tid", "en": "Cancel appointment"},
    "cancel_question": {
        "sv": "Vill du avboka den här tiden?",
        "en": "Do you want to cancel this appointment?",
    },
    "cancel_confirm": {"sv": "Ja, avboka", "en": "Yes, cancel"},
    "cancel_keep": {"sv": "Nej, behåll tiden", "en": "No, keep it"},
    "rebook_heading": {"sv": "Boka om", "en": "Rebook"},
    "rebook_current": {"sv": "Din nuvarande tid", "en": "Your current appointment"},
    "rebook_choose": {
        "sv": "Välj en ny tid för samma behandling.",
        "en": "Choose a new time for the same treatment.",
    },
    "rebook_taken": {
        "sv": "Tiden hann bokas av någon annan. Välj en annan tid.",
        "en": "Someone else took that time. Please choose another.",
    },
    "to_my_bookings": {"sv": "Till Mina bokningar", "en": "To My bookings"},
}
