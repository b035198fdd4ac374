"""The texts of *Avancerat* → Patientdata (booking_app.admin.patient_data): a patient's
export and erasure, merged into the message catalogue (booking_app.messages)."""

from __future__ import annotations

PATIENT_DATA_MESSAGES: dict[str, dict[str, str]] = {
    "admin_patient_data": {"sv": "Patientdata", "en": "Patient data"},
    "admin_patient_data_intro": {
        "sv": "När en patient begär ut sina uppgifter eller begär att de raderas. Ange "
        "patientens personnummer. Varje sökning loggas (med en nyckelad kontrollsumma, "
        "aldrig personnumret) och du kan göra högst {limit} sökningar i timmen.",
        "en": "When a patient asks for their data or for its erasure. Give the patient's "
        "personal identity number. Every look-up is logged (with a keyed checksum, never "
        "the number), and you can make at most {limit} look-ups an hour.",
    },
    "admin_patient_number": {"sv": "Personnummer", "en": "Personal identity number"},
    "admin_patient_export_heading": {
        "sv": "Exportera patientens uppgifter",
        "en": "Export the patient's data",
    },
    "admin_patient_export_intro": {
        "sv": "En JSON-fil med allt bokningstjänsten har sparat om patienten, att lämna till "
        "patienten. Journalen och annat i Opus ingår inte.",
        "en": "A JSON file with everything the booking service keeps about the patient, to "
        "give to the patient. The journal and the rest of Opus are not in it.",
    },
    "admin_patient_export_button": {"sv": "Exportera (JSON)", "en": "Export (JSON)"},
    "admin_patient_erase_heading": {
        "sv": "Radera patientens uppgifter",
        "en": "Erase the patient's data",
    },
    "admin_patient_erase_intro": {
        "sv": "Du ser först vad som raderas och vad som finns kvar i Opus. Inget raderas "
        "förrän du har bekräftat.",
        "en": "You first see what will be erased and what stays in Opus. Nothing is erased "
        "until you confirm.",
    },
    "admin_patient_preview_button": {
        "sv": "Visa vad som raderas",
        "en": "Show what will be erased",
    },
    "admin_patient_preview_heading": {"sv": "Före radering", "en": "Before erasure"},
    "admin_patient_nothing_found": {
        "sv": "Bokningstjänsten har inga uppgifter om det personnumret.",
        "en": "The booking service has no data about that personal identity number.",
    },
    "admin_patient_rows": {
        "sv": "{table}: {count} st. ({action})",
        "en": "{table}: {count} ({action})",
    },
    "admin_patient_action_pseudonymise": {
        "sv": "personuppgifterna tas bort, resten blir kvar (för statistiken)",
        "en": "the personal data is removed, the rest stays (for the statistics)",
    },
    "admin_patient_action_delete": {"sv": "raderas", "en": "deleted"},
    "admin_patient_action_keep": {
        "sv": "behålls: inga personuppgifter",
        "en": "kept: no personal data",
    },
    "admin_patient_table_booking": {"sv": "Bokningar", "en": "Bookings"},
    "admin_patient_table_outbox_message": {
        "sv": "Meddelanden (e-post och sms)",
        "en": "Messages (e-mail and SMS)",
    },
    "admin_patient_table_patient_session": {
        "sv": "Inloggningar med BankID",
        "en": "BankID logins",
    },
    "admin_patient_table_bankid_order": {
        "sv": "BankID-beställningar",
        "en": "BankID orders",
    },
    "admin_patient_table_opus_appointment": {
        "sv": "Tider kopierade från Opus (Mina bokningar)",
        "en": "Appointments copied from Opus (My bookings)",
    },
    "admin_patient_table_reminder": {"sv": "Påminnelser", "en": "Reminders"},
    "admin_patient_table_waitlist_entry": {
        "sv": "Återbudslista (önskemål om tidigare tid)",
        "en": "Waiting list (wishes for an earlier time)",
    },
    "admin_patient_table_waitlist_offer": {
        "sv": "Erbjudna tidigare tider",
        "en": "Earlier times offered",
    },
    "admin_patient_table_marketplace_appointment": {
        "sv": "Bokningar från Boka vård",
        "en": "Bookings from Boka vård",
    },
    "admin_patient_blocker_hold_in_progress": {
        "sv": "Patienten håller på att boka just nu. Försök igen om 15 minuter.",
        "en": "The patient is booking right now. Try again in 15 minutes.",
    },
    "admin_patient_blocker_write_back_pending": {
        "sv": "En bokning eller ändring har inte nått Opus än (se Att hantera). Försök igen "
        "när den har gjort det.",
        "en": "A booking or change has not reached Opus yet (see To handle). Try again "
        "once it has.",
    },
    "admin_patient_coming": {
        "sv": "{count} kommande tider finns kvar i Opus. Efter raderingen kan patienten inte "
        "se eller ändra dem på webben och får inga meddelanden om dem.",
        "en": "{count} coming appointments stay in Opus. After the erasure the patient cannot "
        "see or change them online and gets no messages about them.",
    },
    "admin_patient_unsent": {
        "sv": "{count} meddelanden har inte skickats än; de skickas inte.",
        "en": "{count} messages have not been sent yet; they will not be.",
    },
    "admin_patient_in_opus_heading": {
        "sv": "Detta finns kvar i Opus",
        "en": "What stays in Opus",
    },
    "admin_patient_in_opus": {
        "sv": "Opus behåller patientkortet, journalen, alla tider med deras bokningstext "
        "(patientens meddelande och kampanjkod ingår) och adressändringar som väntar på "
        "receptionen. De hör till klinikens vårddokumentation och raderas inte härifrån; "
        "ska något av det raderas görs det i Opus, efter klinikens beslut.",
        "en": "Opus keeps the patient record, the journal, every appointment with its "
        "booking text (the patient's message and campaign code included) and address "
        "changes waiting for reception. They are the clinic's record of care and are not "
        "erased from here; if any of it is to be erased, that is done in Opus, as the "
        "clinic decides.",
    },
    "admin_patient_in_opus_database": {
        "sv": "Databas {database}: patient-id {ids}; {written} tider bokade på webben; "
        "{copied} tider kopierade för Mina bokningar.",
        "en": "Database {database}: patient id {ids}; {written} appointments booked online; "
        "{copied} appointments copied for My bookings.",
    },
    "admin_patient_confirm_number": {
        "sv": "Skriv personnumret igen för att bekräfta",
        "en": "Type the personal identity number again to confirm",
    },
    "admin_patient_confirm_check": {
        "sv": "Jag har kontrollerat patientens identitet och förstår att raderingen inte kan "
        "ångras.",
        "en": "I have checked the patient's identity and understand that erasure cannot be undone.",
    },
    "admin_patient_erase_button": {"sv": "Radera", "en": "Erase"},
    "admin_patient_confirm_required": {
        "sv": "Kryssa i rutan och skriv samma personnummer igen för att radera. Inget raderades.",
        "en": "Tick the box and type the same personal identity number again to erase. "
        "Nothing was erased.",
    },
    "admin_patient_confirm_mismatch": {
        "sv": "Det är inte samma personnummer som du granskade. Inget raderades; börja om.",
        "en": "That is not the personal identity number you reviewed. Nothing was erased; "
        "start again.",
    },
    "admin_patient_erased": {
        "sv": "Patientens uppgifter är raderade ur bokningstjänsten. Raderingen är loggad.",
        "en": "The patient's data is erased from the booking service. The erasure is logged.",
    },
    "admin_patient_refused": {"sv": "Inget raderades.", "en": "Nothing was erased."},
    "admin_patient_too_many": {
        "sv": "Du har slagit upp för många patienter den senaste timmen. Försök igen senare.",
        "en": "You have looked up too many patients in the last hour. Try again later.",
    },
    "admin_patient_start_over": {"sv": "Börja om", "en": "Start again"},
}
