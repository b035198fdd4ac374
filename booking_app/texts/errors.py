"""Refused forms and the limits on numbers, SMS countries, BankID starts and API holds."""

from __future__ import annotations

ERROR_TEXTS: dict[str, dict[str, str]] = {
    "csrf_title": {"sv": "Formuläret kunde inte skickas", "en": "The form could not be sent"},
    "csrf_body": {
        "sv": "Sidan var för gammal eller öppnades från en annan webbplats. Gå tillbaka, "
        "ladda om sidan och försök igen.",
        "en": "The page was too old or was opened from another website. Go back, reload "
        "the page and try again.",
    },
    "form_too_large_title": {"sv": "För mycket text", "en": "Too much text"},
    "form_too_large_body": {
        "sv": "Formuläret innehöll för mycket text. Korta texten och försök igen.",
        "en": "The form contained too much text. Shorten it and try again.",
    },
    "bad_form_title": {"sv": "Formuläret kunde inte läsas", "en": "The form could not be read"},
    "bad_form_body": {
        "sv": "Formuläret kunde inte läsas. Gå tillbaka och försök igen.",
        "en": "The form could not be read. Go back and try again.",
    },
    "mobile_not_mobile": {
        "sv": "Det är inte ett mobilnummer. Ange ett nummer som kan ta emot sms.",
        "en": "That is not a mobile number. Enter a number that can receive texts.",
    },
    "mobile_country_not_allowed": {
        "sv": "Kliniken skickar inte sms till nummer i det landet. Ange ett annat "
        "mobilnummer, till exempel ett svenskt.",
        "en": "The clinic does not send texts to numbers in that country. Enter another "
        "mobile number, for example a Swedish one.",
    },
    "limit_bankid_starts_body": {
        "sv": "Det har startats för många inloggningar med BankID härifrån den senaste "
        "kvarten. Vänta en stund och försök igen.",
        "en": "Too many BankID logins have been started from here in the last quarter of "
        "an hour. Please wait a while and try again.",
    },
    "admin_limit_kind_api_holds": {
        "sv": "Reservationer per API-nyckel",
        "en": "Reservations per API key",
    },
    "admin_limit_kind_bankid_starts": {
        "sv": "Högst 10 BankID-inloggningar per adress och kvart",
        "en": "At most 10 BankID logins per address per quarter of an hour",
    },
    "limit_country_body": {
        "sv": "Kliniken skickar inte sms till nummer i det landet. Välj e-post i stället, "
        "eller börja om med ett annat mobilnummer.",
        "en": "The clinic does not send texts to numbers in that country. Choose e-mail "
        "instead, or start again with another mobile number.",
    },
    "admin_limit_kind_country": {
        "sv": "Sms till ett land som inte är tillåtet",
        "en": "Texts to a country not allowed",
    },
    "admin_sms_limits": {"sv": "Gränser för sms och koder", "en": "Limits on texts and codes"},
    "admin_sms_limits_intro": {
        "sv": "Sms skickas bara till mobilnummer med de här landsnumren, och kedjan skickar "
        "högst så här många koder (e-post och sms) per timme. Höj taket om riktiga "
        "patienter stoppas.",
        "en": "Texts go only to mobile numbers with these country codes, and the chain "
        "sends at most this many codes (e-mail and text) per hour. Raise the cap if real "
        "patients are refused.",
    },
    "admin_field_sms_country_codes": {
        "sv": "Tillåtna landsnummer för sms (t.ex. +46, +47, +45, +358)",
        "en": "Country codes texts may go to (e.g. +46, +47, +45, +358)",
    },
    "admin_field_code_messages_per_hour": {
        "sv": "Högst antal koder per timme för kedjan",
        "en": "Maximum number of codes per hour for the chain",
    },
    "admin_error_sms_country_codes_format": {
        "sv": "Ange landsnummer som +46, +47, åtskilda med kommatecken.",
        "en": "Enter country codes like +46, +47, separated by commas.",
    },
    "admin_error_sms_country_codes_unknown": {
        "sv": "Ett av landsnumren finns inte.",
        "en": "One of the country codes does not exist.",
    },
    "admin_error_sms_country_codes_required": {
        "sv": "Ange minst ett landsnummer.",
        "en": "Enter at least one country code.",
    },
    "admin_error_code_messages_per_hour": {
        "sv": "Taket ska vara ett heltal från 1 till 10 000.",
        "en": "The cap must be a whole number from 1 to 10,000.",
    },
    "stats_no_data": {"sv": "Inga data för perioden", "en": "No data for the period"},
}
