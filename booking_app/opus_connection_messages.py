"""The texts of *Kliniker* → *Anslutning till Opus* (booking_app.admin.opus_connections),
merged into the message catalogue (booking_app.messages)."""

from __future__ import annotations

OPUS_CONNECTION_MESSAGES: dict[str, dict[str, str]] = {
    "admin_opus_connection": {"sv": "Anslutning till Opus", "en": "Connection to Opus"},
    "admin_opus_connection_intro": {
        "sv": "Hur länge en anslutning till varje Opus-databas får ta och hur många gånger "
        "en misslyckad anslutning görs om, när lediga tider hämtas och när bokningar skrivs "
        "tillbaka. Lämna tomt för tjänstens standard: {timeout} sekunder och {retries} nya "
        "försök.",
        "en": "How long a connection to each Opus database may take and how many times a "
        "failed connection is tried again, when free times are fetched and when bookings "
        "are written back. Leave empty for the service's default: {timeout} seconds and "
        "{retries} retries.",
    },
    "admin_opus_connect_timeout_s": {
        "sv": "Anslutningstid (sekunder, 1–300)",
        "en": "Connection timeout (seconds, 1–300)",
    },
    "admin_opus_retries": {"sv": "Nya försök (0–10)", "en": "Retries (0–10)"},
    "admin_opus_connection_save": {
        "sv": "Spara anslutningar",
        "en": "Save connections",
    },
    "admin_opus_default_placeholder": {"sv": "standard: {value}", "en": "default: {value}"},
    "admin_error_opus_connect_timeout_s": {
        "sv": "Anslutningstiden ska vara ett heltal från 1 till 300 sekunder, eller tom för "
        "standard.",
        "en": "The connection timeout must be a whole number from 1 to 300 seconds, or empty "
        "for the default.",
    },
    "admin_error_opus_retries": {
        "sv": "Antalet nya försök ska vara ett heltal från 0 till 10, eller tomt för standard.",
        "en": "The retries must be a whole number from 0 to 10, or empty for the default.",
    },
}
