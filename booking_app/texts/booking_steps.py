"""The patient's booking steps: Klinik, Behandling, Behandlare, Tid, and the pages shown
when the chosen time was lost or booking is not possible."""

from __future__ import annotations

BOOKING_STEP_TEXTS: dict[str, dict[str, str]] = {
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
        "en": "The time was reserved for you for a limited time and is no longer yours. "
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
}
