"""The site's UI text: Swedish first, English second, one catalogue.

Keys name what the text is for, not what it says, so a reworded text keeps its key.
Tenant-written text (welcome text, clinic texts) is not here: it is shown as written.
"""

from __future__ import annotations

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"

MESSAGES: dict[str, dict[str, str]] = {
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
    # -- the booking steps --------------------------------------------------------
    "book_time": {"sv": "Boka tid", "en": "Book an appointment"},
    "book_at_clinic": {"sv": "Boka tid på {clinic}", "en": "Book at {clinic}"},
    "progress_label": {"sv": "Bokningens steg", "en": "Booking steps"},
    "step_clinic": {"sv": "Klinik", "en": "Clinic"},
    "step_treatment": {"sv": "Behandling", "en": "Treatment"},
    "step_practitioner": {"sv": "Behandlare", "en": "Practitioner"},
    "step_time": {"sv": "Tid", "en": "Time"},
    "step_details": {"sv": "Dina uppgifter", "en": "Your details"},
    "change": {"sv": "Ändra", "en": "Change"},
    "back": {"sv": "Tillbaka", "en": "Back"},
    "to_first_page": {"sv": "Till startsidan", "en": "To the first page"},
    "choose_clinic": {"sv": "Välj klinik", "en": "Choose a clinic"},
    "choose_treatment": {"sv": "Välj behandling", "en": "Choose a treatment"},
    "choose_practitioner": {"sv": "Välj behandlare", "en": "Choose a practitioner"},
    "choose_treatment_and_practitioner": {
        "sv": "Välj behandling och behandlare",
        "en": "Choose a treatment and a practitioner",
    },
    "choose_time": {"sv": "Välj tid", "en": "Choose a time"},
    "any_clinic": {"sv": "Vilken klinik som helst", "en": "Any clinic"},
    "any_clinic_hint": {
        "sv": "Visa lediga tider på alla våra kliniker.",
        "en": "Show free times at all our clinics.",
    },
    "any_clinic_chosen": {"sv": "vilken klinik som helst", "en": "any clinic"},
    "any_practitioner": {"sv": "Vilken behandlare som helst", "en": "Any practitioner"},
    "any_practitioner_hint": {
        "sv": "Visa lediga tider hos alla behandlare.",
        "en": "Show free times with every practitioner.",
    },
    "duration_minutes": {"sv": "{minutes} minuter", "en": "{minutes} minutes"},
    "portrait_of": {"sv": "Foto av {name}", "en": "Photo of {name}"},
    "no_treatments": {
        "sv": "Det finns inga behandlingar att boka här just nu.",
        "en": "There are no treatments to book here right now.",
    },
    "no_practitioners": {
        "sv": "Det finns inga behandlare att boka här just nu.",
        "en": "There are no practitioners to book here right now.",
    },
    "show_times": {"sv": "Visa lediga tider", "en": "Show free times"},
    "choose_treatment_error": {"sv": "Välj en behandling.", "en": "Choose a treatment."},
    "choose_practitioner_error": {
        "sv": "Välj en behandlare.",
        "en": "Choose a practitioner.",
    },
    "practitioner_cannot_do_treatment": {
        "sv": "Behandlaren du valde har inga tider för den behandlingen. "
        "Välj en annan behandlare eller behandling.",
        "en": "The practitioner you chose has no times for that treatment. "
        "Choose another practitioner or treatment.",
    },
    "hold_explained": {
        "sv": "När du väljer reserveras tiden åt dig i tio minuter medan du fyller i "
        "dina uppgifter.",
        "en": "When you choose, the time is reserved for you for ten minutes while you "
        "fill in your details.",
    },
    # -- the time step --------------------------------------------------------------
    "first_free_time": {"sv": "Första lediga tid", "en": "First free time"},
    "no_free_times_at_all": {
        "sv": "Det finns inga lediga tider för ditt val just nu.",
        "en": "There are no free times for your choice right now.",
    },
    "month_nav": {"sv": "Byt månad", "en": "Change month"},
    "week_nav": {"sv": "Byt vecka", "en": "Change week"},
    "previous_month": {"sv": "Föregående månad", "en": "Previous month"},
    "next_month": {"sv": "Nästa månad", "en": "Next month"},
    "previous_week": {"sv": "Föregående vecka", "en": "Previous week"},
    "next_week": {"sv": "Nästa vecka", "en": "Next week"},
    "calendar_caption": {
        "sv": "Dagar med lediga tider i {month}",
        "en": "Days with free times in {month}",
    },
    "calendar_hint": {
        "sv": "Dagar med lediga tider är länkar: välj en dag för att se veckans tider.",
        "en": "Days with free times are links: choose a day to see that week's times.",
    },
    "weekday_initials": {"sv": "mån tis ons tors fre lör sön", "en": "Mon Tue Wed Thu Fri Sat Sun"},
    "day_has_times": {"sv": "{day}, lediga tider finns", "en": "{day}, free times"},
    "day_has_no_times": {"sv": "{day}, inga lediga tider", "en": "{day}, no free times"},
    "week_heading": {"sv": "Vecka {first} – {last}", "en": "Week {first} – {last}"},
    "no_times_this_day": {"sv": "Inga lediga tider", "en": "No free times"},
    "time_with_practitioner": {"sv": "{time} hos {name}", "en": "{time} with {name}"},
    "time_at_clinic": {"sv": "{time} på {clinic}", "en": "{time} at {clinic}"},
    # -- time lost ------------------------------------------------------------------
    "time_taken_title": {
        "sv": "Tiden är inte längre ledig",
        "en": "The time is no longer free",
    },
    "time_taken_body": {
        "sv": "Någon annan hann boka tiden du valde. Välj en av de närmaste lediga "
        "tiderna nedan, eller en annan tid.",
        "en": "Someone else booked the time you chose. Choose one of the nearest free "
        "times below, or another time.",
    },
    "hold_lost_title": {"sv": "Reservationen har gått ut", "en": "Your reservation expired"},
    "hold_lost_body": {
        "sv": "Tiden var reserverad åt dig en begränsad stund och är nu inte längre din. "
        "Ingen bokning har gjorts. Välj en av de närmaste lediga tiderna nedan.",
        "en": "The time was reserved for you for a limited while and is no longer yours. "
        "No booking was made. Choose one of the nearest free times below.",
    },
    "code_locked_title": {"sv": "För många felaktiga koder", "en": "Too many wrong codes"},
    "code_locked_body": {
        "sv": "Koden angavs fel för många gånger, så tiden har släppts och ingen bokning "
        "har gjorts. Välj en ny tid nedan för att försöka igen.",
        "en": "The code was entered wrongly too many times, so the time has been released "
        "and no booking was made. Choose a new time below to try again.",
    },
    "nearest_times": {"sv": "Närmaste lediga tider", "en": "Nearest free times"},
    "no_nearest_times": {
        "sv": "Det finns inga lediga tider i närheten.",
        "en": "There are no free times nearby.",
    },
    "choose_another_time": {"sv": "Välj en annan tid", "en": "Choose another time"},
    # -- booking not possible ---------------------------------------------------------
    "new_booking_disabled_title": {
        "sv": "Det går inte att boka ny tid här",
        "en": "New appointments cannot be booked here",
    },
    "new_booking_disabled_body": {
        "sv": "Kliniken tar inte emot nya bokningar på webben just nu. "
        "Kontakta kliniken för att boka.",
        "en": "The clinic does not take new bookings online right now. "
        "Please contact the clinic to book.",
    },
    "login_required_title": {"sv": "Logga in för att boka", "en": "Log in to book"},
    "login_required_body": {
        "sv": "För att boka en ny tid behöver du logga in med BankID.",
        "en": "To book a new appointment you need to log in with BankID.",
    },
    "login_with_bankid": {"sv": "Logga in med BankID", "en": "Log in with BankID"},
    "logged_in_with_bankid": {
        "sv": "Du är inloggad med BankID: ditt personnummer hämtas därifrån.",
        "en": "You are logged in with BankID: your personal identity number comes from it.",
    },
    # -- step 5 -------------------------------------------------------------------------
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
        "en": "For example 070-123 45 67. Numbers abroad with their country code, like +47.",
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
    "code_by_sms": {"sv": "Med SMS", "en": "By text message"},
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
        "sv": "Det är inte ett svenskt mobilnummer. Svenska mobilnummer börjar med 07.",
        "en": "That is not a Swedish mobile number. Swedish mobile numbers start with 07.",
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
        "sv": "Välj om koden ska skickas med e-post eller SMS.",
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
        "sv": "Vi har skickat en sexsiffrig kod med SMS till din mobil. Skriv in den "
        "nedan för att bekräfta bokningen.",
        "en": "We have sent a six-digit code by text message to your mobile. Enter it "
        "below to confirm the booking.",
    },
    "code_label": {"sv": "Kod", "en": "Code"},
    "code_attempts_left": {
        "sv": "Sex siffror. Du har {count} försök kvar.",
        "en": "Six digits. You have {count} tries left.",
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
    # -- refused forms ----------------------------------------------------------------
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
}


def language(value: str | None) -> str:
    """A supported language code from ``?lang=``; anything else is Swedish."""
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text for ``key`` in ``lang``, Swedish when that language lacks it. An unknown
    key raises: a missing text is a bug to see in tests, not a blank on the page."""
    texts = MESSAGES[key]
    return texts.get(lang) or texts[DEFAULT_LANGUAGE]
