"""The public API's error texts, Swedish first and English when the client asks for it
(``Accept-Language: en``).

Kept beside the API rather than in the patient pages' catalogue: these texts are read
by integrators and by patients through a third party's page, they name API fields,
and the pages' catalogue has its own owner. Keys follow the same rule: they name what
the text is for. A text never repeats the value that was sent (it may be a personal
number).
"""

from __future__ import annotations

LANGUAGES = ("sv", "en")

MESSAGES: dict[str, dict[str, str]] = {
    # -- access ------------------------------------------------------------------------
    "unknown_tenant": {
        "sv": "Det finns ingen bokningssida på den här adressen.",
        "en": "There is no booking site at this address.",
    },
    "api_key_missing": {
        "sv": "API-nyckel saknas. Skicka den i headern apiKey.",
        "en": "API key missing. Send it in the apiKey header.",
    },
    "api_key_invalid": {
        "sv": "API-nyckeln gäller inte för den här bokningssidan.",
        "en": "The API key is not valid for this booking site.",
    },
    "api_key_scope": {
        "sv": "API-nyckeln får inte göra det här ({scope}). Använd en servernyckel.",
        "en": "The API key may not do this ({scope}). Use a server key.",
    },
    "not_found_path": {
        "sv": "Det finns ingen sådan resurs i API:t.",
        "en": "There is no such resource in the API.",
    },
    "method_not_allowed": {
        "sv": "Metoden stöds inte för den här resursen.",
        "en": "The method is not supported for this resource.",
    },
    # -- the tenant's settings ------------------------------------------------------------
    "maintenance": {
        "sv": "Bokningen är tillfälligt stängd för underhåll. Försök igen om en stund.",
        "en": "Booking is closed for maintenance. Please try again shortly.",
    },
    "booking_closed": {
        "sv": "Onlinebokningen är stängd för den här kliniken.",
        "en": "Online booking is closed for this clinic.",
    },
    "new_booking_disabled": {
        "sv": "Kliniken tar inte emot nya bokningar online.",
        "en": "The clinic does not accept new bookings online.",
    },
    "new_booking_requires_login": {
        "sv": "Kliniken kräver inloggning med e-legitimation för nya bokningar. "
        "Det går inte via API:t; boka på klinikens bokningssida.",
        "en": "The clinic requires an e-ID login for new bookings, which the API cannot "
        "provide; please book on the clinic's booking page.",
    },
    # -- the request as a whole -------------------------------------------------------------
    "invalid_request": {
        "sv": "Förfrågan är ogiltig.",
        "en": "The request is invalid.",
    },
    "body_too_large": {
        "sv": "Förfrågan är för stor (högst {limit} byte).",
        "en": "The request is too large (at most {limit} bytes).",
    },
    "body_not_json": {
        "sv": "Innehållet är inte giltig JSON.",
        "en": "The body is not valid JSON.",
    },
    "body_not_object": {
        "sv": "Innehållet ska vara ett JSON-objekt.",
        "en": "The body must be a JSON object.",
    },
    "unsupported_media_type": {
        "sv": "Innehållet ska vara JSON (application/json) eller formulärdata "
        "(application/x-www-form-urlencoded).",
        "en": "The body must be JSON (application/json) or form data "
        "(application/x-www-form-urlencoded).",
    },
    # -- one field ------------------------------------------------------------------------
    "field_required": {"sv": "Fältet krävs.", "en": "The field is required."},
    "field_integer": {"sv": "Ska vara ett heltal.", "en": "Must be a whole number."},
    "field_integer_range": {
        "sv": "Talet är utanför det tillåtna intervallet.",
        "en": "The number is out of range.",
    },
    "field_boolean": {"sv": "Ska vara true eller false.", "en": "Must be true or false."},
    "field_text": {"sv": "Ska vara text.", "en": "Must be text."},
    "field_too_long": {"sv": "Texten är för lång.", "en": "The text is too long."},
    "field_control_characters": {
        "sv": "Texten innehåller otillåtna tecken.",
        "en": "The text contains characters that are not allowed.",
    },
    "field_object": {"sv": "Ska vara ett objekt.", "en": "Must be an object."},
    "field_invalid": {"sv": "Värdet är ogiltigt.", "en": "The value is invalid."},
    "datetime_format": {
        "sv": "Ska vara en tidpunkt, t.ex. 2026-03-02T09:30:00 (svensk tid) eller med "
        "tidszon, 2026-03-02T09:30:00+01:00.",
        "en": "Must be a date-time such as 2026-03-02T09:30:00 (Swedish time) or with an "
        "offset, 2026-03-02T09:30:00+01:00.",
    },
    "datetime_range": {
        "sv": "Tidpunkten ska ligga mellan år 2000 och 2100.",
        "en": "The date-time must be between the years 2000 and 2100.",
    },
    "datetime_nonexistent": {
        "sv": "Den tiden finns inte i svensk tid (sommartid börjar).",
        "en": "That time does not exist in Swedish time (summer time starts).",
    },
    "month_range": {"sv": "Månaden ska vara 1–12.", "en": "The month must be 1–12."},
    "window_order": {
        "sv": "Sluttiden måste vara efter starttiden.",
        "en": "The end must be after the start.",
    },
    "end_mismatch": {
        "sv": "Sluttiden stämmer inte med behandlingens längd.",
        "en": "The end does not match the treatment's length.",
    },
    "reservation_mismatch": {
        "sv": "Tiden stämmer inte med reservationen.",
        "en": "The time slot does not match the reservation.",
    },
    "id_ambiguous": {
        "sv": "Id:t finns i flera Opus-databaser hos kliniken och är inte entydigt.",
        "en": "The id exists in several of the clinic's Opus databases and is ambiguous.",
    },
    # -- patient details (keys of validations.patient) --------------------------------------
    "personal_number_required": {
        "sv": "Personnummer krävs.",
        "en": "A personal identity number is required.",
    },
    "personal_number_format": {
        "sv": "Personnumret ska ha 10 eller 12 siffror, t.ex. 19800101-1234.",
        "en": "The personal identity number must have 10 or 12 digits, e.g. 19800101-1234.",
    },
    "personal_number_date": {
        "sv": "Personnumret innehåller inget giltigt födelsedatum.",
        "en": "The personal identity number does not contain a valid date of birth.",
    },
    "personal_number_serial": {
        "sv": "Personnumret finns inte: födelsenumret kan inte vara 000. Kontrollera numret.",
        "en": "The personal identity number does not exist: its serial cannot be 000. "
        "Please check it.",
    },
    "personal_number_checksum": {
        "sv": "Personnumrets kontrollsiffra stämmer inte. Kontrollera numret.",
        "en": "The check digit of the personal identity number is wrong. Please check it.",
    },
    "personal_number_mismatch": {
        "sv": "PersonalNumber och PatientPersonalIdentification anger olika personnummer.",
        "en": "PersonalNumber and PatientPersonalIdentification give different numbers.",
    },
    "first_name_required": {"sv": "Förnamn krävs.", "en": "First name is required."},
    "first_name_too_long": {"sv": "Förnamnet är för långt.", "en": "The first name is too long."},
    "first_name_invalid": {
        "sv": "Förnamnet innehåller otillåtna tecken.",
        "en": "The first name contains characters that are not allowed.",
    },
    "last_name_required": {"sv": "Efternamn krävs.", "en": "Last name is required."},
    "last_name_too_long": {"sv": "Efternamnet är för långt.", "en": "The last name is too long."},
    "last_name_invalid": {
        "sv": "Efternamnet innehåller otillåtna tecken.",
        "en": "The last name contains characters that are not allowed.",
    },
    "contact_required": {
        "sv": "Ange e-postadress eller mobilnummer, så att bekräftelsen når patienten.",
        "en": "Give an e-mail address or a mobile number, so the confirmation reaches the patient.",
    },
    "email_format": {
        "sv": "E-postadressen är inte giltig, t.ex. namn@exempel.se.",
        "en": "The e-mail address is not valid, e.g. name@example.com.",
    },
    "mobile_format": {
        "sv": "Mobilnumret är inte giltigt, t.ex. 070-123 45 67 eller +46701234567.",
        "en": "The mobile number is not valid, e.g. +46701234567.",
    },
    "mobile_not_swedish_mobile": {
        "sv": "Det är inte ett svenskt mobilnummer (fasta nummer och servicenummer som "
        "0771- tar inte emot sms).",
        "en": "That is not a Swedish mobile number (landlines and service numbers like "
        "0771- cannot receive texts).",
    },
    "mobile_not_mobile": {
        "sv": "Det är inte ett mobilnummer.",
        "en": "That is not a mobile number.",
    },
    "mobile_country_not_allowed": {
        "sv": "Kliniken skickar inte sms till nummer med det landsnumret.",
        "en": "The clinic does not send texts to numbers with that country code.",
    },
    "address_too_long": {"sv": "Adressen är för lång.", "en": "The address is too long."},
    "address_invalid": {
        "sv": "Adressen innehåller otillåtna tecken.",
        "en": "The address contains characters that are not allowed.",
    },
    "postal_code_too_long": {
        "sv": "Postnumret är för långt.",
        "en": "The postal code is too long.",
    },
    "postal_code_invalid": {
        "sv": "Postnumret innehåller otillåtna tecken.",
        "en": "The postal code contains characters that are not allowed.",
    },
    "city_too_long": {"sv": "Orten är för lång.", "en": "The city is too long."},
    "city_invalid": {
        "sv": "Orten innehåller otillåtna tecken.",
        "en": "The city contains characters that are not allowed.",
    },
    "message_too_long": {
        "sv": "Meddelandet är för långt (högst 500 tecken).",
        "en": "The message is too long (at most 500 characters).",
    },
    "message_invalid": {
        "sv": "Meddelandet innehåller otillåtna tecken.",
        "en": "The message contains characters that are not allowed.",
    },
    "message_disabled": {
        "sv": "Kliniken tar inte emot meddelanden vid bokning; lämna FreeTextMessage tomt.",
        "en": "The clinic does not accept booking messages; leave FreeTextMessage empty.",
    },
    "campaign_code_too_long": {
        "sv": "Kampanjkoden är för lång (högst 30 tecken).",
        "en": "The campaign code is too long (at most 30 characters).",
    },
    "campaign_code_invalid": {
        "sv": "Kampanjkoden innehåller otillåtna tecken.",
        "en": "The campaign code contains characters that are not allowed.",
    },
    "campaign_code_disabled": {
        "sv": "Kliniken använder inte kampanjkoder; lämna CampaignCode tomt.",
        "en": "The clinic does not use campaign codes; leave CampaignCode empty.",
    },
    # -- things that do not exist ------------------------------------------------------------
    "clinic_not_found": {"sv": "Kliniken finns inte.", "en": "The clinic does not exist."},
    "clinician_not_found": {
        "sv": "Behandlaren finns inte.",
        "en": "The clinician does not exist.",
    },
    "clinician_not_at_clinic": {
        "sv": "Behandlaren tar inte emot bokningar på den kliniken.",
        "en": "The clinician does not take bookings at that clinic.",
    },
    "treatment_not_found": {
        "sv": "Behandlingen finns inte eller kan inte bokas online.",
        "en": "The treatment does not exist or cannot be booked online.",
    },
    "reservation_not_found": {
        "sv": "Reservationen finns inte.",
        "en": "The reservation does not exist.",
    },
    "booking_not_found": {
        "sv": "Bokningen finns inte (för den patienten).",
        "en": "The booking does not exist (for that patient).",
    },
    # -- a patient's own bookings: cancel, reschedule, list --------------------------------
    "view_bookings_disabled": {
        "sv": "Kliniken visar inte bokningar online (Visning av bokning är avstängd).",
        "en": "The clinic does not show bookings online (viewing bookings is turned off).",
    },
    "cancel_disabled": {
        "sv": "Kliniken tar inte emot avbokningar online (Avbokning är avstängd). "
        "Kontakta kliniken.",
        "en": "The clinic does not accept cancellations online (cancelling is turned off). "
        "Please contact the clinic.",
    },
    "change_disabled": {
        "sv": "Kliniken tar inte emot ombokningar online (Ändra bokning är avstängd). "
        "Kontakta kliniken.",
        "en": "The clinic does not accept rebookings online (changing bookings is turned "
        "off). Please contact the clinic.",
    },
    "cancel_not_for_treatment": {
        "sv": "Den här behandlingen kan inte avbokas online. Kontakta kliniken.",
        "en": "This treatment cannot be cancelled online. Please contact the clinic.",
    },
    "change_not_for_treatment": {
        "sv": "Den här behandlingen kan inte bokas om online. Kontakta kliniken.",
        "en": "This treatment cannot be rebooked online. Please contact the clinic.",
    },
    "past_cutoff": {
        "sv": "Det är för sent att avboka eller boka om online (det gick till {time}). "
        "Kontakta kliniken.",
        "en": "It is too late to cancel or rebook online (possible until {time}). "
        "Please contact the clinic.",
    },
    "booking_not_active": {
        "sv": "Bokningen är avbokad, flyttad eller redan passerad och kan inte ändras.",
        "en": "The booking is cancelled, moved or already past and cannot be changed.",
    },
    "reschedule_same_clinic": {
        "sv": "En bokning flyttas inom samma klinik; ange bokningens klinik eller inget.",
        "en": "A booking is moved within its clinic; give the booking's clinic or none.",
    },
    "reschedule_same_treatment": {
        "sv": "En bokning flyttas till en tid för samma behandling; ange bokningens "
        "behandling eller ingen.",
        "en": "A booking is moved to a time for the same treatment; give the booking's "
        "treatment or none.",
    },
    # -- races -------------------------------------------------------------------------------
    "time_taken": {
        "sv": "Tiden är inte längre ledig. Välj någon av de närmaste lediga tiderna.",
        "en": "The time is no longer free. Please choose one of the nearest free times.",
    },
    "too_many_reservations": {
        "sv": "API-nyckeln har redan {most} reservationer. Boka eller ta bort någon först.",
        "en": "The API key already has {most} reservations. Book or delete one first.",
    },
    "reservation_booked": {
        "sv": "Reservationen är redan bokad och kan inte tas bort här.",
        "en": "The reservation has already been booked and cannot be removed here.",
    },
}


def language(accept_language: str | None) -> str:
    """Swedish unless the client prefers English: of sv and en, the one with the
    highest q (the first named on a tie)."""
    best, best_q = "sv", -1.0
    for part in (accept_language or "")[:200].split(","):
        tag, _, params = part.partition(";")
        tag = tag.strip().lower()[:2]
        if tag not in LANGUAGES:
            continue
        try:
            q = float(params.strip().removeprefix("q=")) if params.strip() else 1.0
        except ValueError:
            q = 0.0
        if q > best_q:
            best, best_q = tag, q
    return best


def text(key: str, lang: str = "sv", **params: object) -> str:
    texts = MESSAGES[key]
    message = texts.get(lang) or texts["sv"]
    return message.format(**params) if params else message
