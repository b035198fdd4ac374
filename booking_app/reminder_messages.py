"""UI text of appointment reminders: the page a reminder's link opens, the page a
confirmation's link opens where there is no login, and the *Påminnelser* section of
the operators' E-post and SMS tabs. Swedish first, English second; merged into
:data:`booking_app.messages.MESSAGES`."""

from __future__ import annotations

REMINDER_MESSAGES: dict[str, dict[str, str]] = {
    # -- the reminder's page (booking_app/manage_booking.py) --------------------------
    "manage_title": {"sv": "Din bokade tid", "en": "Your appointment"},
    "manage_login_hint": {
        "sv": "Vill du avboka eller ändra tiden? Logga in med BankID under Mina bokningar.",
        "en": "Want to cancel or change the appointment? Log in with BankID under My bookings.",
    },
    "manage_change_by_phone": {
        "sv": "Vill du avboka eller ändra tiden? Kontakta kliniken.",
        "en": "Want to cancel or change the appointment? Please contact the clinic.",
    },
    "manage_expired": {
        "sv": "Länken gäller inte längre: tiden kan inte avbokas eller ändras på webben nu.",
        "en": "The link is no longer valid: the appointment cannot be cancelled or changed "
        "online now.",
    },
    "manage_cancelled": {"sv": "Tiden är avbokad.", "en": "The appointment is cancelled."},
    "manage_passed": {
        "sv": "Tiden har redan varit.",
        "en": "The appointment has already taken place.",
    },
    "manage_moved": {
        "sv": "Tiden har flyttats. Din nya tid:",
        "en": "The appointment has been moved. Your new time:",
    },
    "manage_back": {"sv": "Tillbaka till din tid", "en": "Back to your appointment"},
    "manage_book_again": {"sv": "Boka en ny tid", "en": "Book a new appointment"},
    "manage_cancel": {"sv": "Avboka tiden", "en": "Cancel the appointment"},
    "manage_rebook": {"sv": "Byt till en annan tid", "en": "Change to another time"},
    "manage_changes_until": {
        "sv": "Du kan avboka eller ändra tiden här fram till {time}.",
        "en": "You can cancel or change the appointment here until {time}.",
    },
    # -- a confirmation's link where there is no login (booking_app/notifications.py) -----
    "booking_link_title": {"sv": "Avboka eller ändra tid", "en": "Cancel or change"},
    "booking_link_body": {
        "sv": "Den här kliniken tar emot avbokningar och ändringar per telefon.",
        "en": "This clinic takes cancellations and changes by phone.",
    },
    # -- operators: the Påminnelser section of the E-post and SMS tabs -------------------
    "admin_template_reminder": {"sv": "Påminnelse", "en": "Reminder"},
    "admin_reminders_heading": {"sv": "Påminnelser", "en": "Reminders"},
    "admin_reminders_intro": {
        "sv": "En påminnelse före besöket, med en länk där patienten ser tiden och kan "
        "avboka eller ändra den. Den skickas en gång, aldrig för en avbokad tid; en "
        "ombokad tid får en ny påminnelse.",
        "en": "A reminder before the visit, with a link where the patient sees the "
        "appointment and can cancel or change it. It is sent once, never for a cancelled "
        "appointment; a rebooked one gets a new reminder.",
    },
    "admin_reminder_enabled_email": {
        "sv": "Skicka påminnelse via e-post",
        "en": "Send a reminder by e-mail",
    },
    "admin_reminder_enabled_sms": {
        "sv": "Skicka påminnelse via SMS",
        "en": "Send a reminder by SMS",
    },
    "admin_reminder_hours": {
        "sv": "Timmar före besöket (1–336)",
        "en": "Hours before the visit (1–336)",
    },
    "admin_reminder_scope": {"sv": "Vilka tider", "en": "Which appointments"},
    "admin_reminder_scope_online": {
        "sv": "Bara tider bokade online",
        "en": "Only appointments booked online",
    },
    "admin_reminder_scope_all": {
        "sv": "Alla tider i Opus där patienten har ett mobilnummer (även de kliniken bokat)",
        "en": "Every Opus appointment whose patient has a mobile number (also those the "
        "clinic booked)",
    },
    "admin_reminder_scope_hint": {
        "sv": "Påminner kliniken redan från Opus? Välj då bara tider bokade online, så "
        "att ingen patient får två påminnelser.",
        "en": "Does the clinic already remind from Opus? Then choose only appointments "
        "booked online, so that no patient is reminded twice.",
    },
    "admin_reminder_quiet": {"sv": "Tysta timmar (svensk tid)", "en": "Quiet hours (Swedish time)"},
    "admin_reminder_quiet_start": {"sv": "Från kl.", "en": "From"},
    "admin_reminder_quiet_end": {"sv": "till kl.", "en": "until"},
    "admin_reminder_quiet_hint": {
        "sv": "En påminnelse som infaller under de tysta timmarna skickas när de slutar. "
        "Samma timme i båda fälten: inga tysta timmar.",
        "en": "A reminder that falls within the quiet hours is sent when they end. The "
        "same hour in both fields: no quiet hours.",
    },
    "admin_manage_without_login": {
        "sv": "Patienten kan avboka och ändra tiden från påminnelsens länk utan BankID",
        "en": "The patient can cancel and change the appointment from the reminder's link "
        "without BankID",
    },
    "admin_manage_without_login_hint": {
        "sv": "Inställningarna Avbokning aktiverad, Ändra bokning aktiverad och tidsgränsen "
        "gäller som vanligt; länken gäller till tidsgränsen. Av: länken visar tiden och "
        "hänvisar till inloggning eller till kliniken.",
        "en": "The settings for cancelling, rebooking and the cut-off apply as everywhere; "
        "the link is valid until the cut-off. Off: the link shows the appointment and "
        "refers to login or to the clinic.",
    },
    "admin_reminder_save": {"sv": "Spara påminnelser", "en": "Save reminders"},
    "admin_reminder_after_cutoff": {
        "sv": "Obs: påminnelsen skickas {hours} timmar före besöket, men avbokning och "
        "ändring på webben stänger {cutoff} timmar före. Länken visar då bara tiden och "
        "klinikens telefonnummer.",
        "en": "Note: the reminder is sent {hours} hours before the visit, but cancelling "
        "and changing online close {cutoff} hours before. The link then shows only the "
        "appointment and the clinic's phone number.",
    },
    "admin_reminder_counts": {
        "sv": "Planerade påminnelser: {planned}. Skickade senaste 7 dagarna: {sent}.",
        "en": "Planned reminders: {planned}. Sent in the last 7 days: {sent}.",
    },
    "admin_error_reminder_email_hours": {
        "sv": "Ange timmar före besöket för e-post: en siffra 1–336.",
        "en": "Enter the e-mail reminder's hours before the visit: a number 1–336.",
    },
    "admin_error_reminder_sms_hours": {
        "sv": "Ange timmar före besöket för SMS: en siffra 1–336.",
        "en": "Enter the SMS reminder's hours before the visit: a number 1–336.",
    },
    "admin_error_reminder_quiet_start": {
        "sv": "Tysta timmar: ange en hel timme 0–23.",
        "en": "Quiet hours: enter a whole hour 0–23.",
    },
    "admin_error_reminder_quiet_end": {
        "sv": "Tysta timmar: ange en hel timme 0–23.",
        "en": "Quiet hours: enter a whole hour 0–23.",
    },
    "admin_error_reminder_scope": {
        "sv": "Välj vilka tider som ska få påminnelser.",
        "en": "Choose which appointments get reminders.",
    },
}
