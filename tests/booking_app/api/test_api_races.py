"""Races through a real server: many clients booking one time at the same moment.

The app runs under uvicorn (its thread pool, its connection pool, real sockets); the
requests are fired together from asyncio. Whatever the interleaving, the store keeps
one booking per time, and every loser is told so (409, with other times), never a 500.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import Engine, func, select

from connectors.store.db import session_scope
from connectors.store.models import Booking, OutboxMessage
from demo.store_seed import DEMO_API_KEY, DEMO_SUBDOMAIN
from tests.booking_app.api.api_client import API, api_client, booking_body, served, times

CLIENTS = 200
HEADERS = {"Host": f"{DEMO_SUBDOMAIN}.localhost", "apiKey": DEMO_API_KEY}


async def _fire(base_url: str, bodies: list[dict]) -> list[httpx.Response]:
    """Every body posted at once: all connections open first, then all requests go."""
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=120) as client:
        start = asyncio.Event()

        async def post(body: dict) -> httpx.Response:
            await start.wait()
            return await client.post(f"{API}/bookings", json=body, headers=HEADERS)

        tasks = [asyncio.create_task(post(body)) for body in bodies]
        await asyncio.sleep(0.2)  # let every task reach the start line
        start.set()
        return await asyncio.gather(*tasks)


def _confirmed(engine: Engine) -> list[Booking]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Booking).where(Booking.status == "confirmed")))


# Slow (near 10 s on a loaded CI machine): 200 real HTTP clients at once against a real
# server, which is the race under test; fewer would not make the store's lock contend.
@pytest.mark.slow
def test_200_patients_booking_one_time_at_once_get_one_booking(synced: Engine):
    slot = times(api_client(synced))[0]
    bodies = [booking_body(slot, serial=n) for n in range(CLIENTS)]

    with served(synced) as base_url:
        responses = asyncio.run(_fire(base_url, bodies))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: CLIENTS - 1}, statuses
    (winner,) = [r for r in responses if r.status_code == 200]
    (booking,) = _confirmed(synced)
    assert winner.json() == booking.id
    assert booking.channel == "api"
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["Message"].startswith("Tiden är inte längre ledig")
    assert loser["NearestFreeTimes"]
    assert all(
        t["Start"] != slot["Start"] or t["ClinicianID"] != slot["ClinicianID"]
        for t in loser["NearestFreeTimes"]
    )
    with session_scope(synced) as session:
        # Only the winner's transaction left anything behind: no stray holds, and
        # the confirmation to e-mail and SMS queued once.
        assert session.scalar(select(func.count()).select_from(Booking)) == 1
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_the_same_booking_sent_many_times_at_once_is_one_booking(synced: Engine):
    slot = times(api_client(synced))[0]
    body = booking_body(slot, serial=7)

    with served(synced) as base_url:
        responses = asyncio.run(_fire(base_url, [body] * 20))

    assert {r.status_code for r in responses} == {200}
    (booking,) = _confirmed(synced)
    assert {r.json() for r in responses} == {booking.id}


@pytest.mark.parametrize("any_clinician", [True, False], ids=["any-clinician", "one-clinician"])
def test_racing_reservations_of_one_time_hold_it_once_per_clinician(
    synced_store: Engine, any_clinician: bool
):
    client = api_client(synced_store)
    slot = times(client)[0]
    clinicians = {t["ClinicianID"] for t in times(client) if t["Start"] == slot["Start"]}
    if any_clinician:
        slot = {**slot, "ClinicianID": None}

    async def reserve_all(base_url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            return await asyncio.gather(
                *(http.put(f"{API}/reservations", json=slot, headers=HEADERS) for _ in range(30))
            )

    with served(synced_store) as base_url:
        responses = asyncio.run(reserve_all(base_url))

    won = [r for r in responses if r.status_code == 200]
    assert {r.status_code for r in responses} <= {200, 409}
    # "any clinician" fills every clinician free then, one each; a named one, once.
    assert len(won) == (len(clinicians) if any_clinician else 1)
    with session_scope(synced_store) as session:
        held = session.scalars(select(Booking).where(Booking.status == "held")).all()
        assert len({b.practitioner_id for b in held}) == len(held) == len(won)
