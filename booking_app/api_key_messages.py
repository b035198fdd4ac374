"""The texts of the API keys' part of *Avancerat* (booking_app.admin.api_keys), merged
into the message catalogue (booking_app.messages)."""

from __future__ import annotations

API_KEY_MESSAGES: dict[str, dict[str, str]] = {
    "admin_api_keys": {"sv": "API-nycklar", "en": "API keys"},
    "admin_api_keys_intro": {
        "sv": "En publik nyckel får läsa lediga tider och boka, och kan användas från "
        "klinikens egen webbplats (ange webbplatsens adresser nedan). Den kan aldrig läsa "
        "eller ändra en patients bokningar. En servernyckel får allt, men bara från en "
        "server: den får inga webbplatsadresser och ska hållas hemlig.",
        "en": "A publishable key may read free times and book, and can be used from the "
        "clinic's own website (give the site's addresses below). It can never read or "
        "change a patient's bookings. A server key may do everything, but only from a "
        "server: it gets no website addresses and must be kept secret.",
    },
    "admin_api_key_name": {"sv": "Namn", "en": "Name"},
    "admin_api_key_kind": {"sv": "Sort", "en": "Kind"},
    "admin_api_key_publishable": {"sv": "Publik (webbplats)", "en": "Publishable (website)"},
    "admin_api_key_server": {"sv": "Server (hemlig)", "en": "Server (secret)"},
    "admin_api_key_begins": {"sv": "Börjar med", "en": "Begins with"},
    "admin_api_key_origins": {
        "sv": "Webbplatser som får använda nyckeln (en per rad, t.ex. https://www.klinik.se)",
        "en": "Websites that may use the key (one per line, e.g. https://www.clinic.se)",
    },
    "admin_api_key_create": {"sv": "Skapa nyckel", "en": "Create key"},
    "admin_api_key_save_origins": {"sv": "Spara webbplatser", "en": "Save websites"},
    "admin_api_key_revoke": {"sv": "Återkalla", "en": "Revoke"},
    "admin_api_key_none": {"sv": "Inga aktiva nycklar.", "en": "No active keys."},
    "admin_api_key_new": {
        "sv": "Den nya nyckeln visas bara nu. Kopiera den:",
        "en": "The new key is shown only now. Copy it:",
    },
    "admin_api_key_name_required": {
        "sv": "Ge nyckeln ett namn (högst 100 tecken).",
        "en": "Give the key a name (at most 100 characters).",
    },
    "admin_api_key_origin_invalid": {
        "sv": "Ogiltig webbplatsadress: {origin}. Ange https://värd eller https://värd:port, "
        "utan sökväg (högst 20 adresser).",
        "en": "Invalid website address: {origin}. Give https://host or https://host:port, "
        "without a path (at most 20 addresses).",
    },
    "admin_api_key_server_no_origins": {
        "sv": "En servernyckel får inga webbplatser: den skulle synas för alla besökare.",
        "en": "A server key gets no websites: every visitor would see it.",
    },
    "api_examples_title": {
        "sv": "Boka från er egen webbplats",
        "en": "Book from your own website",
    },
    "api_examples_intro": {
        "sv": "Så använder er webbplats bokningen: anropa API:t direkt från webbläsaren, "
        "eller lägg in bokningen som en widget med en rad HTML.",
        "en": "How your website uses the booking: call the API straight from the browser, "
        "or embed the booking as a widget with one line of HTML.",
    },
    "api_examples_keys": {"sv": "Nycklar", "en": "Keys"},
    "api_examples_keys_text": {
        "sv": "En nyckel i en webbsida syns för alla. Använd därför en publik nyckel "
        "(börjar med oo_pub_): den får läsa lediga tider och boka, men aldrig läsa eller "
        "ändra en patients bokningar. Administratören skapar den under Avancerat → "
        "API-nycklar och anger vilka webbplatser (https://…) som får använda den. Skicka "
        "nyckeln i headern apiKey, aldrig i adressen. Servernycklar hålls hemliga på en server.",
        "en": "A key in a web page is visible to everyone. So use a publishable key "
        "(it begins with oo_pub_): it may read free times and book, but never read or "
        "change a patient's bookings. The administrator makes it under Avancerat → "
        "API-nycklar and lists the websites (https://…) that may use it. Send the key in "
        "the apiKey header, never in the address. Server keys stay secret on a server.",
    },
    "api_examples_fetch": {"sv": "Anrop från webbläsaren", "en": "A call from the browser"},
    "api_examples_widget": {"sv": "Bokningswidget", "en": "Booking widget"},
    "api_examples_widget_text": {
        "sv": "Lägg in taggen där bokningen ska visas. Webbplatsen måste finnas bland "
        "den publika nyckelns webbplatser. data-clinic och data-treatment väljer klinik "
        "och behandling i förväg.",
        "en": "Put the tag where the booking should show. The website must be among the "
        "publishable key's websites. data-clinic and data-treatment preselect the clinic "
        "and the treatment.",
    },
    "api_examples_document": {
        "sv": "API:ts beskrivning (OpenAPI):",
        "en": "The API's description (OpenAPI):",
    },
}
