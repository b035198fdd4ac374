"""The texts of *Avancerat* → *Gallring* (booking_app.admin.retention), merged into the
message catalogue (booking_app.messages)."""

from __future__ import annotations

RETENTION_MESSAGES: dict[str, dict[str, str]] = {
    "admin_retention": {"sv": "Gallring av personuppgifter", "en": "Retention of personal data"},
    "admin_retention_intro": {
        "sv": "Hur länge bokningssidan sparar uppgifter om patienter och besök. Gallringen "
        "körs varje natt. Journalen i Opus är vårdens dokumentation och gallras inte här. "
        "Statistiken påverkas inte: dagliga summor finns kvar och bokningar räknas som förut.",
        "en": "How long the booking site keeps data about patients and visits. Retention "
        "runs every night. The Opus journal is the record of care and is not affected here. "
        "Statistics stay as they are: daily totals remain and bookings count as before.",
    },
    "admin_retention_visit_event_days": {
        "sv": "Besökshändelser sparas (dagar, 7–400; därefter finns bara dagliga summor)",
        "en": "Visit events are kept (days, 7–400; then only daily totals remain)",
    },
    "admin_retention_booking_months": {
        "sv": "Patientens uppgifter i en bokning sparas efter besöket (månader, 1–24; "
        "därefter tas namn, personnummer, kontaktuppgifter och meddelande bort)",
        "en": "The patient's data in a booking is kept after the visit (months, 1–24; then "
        "name, personal number, contact details and message are removed)",
    },
    "admin_retention_message_days": {
        "sv": "Skickade meddelandens mottagare och innehåll sparas (dagar, 1–30)",
        "en": "Sent messages' recipients and contents are kept (days, 1–30)",
    },
    "admin_retention_fixed": {
        "sv": "Alltid: utgångna reservationer, avslutade inloggningar och BankID-ordrar tas "
        "bort efter ett dygn.",
        "en": "Always: expired holds, ended logins and BankID orders are deleted after a day.",
    },
    "admin_error_retention_visit_event_days": {
        "sv": "Besökshändelser: ange ett helt antal dagar från 7 till 400.",
        "en": "Visit events: give a whole number of days from 7 to 400.",
    },
    "admin_error_retention_booking_months": {
        "sv": "Bokningar: ange ett helt antal månader från 1 till 24.",
        "en": "Bookings: give a whole number of months from 1 to 24.",
    },
    "admin_error_retention_message_days": {
        "sv": "Meddelanden: ange ett helt antal dagar från 1 till 30.",
        "en": "Messages: give a whole number of days from 1 to 30.",
    },
}
