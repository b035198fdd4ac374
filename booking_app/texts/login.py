"""Login with e-ID (BankID)."""

from __future__ import annotations

LOGIN_TEXTS: dict[str, dict[str, str]] = {
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
}
