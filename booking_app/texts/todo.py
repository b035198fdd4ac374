"""*Att hantera*, the operator's to-do page (booking_app/admin/todo.py)."""

from __future__ import annotations

TODO_TEXTS: dict[str, dict[str, str]] = {
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
    "admin_todo_kind_code": {"sv": "bekräftelsekod", "en": "confirmation code"},
    "admin_todo_kind_new": {"sv": "bokningsbekräftelse", "en": "booking confirmation"},
    "admin_todo_kind_rebook": {"sv": "ombokning", "en": "rebooking"},
    "admin_todo_kind_cancel": {"sv": "avbokning", "en": "cancellation"},
    "admin_todo_kind_conflict": {"sv": "besked om krock", "en": "conflict notice"},
    "admin_todo_channel_email": {"sv": "E-post", "en": "E-mail"},
    "admin_todo_channel_sms": {"sv": "Sms", "en": "SMS"},
    "admin_todo_action": {"sv": "Åtgärd", "en": "Action"},
    "admin_todo_retry": {"sv": "Försök igen", "en": "Try again"},
    "admin_todo_dismiss": {"sv": "Avfärda", "en": "Dismiss"},
    "admin_todo_opus_row": {"sv": "Opus-rad", "en": "Opus row"},
}
