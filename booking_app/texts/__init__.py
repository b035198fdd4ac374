"""The site's UI text, Swedish first and English second, split along the clinic's words:
the patient's booking steps, step 5 (*Dina uppgifter*), login, *Mina bokningar*, the
operators' tabs, *Att hantera*, statistics, and errors. ``booking_app.messages`` merges
them into one catalogue (``MESSAGES``, ``t``); import from there.

Terms used throughout (Swedish / English): *bokning* / booking, *tid* / time (an
appointment's time) or appointment, *behandling* / treatment, *behandlare* /
practitioner, *klinik* / clinic, *e-post* / e-mail, *sms* / text (SMS), *personnummer* /
personal identity number.
"""
