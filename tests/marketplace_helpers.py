"""The Boka vård stand-in and a synced demo tenant, for the marketplace tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select

from connectors.marketplace.client import MarketplaceClient, RetryPolicy
from connectors.store.availability import is_public_holiday
from connectors.store.db import session_scope, write_session_scope
from connectors.store.models import MarketplaceAccount, TenantSettings
from demo.fhir_marketplace import FhirMarketplace
from opus_online.config import Settings

TOKEN = "test-token-not-a-secret"
TOKEN_ENV = "OPUS_TEST_MARKETPLACE_TOKEN"
PATIENT = {
    "personal_number": "191212121212",
    "given": "Astrid",
    "family": "Lind",
    "email": "astrid@example.se",
    "phone": "+46701234567",
}


def horizon_days(working_days: int = 2) -> int:
    """The fewest days ahead that hold ``working_days`` days with free times, whatever
    day the test runs on: three days do from a Wednesday, none from nyårsafton. (Every
    day more publishes a day's slots more, each a validated FHIR resource.)"""
    today = date.today()
    day, found = today, 0
    while found < working_days:
        day += timedelta(days=1)
        found += day.weekday() < 5 and not is_public_holiday(day)
    return (day - today).days + 1


def settings_for(marketplace: FhirMarketplace, **overrides) -> Settings:
    values = {
        "marketplace_url": marketplace.fhir_url,
        "marketplace_token_ref": f"env:{TOKEN_ENV}",
        # Generous: a loaded CI machine must never turn a slow answer into a retry the
        # test did not ask for (the timeout test sets its own).
        "marketplace_timeout_s": 30.0,
        "marketplace_retries": 2,
        "marketplace_retry_delay_s": 0.0,
        "marketplace_horizon_days": horizon_days(),
        "marketplace_bundle_size": 100,
    } | overrides
    return Settings(**values)


class Waits(list):
    """A client's waits between retries, recorded instead of slept: the tests judge
    what was asked for (Retry-After honoured, bounded), not how long it took."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_factory(waits: Waits):
    def make(account: MarketplaceAccount, settings: Settings) -> MarketplaceClient:
        return MarketplaceClient(
            settings.marketplace_url,
            TOKEN,
            timeout_s=settings.marketplace_timeout_s,
            policy=RetryPolicy(
                retries=settings.marketplace_retries, delay_s=settings.marketplace_retry_delay_s
            ),
            sleep=waits,
        )

    return make


def set_publishing(engine: Engine, on: bool) -> None:
    with write_session_scope(engine) as session:
        for settings in session.scalars(select(TenantSettings)):
            settings.publish_boka_vard = on


def account_row(engine: Engine) -> MarketplaceAccount:
    with session_scope(engine) as session:
        return session.scalars(select(MarketplaceAccount)).one()


def now() -> datetime:
    return datetime.now(UTC)
