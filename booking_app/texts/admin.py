"""The operators' pages (booking_app/admin): the manual's tabs and labels, practitioners,
logo, the live template tools and the clinic order."""

from __future__ import annotations

ADMIN_TEXTS: dict[str, dict[str, str]] = {
    "admin_title": {"sv": "Opus Online – inställningar", "en": "Opus Online – settings"},
    "admin_tabs": {"sv": "Flikar", "en": "Tabs"},
    "admin_saved": {"sv": "Ändringarna är sparade.", "en": "Your changes have been saved."},
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
    "admin_role_analyst": {"sv": "analytiker (endast läsbehörighet)", "en": "analyst (read only)"},
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
        "en": "Times the limits on anonymous visitors have refused a reservation or a code, "
        "since the start.",
    },
    "admin_limit_hits_kind": {"sv": "Gräns", "en": "Limit"},
    "admin_limit_hits_count": {"sv": "Antal", "en": "Count"},
    "admin_limit_kind_holds": {
        "sv": "Högst 3 reserverade tider per besökare",
        "en": "At most 3 reserved times per visitor",
    },
    "admin_limit_kind_codes_per_hold": {
        "sv": "Högst 3 koder per reservation",
        "en": "At most 3 codes per reservation",
    },
    "admin_limit_kind_recipient": {
        "sv": "Högst 3 koder per mottagare och timme",
        "en": "At most 3 codes per recipient per hour",
    },
    "admin_limit_kind_client_hour": {
        "sv": "Högst 3 koder per besökare och timme",
        "en": "At most 3 codes per visitor per hour",
    },
    "admin_limit_kind_client_day": {
        "sv": "Högst 10 koder per besökare och dygn",
        "en": "At most 10 codes per visitor per day",
    },
    "admin_limit_kind_tenant_hour": {
        "sv": "Kedjans tak för koder per timme",
        "en": "The chain's cap on codes per hour",
    },
    "admin_flex_months_to_sync": {
        "sv": "Antal månader att publicera",
        "en": "Months of free times to publish",
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
        "sv": "Bilder: PNG, JPEG eller WebP, högst 2 MB och 2 000 × 2 000 pixlar. "
        "Bilden sparas om utan metadata (t.ex. EXIF och GPS).",
        "en": "Images: PNG, JPEG or WebP, at most 2 MB and 2,000 × 2,000 pixels. "
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
        "sv": "Bilden är för stor: högst 2 MB.",
        "en": "The image is too large: at most 2 MB.",
    },
    "admin_image_dimensions": {
        "sv": "Bilden är för stor: högst 2 000 × 2 000 pixlar.",
        "en": "The image is too large: at most 2,000 × 2,000 pixels.",
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
}
