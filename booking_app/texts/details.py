"""Step 5, *Dina uppgifter*: the patient's details, the confirmation code, the captcha, and
the page that says the time is booked."""

from __future__ import annotations

DETAILS_TEXTS: dict[str, dict[str, str]] = {
    "summary_time": {"sv": "Tid", "en": "Time"},
    "summary_clinic": {"sv": "Klinik", "en": "Clinic"},
    "summary_practitioner": {"sv": "Behandlare", "en": "Practitioner"},
    "summary_treatment": {"sv": "Behandling", "en": "Treatment"},
    "held_until": {
        "sv": "Tiden är reserverad åt dig till kl. {time}.",
        "en": "The time is reserved for you until {time}.",
    },
    "patient_info_heading": {"sv": "Viktig information", "en": "Important information"},
    "patient_info_default": {
        "sv": "Om du inte kan komma på din bokade tid, avboka senast 24 timmar innan. "
        "Uteblivet besök eller sen avbokning kan komma att debiteras. Ta med giltig "
        "legitimation till besöket.",
        "en": "If you cannot come at your booked time, cancel at least 24 hours before. "
        "A missed visit or late cancellation may be charged. Bring valid ID to the visit.",
    },
    "errors_heading": {"sv": "Något behöver rättas", "en": "Something needs correcting"},
    "optional": {"sv": "(frivilligt)", "en": "(optional)"},
    "field_personal_number": {"sv": "Personnummer", "en": "Personal identity number"},
    "hint_personal_number": {
        "sv": "10 eller 12 siffror, till exempel ÅÅÅÅMMDD-NNNN. Samordningsnummer går bra.",
        "en": "10 or 12 digits, for example YYYYMMDD-NNNN. Coordination numbers are accepted.",
    },
    "field_first_name": {"sv": "Förnamn", "en": "First name"},
    "field_last_name": {"sv": "Efternamn", "en": "Last name"},
    "field_mobile": {"sv": "Mobilnummer", "en": "Mobile number"},
    "hint_mobile": {
        "sv": "Till exempel 070-123 45 67. Utländska nummer med landsnummer, som +47.",
        "en": "For example 070-123 45 67. A number abroad with its country code, like +47.",
    },
    "field_email": {"sv": "E-postadress", "en": "E-mail address"},
    "field_address": {"sv": "Gatuadress", "en": "Street address"},
    "field_postal_code": {"sv": "Postnummer", "en": "Postal code"},
    "field_city": {"sv": "Ort", "en": "Town"},
    "field_message": {"sv": "Meddelande till kliniken", "en": "Message to the clinic"},
    "hint_message": {"sv": "Högst 500 tecken.", "en": "At most 500 characters."},
    "field_campaign_code": {"sv": "Kampanjkod", "en": "Campaign code"},
    "code_channel_legend": {
        "sv": "Hur vill du få bekräftelsekoden?",
        "en": "How do you want to receive the confirmation code?",
    },
    "code_by_email": {"sv": "Med e-post", "en": "By e-mail"},
    "code_by_sms": {"sv": "Med sms", "en": "By text message"},
    "details_submit_code": {"sv": "Skicka kod", "en": "Send code"},
    "details_submit_book": {"sv": "Fortsätt", "en": "Continue"},
    # field errors (keys from validations.patient and booking_app.details)
    "personal_number_required": {
        "sv": "Fyll i ditt personnummer.",
        "en": "Enter your personal identity number.",
    },
    "personal_number_format": {
        "sv": "Personnumret ska ha 10 eller 12 siffror, till exempel 19121212-1212.",
        "en": "The personal identity number must have 10 or 12 digits, for example 19121212-1212.",
    },
    "personal_number_date": {
        "sv": "Personnumret innehåller inget giltigt födelsedatum.",
        "en": "The personal identity number does not contain a valid date of birth.",
    },
    "personal_number_serial": {
        "sv": "Personnumret finns inte: de tre siffrorna före kontrollsiffran kan inte vara 000. "
        "Kontrollera siffrorna.",
        "en": "The personal identity number does not exist: the three digits before the check "
        "digit cannot be 000. Check the digits.",
    },
    "personal_number_checksum": {
        "sv": "Personnumret stämmer inte: kontrollsiffran är fel. Kontrollera siffrorna.",
        "en": "The personal identity number is not right: the check digit is wrong. "
        "Check the digits.",
    },
    "first_name_required": {"sv": "Fyll i ditt förnamn.", "en": "Enter your first name."},
    "first_name_too_long": {
        "sv": "Förnamnet får vara högst 50 tecken.",
        "en": "The first name may be at most 50 characters.",
    },
    "first_name_invalid": {
        "sv": "Förnamnet innehåller otillåtna tecken.",
        "en": "The first name contains characters that are not allowed.",
    },
    "last_name_required": {"sv": "Fyll i ditt efternamn.", "en": "Enter your last name."},
    "last_name_too_long": {
        "sv": "Efternamnet får vara högst 50 tecken.",
        "en": "The last name may be at most 50 characters.",
    },
    "last_name_invalid": {
        "sv": "Efternamnet innehåller otillåtna tecken.",
        "en": "The last name contains characters that are not allowed.",
    },
    "mobile_required": {"sv": "Fyll i ditt mobilnummer.", "en": "Enter your mobile number."},
    "mobile_format": {
        "sv": "Mobilnumret ska bara innehålla siffror, till exempel 070-123 45 67.",
        "en": "The mobile number may only contain digits, for example 070-123 45 67.",
    },
    "mobile_not_swedish_mobile": {
        "sv": "Det är inte ett svenskt mobilnummer. Ange ett mobilnummer som 070-123 45 67; "
        "fasta nummer och servicenummer (som 0771-) kan inte ta emot sms.",
        "en": "That is not a Swedish mobile number. Enter a mobile number like "
        "070-123 45 67; landlines and service numbers (like 0771-) cannot receive texts.",
    },
    "email_required": {"sv": "Fyll i din e-postadress.", "en": "Enter your e-mail address."},
    "email_format": {
        "sv": "E-postadressen ser inte rätt ut. Den ska se ut som namn@exempel.se.",
        "en": "The e-mail address does not look right. It should look like name@example.com.",
    },
    "address1_required": {"sv": "Fyll i din gatuadress.", "en": "Enter your street address."},
    "address1_too_long": {
        "sv": "Gatuadressen får vara högst 100 tecken.",
        "en": "The street address may be at most 100 characters.",
    },
    "address1_invalid": {
        "sv": "Gatuadressen innehåller otillåtna tecken.",
        "en": "The street address contains characters that are not allowed.",
    },
    "postal_code_required": {"sv": "Fyll i ditt postnummer.", "en": "Enter your postal code."},
    "postal_code_format": {
        "sv": "Postnumret ska ha fem siffror, till exempel 753 21.",
        "en": "The postal code must have five digits, for example 753 21.",
    },
    "city_required": {"sv": "Fyll i din ort.", "en": "Enter your town."},
    "city_too_long": {
        "sv": "Orten får vara högst 50 tecken.",
        "en": "The town may be at most 50 characters.",
    },
    "city_invalid": {
        "sv": "Orten innehåller otillåtna tecken.",
        "en": "The town contains characters that are not allowed.",
    },
    "message_too_long": {
        "sv": "Meddelandet får vara högst 500 tecken.",
        "en": "The message may be at most 500 characters.",
    },
    "message_invalid": {
        "sv": "Meddelandet innehåller otillåtna tecken.",
        "en": "The message contains characters that are not allowed.",
    },
    "campaign_code_too_long": {
        "sv": "Kampanjkoden får vara högst 30 tecken.",
        "en": "The campaign code may be at most 30 characters.",
    },
    "campaign_code_invalid": {
        "sv": "Kampanjkoden innehåller otillåtna tecken.",
        "en": "The campaign code contains characters that are not allowed.",
    },
    "code_channel_required": {
        "sv": "Välj om koden ska skickas med e-post eller sms.",
        "en": "Choose whether the code is sent by e-mail or text message.",
    },
    # -- the code ---------------------------------------------------------------------
    "code_heading": {"sv": "Bekräfta med kod", "en": "Confirm with a code"},
    "code_sent_by_email": {
        "sv": "Vi har skickat en sexsiffrig kod till din e-postadress. Skriv in den "
        "nedan för att bekräfta bokningen.",
        "en": "We have sent a six-digit code to your e-mail address. Enter it below to "
        "confirm the booking.",
    },
    "code_sent_by_sms": {
        "sv": "Vi har skickat en sexsiffrig kod med sms till din mobil. Skriv in den "
        "nedan för att bekräfta bokningen.",
        "en": "We have sent a six-digit code by text message to your mobile. Enter it "
        "below to confirm the booking.",
    },
    "code_label": {"sv": "Kod", "en": "Code"},
    "code_attempts_left": {
        "sv": "Sex siffror. Du har {count} försök kvar.",
        "en": "Six digits. You have {count} attempts left.",
    },
    "code_submit": {"sv": "Bekräfta bokningen", "en": "Confirm the booking"},
    "code_format": {"sv": "Koden består av sex siffror.", "en": "The code is six digits."},
    "code_wrong": {
        "sv": "Koden stämmer inte. Kontrollera och försök igen.",
        "en": "The code is not right. Check it and try again.",
    },
    "code_expired": {
        "sv": "Koden har gått ut. Be om en ny kod nedan.",
        "en": "The code has expired. Ask for a new code below.",
    },
    "code_resend_legend": {"sv": "Fick du ingen kod?", "en": "Did you not get a code?"},
    "code_resend": {"sv": "Skicka en ny kod", "en": "Send a new code"},
    "code_resent": {"sv": "En ny kod har skickats.", "en": "A new code has been sent."},
    "code_resend_too_soon": {
        "sv": "Vänta {seconds} sekunder innan du ber om en ny kod.",
        "en": "Wait {seconds} seconds before asking for a new code.",
    },
    # -- the captcha ----------------------------------------------------------------
    "captcha_heading": {"sv": "Bekräfta bokningen", "en": "Confirm the booking"},
    "captcha_explained": {
        "sv": "När du trycker på knappen gör din webbläsare en kort beräkning som visar "
        "att bokningen görs av en människa och inte av ett program. Det tar oftast "
        "någon sekund. Sedan är tiden bokad.",
        "en": "When you press the button, your browser does a short calculation that "
        "shows the booking is made by a person, not a program. It usually takes a "
        "second or so. Then the time is booked.",
    },
    "captcha_submit": {"sv": "Bekräfta bokningen", "en": "Confirm the booking"},
    "captcha_working": {"sv": "Bekräftar, vänta en stund …", "en": "Confirming, please wait …"},
    "captcha_needs_javascript": {
        "sv": "Det här steget behöver JavaScript. Slå på JavaScript eller kontakta kliniken.",
        "en": "This step needs JavaScript. Turn JavaScript on or contact the clinic.",
    },
    "captcha_invalid": {
        "sv": "Bekräftelsen kunde inte kontrolleras. Tryck på knappen igen.",
        "en": "The confirmation could not be checked. Press the button again.",
    },
    "captcha_expired": {
        "sv": "Bekräftelsen tog för lång tid. Tryck på knappen igen.",
        "en": "The confirmation took too long. Press the button again.",
    },
    # -- booked -------------------------------------------------------------------------
    "confirmed_heading": {"sv": "Din tid är bokad", "en": "Your appointment is booked"},
    "confirmed_body": {
        "sv": "Tack! Din bokning är klar.",
        "en": "Thank you! Your booking is complete.",
    },
    "confirmed_messages": {
        "sv": "En bekräftelse skickas till din e-post och mobil.",
        "en": "A confirmation is sent to your e-mail and mobile.",
    },
}
