"""The booking site's frame: language switch, first page, closed and maintenance pages, footer."""

from __future__ import annotations

SITE_TEXTS: dict[str, dict[str, str]] = {
    "skip_to_content": {"sv": "Hoppa till innehållet", "en": "Skip to content"},
    "language_nav": {"sv": "Språk", "en": "Language"},
    "switch_language": {"sv": "In English", "en": "På svenska"},
    "switch_language_lang": {"sv": "en", "en": "sv"},
    "clinics_heading": {"sv": "Våra kliniker", "en": "Our clinics"},
    "ungrouped_clinics": {"sv": "Ogrupperade kliniker", "en": "Ungrouped clinics"},
    "next_free_times": {"sv": "Nästa lediga tider", "en": "Next free times"},
    "no_free_times": {
        "sv": "Inga lediga tider just nu.",
        "en": "No free times right now.",
    },
    "no_clinics": {
        "sv": "Det finns inga kliniker att boka hos just nu.",
        "en": "There are no clinics to book right now.",
    },
    "booking_closed_title": {
        "sv": "Onlinebokningen är stängd",
        "en": "Online booking is closed",
    },
    "booking_closed_body": {
        "sv": "Det går inte att boka tid här just nu. Kontakta kliniken för att boka.",
        "en": "You cannot book here right now. Please contact the clinic to book.",
    },
    "maintenance_title": {"sv": "Underhåll pågår", "en": "Maintenance in progress"},
    "maintenance_body": {
        "sv": "Bokningssidan är tillfälligt stängd för underhåll. Försök igen om en stund.",
        "en": "The booking page is closed for maintenance. Please try again shortly.",
    },
    "not_found_title": {"sv": "Sidan finns inte", "en": "Page not found"},
    "not_found_body": {
        "sv": "Sidan du söker finns inte. Kontrollera adressen.",
        "en": "The page you are looking for does not exist. Please check the address.",
    },
    "footer_text": {
        "sv": "Tidbokning via Opus Dental Online",
        "en": "Appointments via Opus Dental Online",
    },
}
