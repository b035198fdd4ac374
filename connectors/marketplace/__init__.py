"""Boka vård, the marketplace, spoken to in FHIR R4 over HTTPS.

``resources``: the tenant's offer as FHIR resources (validated with ``fhir.resources``);
``client``: the HTTP client (bearer token, timeouts, bounded retries, transactions);
``appointments``: Appointments booked there, read back.

``fhir.resources`` 8 carries R5 as its default and R4B (4.3) beside it; R4B's
Location, Practitioner(Role), HealthcareService, Schedule, Slot and Appointment are
R4's (4.0.1) in every element we send, so we validate with R4B.
"""
