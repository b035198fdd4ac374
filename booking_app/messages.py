"""The site's UI text: Swedish first, English second, one catalogue.

Keys name what the text is for, not what it says, so a reworded text keeps its key.
Tenant-written text (welcome text, clinic texts) is not here: it is shown as written.
"""

from __future__ import annotations

from booking_app.api_key_messages import API_KEY_MESSAGES
from booking_app.opus_connection_messages import OPUS_CONNECTION_MESSAGES
from booking_app.patient_data_messages import PATIENT_DATA_MESSAGES

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
    "limit_title": {"sv": "Gränsen är nådd", "en": "Limit reached"},
    "limit_holds_body": {
        "sv": "Du har redan tre tider reserverade. Slutför eller avbryt någon av dem, "
        "eller vänta tills reservationen går ut (högst tio minuter), innan du väljer en "
        "ny tid.",
        "en": "You already have three times reserved. Complete or give up one of them, "
        "or wait until a reservation expires (at most ten minutes), before you choose "
        "another time.",
    },
    "limit_codes_per_hold_body": {
        "sv": "Tre koder har redan skickats för den här bokningen, så tiden har släppts "
        "och ingen bokning har gjorts. Välj en tid igen för att försöka på nytt.",
        "en": "Three codes have already been sent for this booking, so the time has been "
        "released and no booking has been made. Choose a time again to try once more.",
    },
    "limit_recipient_body": {
        "sv": "Det har skickats för många koder till den här mottagaren den senaste "
        "timmen. Försök igen senare.",
        "en": "Too many codes have been sent to this recipient in the last hour. "
        "Please try again later.",
    },
    "limit_client_hour_body": {
        "sv": "Du har fått för många koder den senaste timmen. Försök igen senare.",
        "en": "You have been sent too many codes in the last hour. Please try again later.",
    },
    "limit_client_day_body": {
        "sv": "Du har fått för många koder det senaste dygnet. Försök igen i morgon, eller "
        "ring kliniken.",
        "en": "You have been sent too many codes in the last day. Please try again "
        "tomorrow, or call the clinic.",
    },
    "limit_tenant_hour_body": {
        "sv": "Vi kan inte skicka fler koder just nu. Försök igen om en stund, eller ring "
        "kliniken.",
        "en": "We cannot send more codes right now. Please try again in a while, or call "
        "the clinic.",
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
    # -- e-ID login (BankID) -------------------------------------------------------------
    "account_nav": {"sv": "Ditt konto", "en": "Your account"},
    "login": {"sv": "Logga in", "en": "Log in"},
    "logout": {"sv": "Logga ut", "en": "Log out"},
    "login_heading": {"sv": "Logga in med BankID", "en": "Log in with BankID"},
    "login_intro": {
        "sv": "Logga in för att se dina bokningar, boka om eller avboka.",
        "en": "Log in to see your bookings, rebook or cancel.",
    },
    "login_other_device": {
        "sv": "Mobilt BankID på annan enhet",
        "en": "Mobile BankID on another device",
    },
    "login_this_device": {"sv": "BankID på den här enheten", "en": "BankID on this device"},
    "login_cancelled": {"sv": "Inloggningen avbröts.", "en": "The login was cancelled."},
    "login_unavailable": {
        "sv": "Inloggning med BankID går inte att använda just nu. Kontakta kliniken.",
        "en": "Logging in with BankID is not available right now. Please contact the clinic.",
    },
    "bankid_heading": {"sv": "Legitimera dig med BankID", "en": "Identify yourself with BankID"},
    "bankid_qr_instructions": {
        "sv": "Starta BankID-appen i din mobil och tryck på Skanna QR-kod. Rikta kameran mot "
        "QR-koden här nedanför.",
        "en": "Start the BankID app on your phone and tap Scan QR code. Point the camera at "
        "the QR code below.",
    },
    "bankid_qr_label": {"sv": "QR-kod för BankID", "en": "QR code for BankID"},
    "bankid_open_app": {"sv": "Öppna BankID", "en": "Open BankID"},
    "bankid_continue": {"sv": "Fortsätt", "en": "Continue"},
    "bankid_cancel": {"sv": "Avbryt", "en": "Cancel"},
    "bankid_try_again": {"sv": "Försök igen", "en": "Try again"},
    "bankid_needs_javascript": {
        "sv": "Koden uppdateras bara med JavaScript påslaget. Tryck på Fortsätt när du har "
        "legitimerat dig i appen.",
        "en": "The code only updates with JavaScript on. Press Continue once you have "
        "identified yourself in the app.",
    },
    # BankID's recommended user messages (RFA), by the hint or error they answer
    "bankid_rfa1": {"sv": "Starta BankID-appen.", "en": "Start your BankID app."},
    "bankid_rfa2": {
        "sv": "Du har inte BankID-appen installerad. Kontakta din bank.",
        "en": "The BankID app is not installed. Please contact your bank.",
    },
    "bankid_rfa3": {
        "sv": "Åtgärden avbruten. Försök igen.",
        "en": "Action cancelled. Please try again.",
    },
    "bankid_rfa4": {
        "sv": "En identifiering eller underskrift för det här personnumret är redan påbörjad. "
        "Försök igen.",
        "en": "An identification or signing for this personal number is already started. "
        "Please try again.",
    },
    "bankid_rfa5": {
        "sv": "Internt tekniskt fel. Försök igen.",
        "en": "Internal error. Please try again.",
    },
    "bankid_rfa6": {"sv": "Åtgärden avbruten.", "en": "Action cancelled."},
    "bankid_rfa8": {
        "sv": "BankID-appen svarar inte. Kontrollera att den är startad och att du har "
        "internetanslutning. Om du inte har något giltigt BankID kan du skaffa ett hos din "
        "bank. Försök sedan igen.",
        "en": "The BankID app is not responding. Please check that it is started and that "
        "you have internet access. If you do not have a valid BankID you can get one from "
        "your bank. Try again.",
    },
    "bankid_rfa9": {
        "sv": "Skriv in din säkerhetskod i BankID-appen och välj Identifiera.",
        "en": "Enter your security code in the BankID app and select Identify.",
    },
    "bankid_rfa13": {
        "sv": "Försöker starta BankID-appen.",
        "en": "Trying to start your BankID app.",
    },
    "bankid_rfa14": {
        "sv": "Söker efter BankID, det kan ta en liten stund …",
        "en": "Searching for BankID, it may take a little while …",
    },
    "bankid_rfa16": {
        "sv": "Det BankID du försöker använda är för gammalt eller spärrat. Använd ett annat "
        "BankID eller skaffa ett nytt hos din bank.",
        "en": "The BankID you are trying to use is blocked or too old. Please use another "
        "BankID or get a new one from your bank.",
    },
    "bankid_rfa17a": {
        "sv": "BankID-appen verkar inte finnas i din dator eller telefon. Installera den och "
        "skaffa ett BankID hos din bank.",
        "en": "The BankID app could not be found on your computer or mobile device. Please "
        "install it and get a BankID from your bank.",
    },
    "bankid_rfa17b": {
        "sv": "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden. "
        "Kontrollera att BankID-appen är uppdaterad.",
        "en": "Failed to scan the QR code. Start the BankID app and scan the QR code. Check "
        "that the BankID app is up to date.",
    },
    "bankid_rfa21": {"sv": "Identifiering pågår.", "en": "Identification in progress."},
    "bankid_rfa22": {"sv": "Okänt fel. Försök igen.", "en": "Unknown error. Please try again."},
    "bankid_rfa23": {
        "sv": "Fotografera och läs av din ID-handling med BankID-appen.",
        "en": "Process your machine-readable travel document using the BankID app.",
    },
    "bankid_unreachable": {
        "sv": "BankID går inte att nå just nu. Försök igen om en stund.",
        "en": "BankID cannot be reached right now. Please try again shortly.",
    },
    "logged_in_as": {"sv": "Inloggad som {name}", "en": "Logged in as {name}"},
    # -- Mina bokningar -----------------------------------------------------------------
    "my_bookings": {"sv": "Mina bokningar", "en": "My bookings"},
    "my_bookings_none": {
        "sv": "Du har inga kommande bokningar.",
        "en": "You have no coming appointments.",
    },
    "my_booking_cancel": {"sv": "Avboka", "en": "Cancel"},
    "my_booking_rebook": {"sv": "Boka om", "en": "Rebook"},
    "my_booking_cancelled": {"sv": "Din tid är avbokad.", "en": "Your appointment is cancelled."},
    "my_booking_rebooked": {
        "sv": "Din tid är ombokad till {time}.",
        "en": "Your appointment is moved to {time}.",
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
    # -- the operators' pages (booking_app/admin), the manual's labels ---------------
    "admin_title": {"sv": "Opus Online – inställningar", "en": "Opus Online – settings"},
    "admin_tabs": {"sv": "Flikar", "en": "Tabs"},
    "admin_saved": {"sv": "Ändringarna är sparade.", "en": "Your changes are saved."},
    "admin_save": {"sv": "Spara", "en": "Save"},
    "admin_login_heading": {"sv": "Logga in som operatör", "en": "Operator login"},
    "admin_email": {"sv": "E-postadress", "en": "E-mail address"},
    "admin_password": {"sv": "Lösenord", "en": "Password"},
    "admin_login": {"sv": "Logga in", "en": "Log in"},
    "admin_login_failed": {
        "sv": "Fel e-postadress eller lösenord, eller för många misslyckade försök; "
        "försök då igen om en stund.",
        "en": "Wrong e-mail address or password, or too many failed attempts; "
        "if so, try again in a while.",
    },
    "admin_tenants": {"sv": "Dina kundkonton", "en": "Your accounts"},
    "admin_no_tenants": {
        "sv": "Du har inte behörighet till något kundkonto.",
        "en": "You have no access to any account.",
    },
    "admin_role_administrator": {"sv": "administratör", "en": "administrator"},
    "admin_role_operator": {"sv": "operatör", "en": "operator"},
    "admin_role_analyst": {"sv": "analytiker (endast läsa)", "en": "analyst (read only)"},
    "admin_tab_clinics": {"sv": "Kliniker", "en": "Clinics"},
    "admin_tab_subdomain": {"sv": "Underdomän", "en": "Subdomain"},
    "admin_tab_flexibility": {"sv": "Flexibilitet", "en": "Flexibility"},
    "admin_tab_media": {"sv": "Media", "en": "Media"},
    "admin_tab_email": {"sv": "E-post", "en": "E-mail"},
    "admin_tab_sms": {"sv": "SMS", "en": "SMS"},
    "admin_tab_advanced": {"sv": "Avancerat", "en": "Advanced"},
    "admin_tab_audit": {"sv": "Ändringslogg", "en": "Audit log"},
    "admin_general_settings": {"sv": "Allmänna inställningar", "en": "General settings"},
    "admin_flex_view_bookings_enabled": {
        "sv": "Visning av bokning aktiverad",
        "en": "Viewing bookings enabled",
    },
    "admin_flex_login_enabled": {"sv": "Inloggning aktiverad", "en": "Login enabled"},
    "admin_flex_cancel_enabled": {"sv": "Avbokning aktiverad", "en": "Cancellation enabled"},
    "admin_flex_change_enabled": {"sv": "Ändra bokning aktiverad", "en": "Rebooking enabled"},
    "admin_flex_new_booking_enabled": {"sv": "Ny bokning aktiverad", "en": "New booking enabled"},
    "admin_flex_new_booking_requires_login": {
        "sv": "Ny bokning kräver inloggning",
        "en": "New booking requires login",
    },
    "admin_flex_weekend_booking_enabled": {
        "sv": "Helgbokning aktiverad",
        "en": "Weekend booking enabled",
    },
    "admin_flex_code_challenge_enabled": {
        "sv": "Använd e-post/SMS-kod utmaning",
        "en": "Use e-mail/SMS code challenge",
    },
    "admin_flex_maintenance_mode": {"sv": "Aktivera underhållsläge", "en": "Maintenance mode"},
    "admin_flex_publish_boka_vard": {
        "sv": "Publicera på ”Boka vård”",
        "en": "Publish on “Boka vård”",
    },
    "admin_marketplace_none": {
        "sv": "Inget konto hos Boka vård är kopplat: inget publiceras där.",
        "en": "No Boka vård account is linked: nothing is published there.",
    },
    "admin_marketplace_unknown": {
        "sv": "Kontot hos Boka vård har inte kontrollerats än.",
        "en": "The Boka vård account has not been checked yet.",
    },
    "admin_marketplace_waiting": {
        "sv": "Boka vård har inte aktiverat kontot än: inget publiceras förrän de gör det.",
        "en": "Boka vård has not activated the account yet: nothing is published until it does.",
    },
    "admin_marketplace_active": {
        "sv": "Kontot hos Boka vård är aktivt.",
        "en": "The Boka vård account is active.",
    },
    "admin_marketplace_refused": {
        "sv": "Boka vård godtar inte vår nyckel: inget publiceras. Kontakta supporten.",
        "en": "Boka vård does not accept our key: nothing is published. Contact support.",
    },
    "admin_marketplace_last_success": {
        "sv": "Senast publicerat utan fel {when}.",
        "en": "Last published without errors {when}.",
    },
    "admin_marketplace_last_error": {
        "sv": "Senaste felet: {error}",
        "en": "Last error: {error}",
    },
    "admin_flex_publish_opus_online": {
        "sv": "Publicera på ”Opus Dental Online”",
        "en": "Publish on “Opus Dental Online”",
    },
    "admin_flex_user_message_enabled": {
        "sv": "Användarmeddelande aktiverad",
        "en": "User message enabled",
    },
    "admin_flex_any_practitioner_option": {
        "sv": "Visa alternativet Vilken behandlare som helst",
        "en": "Show the option Any practitioner",
    },
    "admin_flex_any_clinic_option": {
        "sv": "Visa alternativet Vilken klinik som helst",
        "en": "Show the option Any clinic",
    },
    "admin_flex_skip_confirmation": {"sv": "Hoppa över bekräftelse", "en": "Skip confirmation"},
    "admin_registration_settings": {
        "sv": "Registreringsinställningar",
        "en": "Registration settings",
    },
    "admin_flex_ask_address": {"sv": "Fråga efter adress", "en": "Ask for address"},
    "admin_flex_campaign_code_enabled": {
        "sv": "Kampanjkod aktiverad",
        "en": "Campaign code enabled",
    },
    "admin_step_order": {"sv": "Bokningsinställningsordning", "en": "Booking step order"},
    "admin_flex_combined_view": {"sv": "Sammanslagen visning", "en": "Combined view"},
    "admin_change_setting": {"sv": "Ändra bokningsinställning", "en": "Rebooking setting"},
    "admin_flex_change_cutoff_hours": {
        "sv": "Timmar före besöket då ombokning och avbokning stänger",
        "en": "Hours before the appointment when rebooking and cancelling close",
    },
    "admin_limit_hits": {"sv": "Stoppade försök", "en": "Refused attempts"},
    "admin_limit_hits_intro": {
        "sv": "Gånger som gränserna för anonyma besökare har stoppat en reservation eller "
        "en kod, sedan starten.",
        "en": "Times the limits on anonymous visitors have refused a hold or a code, "
        "since the start.",
    },
    "admin_limit_hits_kind": {"sv": "Gräns", "en": "Limit"},
    "admin_limit_hits_count": {"sv": "Antal", "en": "Count"},
    "admin_limit_kind_holds": {
        "sv": "Högst 3 reserverade tider per besökare",
        "en": "At most 3 held times per visitor",
    },
    "admin_limit_kind_codes_per_hold": {
        "sv": "Högst 3 koder per reservation",
        "en": "At most 3 codes per hold",
    },
    "admin_limit_kind_recipient": {
        "sv": "Högst 3 koder per mottagare och timme",
        "en": "At most 3 codes per recipient an hour",
    },
    "admin_limit_kind_client_hour": {
        "sv": "Högst 3 koder per besökare och timme",
        "en": "At most 3 codes per visitor an hour",
    },
    "admin_limit_kind_client_day": {
        "sv": "Högst 10 koder per besökare och dygn",
        "en": "At most 10 codes per visitor a day",
    },
    "admin_limit_kind_tenant_hour": {
        "sv": "Kedjans tak för koder per timme",
        "en": "The chain's cap on codes an hour",
    },
    "admin_flex_months_to_sync": {
        "sv": "Antal månader att publicera",
        "en": "Months of times to publish",
    },
    "admin_error_steps": {
        "sv": "Varje steg (Klinik, Behandling, Behandlare, Tid) ska väljas exakt en gång.",
        "en": "Choose each step (Clinic, Treatment, Practitioner, Time) exactly once.",
    },
    "admin_error_change_cutoff_hours": {
        "sv": "Timmarna ska vara ett heltal från 0 till 720.",
        "en": "The hours must be a whole number from 0 to 720.",
    },
    "admin_error_months_to_sync": {
        "sv": "Antalet månader ska vara ett heltal från 1 till 24.",
        "en": "The months must be a whole number from 1 to 24.",
    },
    "admin_subdomain_label": {"sv": "Underdomän", "en": "Subdomain"},
    "admin_check_availability": {
        "sv": "Kontrollera tillgänglighet",
        "en": "Check availability",
    },
    "admin_subdomain_free": {"sv": "Namnet är ledigt.", "en": "The name is available."},
    "admin_subdomain_empty": {"sv": "Skriv en underdomän.", "en": "Enter a subdomain."},
    "admin_subdomain_invalid": {
        "sv": "Använd bara a–z, 0–9 och bindestreck (inte först eller sist), högst 63 tecken.",
        "en": "Use only a–z, 0–9 and hyphens (not first or last), at most 63 characters.",
    },
    "admin_subdomain_reserved": {
        "sv": "Namnet är reserverat. Välj ett annat.",
        "en": "That name is reserved. Choose another.",
    },
    "admin_subdomain_taken": {
        "sv": "Namnet används redan. Välj ett annat.",
        "en": "That name is already taken. Choose another.",
    },
    "admin_media_welcome_text": {"sv": "Välkomsttext", "en": "Welcome text"},
    "admin_media_patient_info_text": {"sv": "Patientinformation", "en": "Patient information"},
    "admin_media_default_clinic_text": {
        "sv": "Standardtext för kliniker",
        "en": "Default clinic text",
    },
    "admin_media_patient_info_default": {
        "sv": "Tom patientinformation visar standardtexten.",
        "en": "Empty patient information shows the default text.",
    },
    "admin_media_clinic_text": {"sv": "Klinikspecifik text: {clinic}", "en": "Text for {clinic}"},
    "admin_media_colours": {"sv": "Färgschema", "en": "Colour scheme"},
    "admin_media_color_primary": {"sv": "Huvudfärg", "en": "Primary colour"},
    "admin_media_color_accent": {"sv": "Accentfärg", "en": "Accent colour"},
    "admin_error_colour": {
        "sv": "En färg ska skrivas #RRGGBB.",
        "en": "A colour is written #RRGGBB.",
    },
    "admin_error_primary_contrast": {
        "sv": "Huvudfärgen är för ljus mot den vita sidan (WCAG AA kräver kontrast 3:1).",
        "en": "The primary colour is too light on the white page (WCAG AA needs 3:1).",
    },
    "admin_error_text_contrast": {
        "sv": "Text på färgen blir svårläst (WCAG AA kräver kontrast 4,5:1).",
        "en": "Text on the colour would be hard to read (WCAG AA needs 4.5:1).",
    },
    "admin_error_too_long": {"sv": "En text är för lång.", "en": "A text is too long."},
    "admin_database": {"sv": "Databas", "en": "Database"},
    "admin_order": {"sv": "Ordning", "en": "Order"},
    "admin_group": {"sv": "Grupp", "en": "Group"},
    "admin_added_practitioners": {"sv": "Tillagda behandlare", "en": "Added practitioners"},
    "admin_add": {"sv": "Lägg till", "en": "Add"},
    "admin_analytics_script": {
        "sv": "Skript för webbstatistik",
        "en": "Web analytics script",
    },
    "admin_administrator_only": {
        "sv": "Bara en administratör kan ändra skriptet.",
        "en": "Only an administrator can change the script.",
    },
    "admin_sender_email": {"sv": "Avsändaradress", "en": "Sender address"},
    "admin_sender_sms": {"sv": "Avsändar-id", "en": "Sender id"},
    "admin_merge_fields": {"sv": "Kopplingsfält", "en": "Merge fields"},
    "admin_template_default": {
        "sv": "En tom mall skickar Opus standardtext.",
        "en": "An empty template sends Opus's default text.",
    },
    "admin_template_new": {"sv": "Ny bokning", "en": "New booking"},
    "admin_template_rebook": {"sv": "Ombokning", "en": "Rebooking"},
    "admin_template_cancel": {"sv": "Avbokning", "en": "Cancellation"},
    "admin_subject": {"sv": "Ämne", "en": "Subject"},
    "admin_body": {"sv": "Text", "en": "Text"},
    "admin_sms_length": {
        "sv": "Uppskattad längd: {characters} tecken, {encoding}, {segments} SMS",
        "en": "Estimated length: {characters} characters, {encoding}, {segments} SMS",
    },
    "admin_error_sender": {
        "sv": "Avsändaren är inte giltig.",
        "en": "The sender is not valid.",
    },
    "admin_error_sender_domain": {
        "sv": "Avsändaradressens domän är inte verifierad för utskick. Lämna fältet tomt, "
        "så skickas e-posten från Opus Onlines adress med mottagningens namn, eller be "
        "supporten att verifiera domänen.",
        "en": "The sender address's domain is not verified for sending. Leave the field "
        "empty to send from Opus Online's address with the clinic's name, or ask support "
        "to verify the domain.",
    },
    "admin_audit_when": {"sv": "När", "en": "When"},
    "admin_audit_who": {"sv": "Vem", "en": "Who"},
    "admin_audit_setting": {"sv": "Inställning", "en": "Setting"},
    "admin_audit_old": {"sv": "Före", "en": "Before"},
    "admin_audit_new": {"sv": "Efter", "en": "After"},
    "admin_audit_empty": {"sv": "Inga ändringar ännu.", "en": "No changes yet."},
    # -- Behandlare, logo, live template tools, clinic order (issue 7) ------------
    "admin_tab_practitioners": {"sv": "Behandlare", "en": "Practitioners"},
    "admin_no_practitioners": {
        "sv": "Inga behandlare har synkats från Opus ännu.",
        "en": "No practitioners have been synced from Opus yet.",
    },
    "admin_image_hint": {
        "sv": "Bilder: PNG, JPEG eller WebP, högst 2 MB och 2000 × 2000 pixlar. "
        "Bilden sparas om utan metadata (t.ex. EXIF och GPS).",
        "en": "Images: PNG, JPEG or WebP, at most 2 MB and 2000 × 2000 pixels. "
        "The image is saved again without metadata (such as EXIF and GPS).",
    },
    "admin_no_image": {"sv": "Ingen bild.", "en": "No image."},
    "admin_practitioner_image": {"sv": "Bild på {name}", "en": "Photo of {name}"},
    "admin_practitioner_text": {"sv": "Text om {name}", "en": "Text about {name}"},
    "admin_remove_image_of": {"sv": "Ta bort bilden på {name}", "en": "Remove the photo of {name}"},
    "admin_media_logo": {"sv": "Logotyp", "en": "Logo"},
    "admin_media_logo_file": {"sv": "Ny logotyp", "en": "New logo"},
    "admin_upload": {"sv": "Ladda upp", "en": "Upload"},
    "admin_remove_logo": {"sv": "Ta bort logotypen", "en": "Remove the logo"},
    "admin_image_type": {
        "sv": "Filen är ingen PNG-, JPEG- eller WebP-bild. Andra format, till exempel SVG, "
        "tas inte emot.",
        "en": "The file is not a PNG, JPEG or WebP image. Other formats, such as SVG, "
        "are not accepted.",
    },
    "admin_image_too_large": {
        "sv": "Bilden är för stor: högst 2 MB.",
        "en": "The image is too large: at most 2 MB.",
    },
    "admin_image_dimensions": {
        "sv": "Bilden är för stor: högst 2000 × 2000 pixlar.",
        "en": "The image is too large: at most 2000 × 2000 pixels.",
    },
    "admin_image_missing": {"sv": "Välj en bildfil.", "en": "Choose an image file."},
    "admin_insert_field": {
        "sv": "Klicka på ett fält för att infoga det där markören står.",
        "en": "Click a field to insert it where the cursor is.",
    },
    "admin_preview": {"sv": "Förhandsvisning med exempeldata", "en": "Preview with sample data"},
    "admin_preview_default": {
        "sv": "(tom mall: Opus standardtext skickas)",
        "en": "(empty template: Opus's default text is sent)",
    },
    "admin_move_up": {"sv": "Flytta upp {name}", "en": "Move {name} up"},
    "admin_move_down": {"sv": "Flytta ned {name}", "en": "Move {name} down"},
    "admin_unsaved_before_move": {
        "sv": "Du har ändringar som inte är sparade. Spara dem först, flytta sedan.",
        "en": "You have unsaved changes. Save them first, then move.",
    },
    # -- visit statistics and the analysts' dashboards (dashboards/) ------------------
    "admin_tab_statistics": {"sv": "Statistik", "en": "Statistics"},
    "stats_title": {"sv": "Besöks- och bokningsstatistik", "en": "Visit and booking statistics"},
    "stats_from": {"sv": "Från", "en": "From"},
    "stats_to": {"sv": "Till", "en": "To"},
    "stats_clinic": {"sv": "Klinik", "en": "Clinic"},
    "stats_all_clinics": {"sv": "Alla kliniker", "en": "All clinics"},
    "stats_show": {"sv": "Visa", "en": "Show"},
    "stats_note": {
        "sv": "Siffrorna uppdateras när flödet visit-stats har körts. Klinikvalet gäller "
        "bokningar och beläggning; ett besök börjar innan någon klinik är vald.",
        "en": "The figures update when the visit-stats flow has run. The clinic filter "
        "applies to bookings and utilisation; a visit starts before a clinic is chosen.",
    },
    "stats_export": {"sv": "Ladda ner tabellen", "en": "Download the table"},
    "stats_table": {"sv": "Tabell", "en": "Table"},
    "stats_chart_besok": {"sv": "Besök över tid", "en": "Visits over time"},
    "stats_chart_tratt": {"sv": "Bokningstratt", "en": "Booking funnel"},
    "stats_chart_konvertering": {"sv": "Konvertering", "en": "Conversion"},
    "stats_chart_kallor": {"sv": "Källor", "en": "Sources"},
    "stats_chart_enheter": {"sv": "Enheter", "en": "Devices"},
    "stats_chart_kanaler": {"sv": "Bokningar per kanal", "en": "Bookings by channel"},
    "stats_chart_avbokningar": {"sv": "Avbokningsgrad", "en": "Cancellation rate"},
    "stats_chart_kampanjkoder": {"sv": "Kampanjkoder", "en": "Campaign codes"},
    "stats_chart_belaggning": {
        "sv": "Beläggning per veckodag och timme",
        "en": "Utilisation by weekday and hour",
    },
    "stats_day": {"sv": "Dag", "en": "Day"},
    "stats_count": {"sv": "Antal", "en": "Count"},
    "stats_hour": {"sv": "Timme", "en": "Hour"},
    "stats_sidvisningar": {"sv": "Sidvisningar", "en": "Page views"},
    "stats_besok": {"sv": "Besök", "en": "Visits"},
    "stats_besokare": {"sv": "Unika besökare", "en": "Unique visitors"},
    "stats_bokade": {"sv": "Bokningar", "en": "Bookings"},
    "stats_bokningar": {"sv": "Bokningar", "en": "Bookings"},
    "stats_conversion": {"sv": "Andel som bokade", "en": "Share who booked"},
    "stats_cancel_rate": {"sv": "Andel avbokade", "en": "Share cancelled"},
    "stats_utilisation": {"sv": "Beläggning", "en": "Utilisation"},
    "stats_step_start": {"sv": "Start", "en": "Start"},
    "stats_step_klinik": {"sv": "Klinik", "en": "Clinic"},
    "stats_step_behandling": {"sv": "Behandling", "en": "Treatment"},
    "stats_step_behandlare": {"sv": "Behandlare", "en": "Practitioner"},
    "stats_step_tid": {"sv": "Tid", "en": "Time"},
    "stats_step_uppgifter": {"sv": "Uppgifter", "en": "Details"},
    "stats_step_kod": {"sv": "Kod skickad", "en": "Code sent"},
    "stats_step_bekraftad": {"sv": "Bekräftad", "en": "Confirmed"},
    "stats_channel_site": {"sv": "Bokningssidan", "en": "Booking site"},
    "stats_channel_api": {"sv": "API", "en": "API"},
    "stats_channel_boka_vard": {"sv": "Boka vård", "en": "Boka vård"},
    # -- limits on numbers, SMS countries, BankID starts, API holds (security issue 3) --
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
        "en": "At most 10 BankID logins per address a quarter of an hour",
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
        "sends at most this many codes (e-mail and text) an hour. Raise the cap if real "
        "patients are refused.",
    },
    "admin_field_sms_country_codes": {
        "sv": "Tillåtna landsnummer för sms (t.ex. +46, +47, +45, +358)",
        "en": "Country codes texts may go to (e.g. +46, +47, +45, +358)",
    },
    "admin_field_code_messages_per_hour": {
        "sv": "Högst antal koder per timme för kedjan",
        "en": "Most codes an hour for the chain",
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
        "sv": "Taket ska vara ett heltal från 1 till 10000.",
        "en": "The cap must be a whole number from 1 to 10000.",
    },
    "stats_no_data": {"sv": "Inga data för perioden", "en": "No data for the period"},
    # -- Att hantera (booking_app/admin/todo.py) --------------------------------------
    "admin_tab_todo": {"sv": "Att hantera", "en": "To do"},
    "admin_todo_conflicts": {"sv": "Krockar med Opus", "en": "Conflicts with Opus"},
    "admin_todo_conflicts_hint": {
        "sv": "Bokningar som inte kom in i Opus eftersom tiden redan var tagen där.",
        "en": "Bookings that did not reach Opus because the time was already taken there.",
    },
    "admin_todo_messages": {"sv": "Meddelanden som inte gick fram", "en": "Messages that failed"},
    "admin_todo_messages_hint": {
        "sv": "E-post och sms till patienter som gavs upp efter flera försök.",
        "en": "E-mail and SMS to patients given up after several attempts.",
    },
    "admin_todo_quarantine": {"sv": "Opus-rader i karantän", "en": "Opus rows in quarantine"},
    "admin_todo_quarantine_hint": {
        "sv": "Rader i Opus som inte publiceras förrän de rättas i Opus.",
        "en": "Rows in Opus that are not published until they are corrected in Opus.",
    },
    "admin_todo_marketplace": {"sv": "Boka vård", "en": "Boka vård"},
    "admin_todo_marketplace_not_active": {
        "sv": "Publicering på Boka vård är på, men kontot är inte aktiverat hos Boka vård.",
        "en": "Publishing on Boka vård is on, but Boka vård has not activated the account.",
    },
    "admin_todo_prefect_link": {"sv": "Visa i Prefect", "en": "Show in Prefect"},
    "admin_todo_none": {"sv": "Inget att hantera.", "en": "Nothing to do."},
    "admin_todo_when": {"sv": "Tid", "en": "Time"},
    "admin_todo_reason": {"sv": "Orsak", "en": "Reason"},
    "admin_todo_patient_told": {"sv": "Patienten meddelad", "en": "Patient told"},
    "admin_todo_told_told": {"sv": "Ja", "en": "Yes"},
    "admin_todo_told_telling": {"sv": "Skickas", "en": "Being sent"},
    "admin_todo_told_not_told": {
        "sv": "Nej, meddelandet gick inte fram",
        "en": "No, the message failed",
    },
    "admin_todo_told_nobody_to_tell": {
        "sv": "Nej, ingen e-post eller mobil angavs",
        "en": "No, no e-mail or mobile was given",
    },
    "admin_todo_conflict_taken_in_opus": {
        "sv": "Tiden var redan bokad i Opus",
        "en": "The time was already booked in Opus",
    },
    "admin_todo_conflict_no_longer_free": {
        "sv": "Tiden var inte längre ledig i Opus",
        "en": "The time was no longer free in Opus",
    },
    "admin_todo_message_kind": {"sv": "Meddelande", "en": "Message"},
    "admin_todo_channel_email": {"sv": "E-post", "en": "E-mail"},
    "admin_todo_channel_sms": {"sv": "Sms", "en": "SMS"},
    "admin_todo_action": {"sv": "Åtgärd", "en": "Action"},
    "admin_todo_retry": {"sv": "Försök igen", "en": "Try again"},
    "admin_todo_opus_row": {"sv": "Opus-rad", "en": "Opus row"},
}

MESSAGES.update(API_KEY_MESSAGES)
MESSAGES.update(PATIENT_DATA_MESSAGES)
MESSAGES.update(OPUS_CONNECTION_MESSAGES)


def language(value: str | None) -> str:
    """A supported language code from ``?lang=``; anything else is Swedish."""
    value = (value or "").strip().lower()
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text for ``key`` in ``lang``, Swedish when that language lacks it. An unknown
    key raises: a missing text is a bug to see in tests, not a blank on the page."""
    texts = MESSAGES[key]
    return texts.get(lang) or texts[DEFAULT_LANGUAGE]
