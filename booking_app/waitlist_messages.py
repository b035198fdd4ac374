"""The texts of the earlier-time waiting list (*återbudslista*): the patient's form,
the offer's page, the operators' page. Merged into the message catalogue
(booking_app.messages)."""

from __future__ import annotations

WAITLIST_MESSAGES: dict[str, dict[str, str]] = {
    # -- the patient: joining ---------------------------------------------------------
    "waitlist_heading": {"sv": "Återbudslista", "en": "Earlier-time waiting list"},
    "waitlist_invite": {
        "sv": "Vill du komma tidigare? Meddela mig om en tidigare tid blir ledig.",
        "en": "Want to come sooner? Tell me if an earlier time becomes free.",
    },
    "waitlist_join_link": {
        "sv": "Meddela mig om en tidigare tid blir ledig",
        "en": "Tell me if an earlier time becomes free",
    },
    "waitlist_change_link": {
        "sv": "Du står på återbudslistan – ändra eller lämna",
        "en": "You are on the waiting list – change or leave",
    },
    "waitlist_intro": {
        "sv": "Blir en tid före din bokade ledig, till exempel genom ett återbud, får du ett "
        "sms (eller e-post) med en länk. Tiden hålls åt dig en kort stund; tar du den flyttas "
        "din bokning dit. Gör du inget behåller du din nuvarande tid. Först till kvarn: den "
        "som anmälde sig först får erbjudandet först.",
        "en": "If a time before your appointment becomes free, for example through a "
        "cancellation, you get a text message (or an e-mail) with a link. The time is held "
        "for you for a short while; if you take it, your appointment moves there. If you do "
        "nothing, you keep your present time. First come, first served.",
    },
    "waitlist_hold_note": {
        "sv": "Ett erbjudande gäller i {minutes} minuter. Du får högst {per_day} erbjudanden "
        "per dag.",
        "en": "An offer is held for {minutes} minutes. You get at most {per_day} offers a day.",
    },
    "waitlist_your_booking": {"sv": "Din bokade tid", "en": "Your appointment"},
    "waitlist_practitioner": {"sv": "Behandlare", "en": "Practitioner"},
    "waitlist_same_practitioner": {
        "sv": "Bara {name}",
        "en": "Only {name}",
    },
    "waitlist_any_practitioner": {
        "sv": "Vilken behandlare som helst på kliniken",
        "en": "Any practitioner at the clinic",
    },
    "waitlist_weekdays": {"sv": "Veckodagar som passar", "en": "Weekdays that suit me"},
    "waitlist_day_1": {"sv": "Måndag", "en": "Monday"},
    "waitlist_day_2": {"sv": "Tisdag", "en": "Tuesday"},
    "waitlist_day_3": {"sv": "Onsdag", "en": "Wednesday"},
    "waitlist_day_4": {"sv": "Torsdag", "en": "Thursday"},
    "waitlist_day_5": {"sv": "Fredag", "en": "Friday"},
    "waitlist_day_6": {"sv": "Lördag", "en": "Saturday"},
    "waitlist_day_7": {"sv": "Söndag", "en": "Sunday"},
    "waitlist_times": {"sv": "Tid på dagen", "en": "Time of day"},
    "waitlist_earliest": {"sv": "Tidigast", "en": "Earliest"},
    "waitlist_latest": {"sv": "Senast", "en": "Latest"},
    "waitlist_not_before": {
        "sv": "Inte före (datum, valfritt)",
        "en": "Not before (date, optional)",
    },
    "waitlist_save": {"sv": "Anmäl mig", "en": "Sign me up"},
    "waitlist_update": {"sv": "Spara ändringarna", "en": "Save changes"},
    "waitlist_leave": {"sv": "Lämna återbudslistan", "en": "Leave the waiting list"},
    "waitlist_joined": {
        "sv": "Klart! Du står på återbudslistan. Vi hör av oss om en tidigare tid blir ledig.",
        "en": "Done! You are on the waiting list. We will be in touch if an earlier time "
        "becomes free.",
    },
    "waitlist_left": {
        "sv": "Du står inte längre på återbudslistan. Din bokade tid gäller.",
        "en": "You are no longer on the waiting list. Your appointment stands.",
    },
    "waitlist_weekdays_required": {
        "sv": "Välj minst en veckodag.",
        "en": "Choose at least one weekday.",
    },
    "waitlist_time_invalid": {
        "sv": "Ange tider som TT:MM, till exempel 08:00.",
        "en": "Give times as HH:MM, for example 08:00.",
    },
    "waitlist_times_in_order": {
        "sv": "Den tidigaste tiden måste vara före den senaste.",
        "en": "The earliest time must be before the latest.",
    },
    "waitlist_date_invalid": {
        "sv": "Ange datumet som ÅÅÅÅ-MM-DD.",
        "en": "Give the date as YYYY-MM-DD.",
    },
    "waitlist_off": {
        "sv": "Kliniken har ingen återbudslista.",
        "en": "The clinic has no waiting list.",
    },
    "waitlist_booking_not_active": {
        "sv": "Bokningen är inte längre aktiv.",
        "en": "The booking is no longer active.",
    },
    "waitlist_rebook_not_allowed": {
        "sv": "Den här bokningen kan inte flyttas på webben, så den kan inte stå på "
        "återbudslistan. Ring kliniken om du vill komma tidigare.",
        "en": "This appointment cannot be moved online, so it cannot be on the waiting "
        "list. Call the clinic if you would like to come sooner.",
    },
    "waitlist_no_contact": {
        "sv": "Bokningen saknar mobilnummer och e-postadress, så vi kan inte nå dig.",
        "en": "The booking has no mobile number or e-mail address, so we cannot reach you.",
    },
    # -- the patient: an offer ----------------------------------------------------------
    "offer_heading": {"sv": "En tidigare tid är ledig", "en": "An earlier time is free"},
    "offer_new_time": {"sv": "Ledig tid", "en": "Free time"},
    "offer_held_until": {
        "sv": "Tiden hålls åt dig till kl. {time}.",
        "en": "The time is held for you until {time}.",
    },
    "offer_current_time": {"sv": "Din nuvarande tid", "en": "Your present time"},
    "offer_accept": {"sv": "Ja, ta den tidigare tiden", "en": "Yes, take the earlier time"},
    "offer_decline": {
        "sv": "Nej tack, behåll min tid",
        "en": "No thanks, keep my time",
    },
    "offer_leave_note": {
        "sv": "Vill du inte få fler erbjudanden?",
        "en": "No more offers?",
    },
    "offer_accepted_heading": {"sv": "Din tid är flyttad", "en": "Your appointment has moved"},
    "offer_accepted_body": {
        "sv": "Din nya tid är bokad och din tidigare tid är avbokad. En bekräftelse kommer "
        "med sms och e-post.",
        "en": "Your new time is booked and your earlier time is cancelled. A confirmation "
        "follows by text message and e-mail.",
    },
    "offer_declined": {
        "sv": "Tack för svaret. Du behåller din tid och står kvar på återbudslistan.",
        "en": "Thank you. You keep your time and stay on the waiting list.",
    },
    "waitlist_offer_expired": {
        "sv": "Tyvärr, tiden hölls bara en kort stund och har nu erbjudits någon annan. Du "
        "behåller din tid och står kvar på återbudslistan.",
        "en": "Sorry, the time was held only for a short while and has now been offered to "
        "someone else. You keep your time and stay on the waiting list.",
    },
    "waitlist_offer_gone": {
        "sv": "Erbjudandet gäller inte längre. Din bokade tid är oförändrad.",
        "en": "The offer is no longer valid. Your appointment is unchanged.",
    },
    "offer_link_invalid": {
        "sv": "Länken fungerar inte. Kontrollera att du har kopierat hela länken från meddelandet.",
        "en": "The link does not work. Check that you copied the whole link from the message.",
    },
    # -- operators -------------------------------------------------------------------------
    "admin_tab_waitlist": {"sv": "Återbudslista", "en": "Waiting list"},
    "admin_waitlist_intro": {
        "sv": "Patienter kan be om en tidigare tid på bekräftelsesidan och under Mina "
        "bokningar. Blir en passande tid ledig (en avbokning, en ombokning eller ny ledig "
        "tid från Opus) får den första i kön ett sms med en länk, och tiden hålls åt hen en "
        "stund. Tar patienten tiden flyttas bokningen i Opus, och den gamla tiden erbjuds "
        "nästa i kön.",
        "en": "Patients may ask for an earlier time on the confirmation page and in My "
        "bookings. When a fitting time becomes free (a cancellation, a rebooking or new free "
        "time from Opus), the first in line gets a text message with a link, and the time is "
        "held for them a while. If they take it, the appointment moves in Opus, and the old "
        "time is offered to the next in line.",
    },
    "admin_waitlist_enabled": {"sv": "Återbudslista aktiverad", "en": "Waiting list enabled"},
    "admin_waitlist_hold_minutes": {
        "sv": "Hur länge en tid hålls åt patienten (minuter, 5–240)",
        "en": "How long a time is held for the patient (minutes, 5–240)",
    },
    "admin_waitlist_offers_per_day": {
        "sv": "Högst antal erbjudanden per patient och dag (1–20)",
        "en": "At most this many offers per patient a day (1–20)",
    },
    "admin_waitlist_hold_invalid": {
        "sv": "Hålltiden ska vara ett heltal mellan 5 och 240 minuter.",
        "en": "The hold must be a whole number between 5 and 240 minutes.",
    },
    "admin_waitlist_offers_invalid": {
        "sv": "Antalet erbjudanden ska vara ett heltal mellan 1 och 20.",
        "en": "The number of offers must be a whole number between 1 and 20.",
    },
    "admin_waitlist_save": {"sv": "Spara", "en": "Save"},
    "admin_waitlist_per_clinic": {
        "sv": "Per klinik, senaste 30 dagarna",
        "en": "Per clinic, the last 30 days",
    },
    "admin_waitlist_clinic": {"sv": "Klinik", "en": "Clinic"},
    "admin_waitlist_waiting": {"sv": "Väntar nu", "en": "Waiting now"},
    "admin_waitlist_freed": {"sv": "Lediga tider (av- och ombokningar)", "en": "Times freed"},
    "admin_waitlist_offers_sent": {"sv": "Erbjudanden skickade", "en": "Offers sent"},
    "admin_waitlist_refilled": {"sv": "Tider fyllda igen", "en": "Times refilled"},
    "admin_waitlist_expired": {"sv": "Erbjudanden som löpte ut", "en": "Offers that lapsed"},
    # -- dashboards ------------------------------------------------------------------------
    "stats_chart_aterbud": {
        "sv": "Återfyllda avbokningar",
        "en": "Refilled cancellations",
    },
    "stats_freed": {"sv": "Lediga tider", "en": "Times freed"},
    "stats_refilled": {"sv": "Fyllda igen", "en": "Refilled"},
}
