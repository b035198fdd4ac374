"""The few seconds' memory of availability answers: what it may and may not answer."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import event

from booking_app.api.cache import AnswerCache, entry_bytes
from connectors.store.db import engine_for

TENANT_LOOKUP = re.compile(r"\bFROM tenant\b.*\bWHERE tenant\.subdomain\b", re.S)
"""The API's look-up of the request's tenant: one per computed answer."""
QUERY = "/api/public/v1/appointments/schedule/availabletimes?request.treatmentID=1"


def test_answers_lapse_after_their_time_and_the_oldest_go_first():
    cache = AnswerCache(ttl_s=0.05, max_bytes=2 * entry_bytes("a|x", b"1"))
    cache.put("a|x", b"1")
    cache.put("b|x", b"2")
    cache.put("c|x", b"3")  # pushes out the oldest
    assert (cache.get("a|x"), cache.get("b|x"), cache.get("c|x")) == (None, b"2", b"3")
    time.sleep(0.06)
    assert cache.get("c|x") is None


def test_forgetting_a_host_leaves_other_hosts_answers():
    cache = AnswerCache()
    cache.put("klinik.test|/p|q|k|", b"1")
    cache.put("annan.test|/p|q|k|", b"2")
    cache.forget("KLINIK.test")
    assert (cache.get("klinik.test|/p|q|k|"), cache.get("annan.test|/p|q|k|")) == (None, b"2")


def test_a_remembered_answer_is_never_given_for_a_wrong_key(api: TestClient):
    assert api.get(QUERY).status_code == 200
    assert api.app.state.answer_cache.hits == 0
    assert api.get(QUERY).status_code == 200
    assert api.app.state.answer_cache.hits == 1
    assert api.get(QUERY, headers={"apiKey": "oo_guess"}).status_code == 401
    assert api.get(QUERY, headers={"apiKey": ""}).status_code == 401


def test_askers_of_a_question_being_computed_share_that_computation(api: TestClient):
    """Twenty ask one question at once, five another: each is computed once (a
    computation reads the tenant once; an answer from memory or from another asker's
    computation reads nothing), and everyone gets the same answer as asking alone."""
    other = QUERY + "&request.clinicID=UPP1"
    alone = {q: api.get(q).content for q in (QUERY, other)}
    api.app.state.answer_cache.forget(api.base_url.host)
    engine = engine_for(api.app.state.settings.resolved_store_url)
    tenant_reads: list[str] = []

    def count(_connection, _cursor, statement: str, *_args) -> None:
        if TENANT_LOOKUP.search(statement):
            tenant_reads.append(statement)

    async def ask_together() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(
            transport=transport, base_url=str(api.base_url), headers=api.headers
        ) as client:
            return await asyncio.gather(*(client.get(q) for q in [QUERY] * 20 + [other] * 5))

    event.listen(engine, "before_cursor_execute", count)
    try:
        answers = asyncio.run(ask_together())
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert [a.status_code for a in answers] == [200] * 25
    assert {a.content for a in answers[:20]} == {alone[QUERY]}
    assert {a.content for a in answers[20:]} == {alone[other]}
    assert len(tenant_reads) == 2


def test_a_just_lapsed_answer_is_given_while_a_fresh_one_is_computed(api: TestClient):
    """Askers of a popular question do not all wait whenever its answer lapses: the
    lapsed answer is given while one computation (one read of the tenant) refreshes
    it; an answer lapsed longer than the cache's time is never given."""
    cache = api.app.state.answer_cache
    cache.ttl_s = 0.3
    engine = engine_for(api.app.state.settings.resolved_store_url)
    tenant_reads: list[str] = []

    def count(_connection, _cursor, statement: str, *_args) -> None:
        if TENANT_LOOKUP.search(statement):
            tenant_reads.append(statement)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(
            transport=transport, base_url=str(api.base_url), headers=api.headers
        ) as client:
            first = await client.get(QUERY)
            assert len(tenant_reads) == 1
            await asyncio.sleep(0.35)  # lapsed, but less than ttl_s ago
            lapsed = await client.get(QUERY)
            assert (lapsed.status_code, lapsed.content) == (200, first.content)
            assert cache.lapsed_hits == 1
            for _ in range(100):  # the refresh runs on after the answer: wait for it
                if len(tenant_reads) == 2 and fresh_answers() == 1:
                    break
                await asyncio.sleep(0.01)
            assert len(tenant_reads) == 2
            assert (await client.get(QUERY)).content == first.content
            assert len(tenant_reads) == 2  # fresh again: from memory
            await asyncio.sleep(0.65)  # lapsed longer than ttl_s ago
            assert (await client.get(QUERY)).status_code == 200
            assert (len(tenant_reads), cache.lapsed_hits) == (3, 1)  # computed, waited for

    def fresh_answers() -> int:  # (the cache's own record: there is no other witness)
        return sum(until > time.monotonic() for until, _ in cache._entries.values())

    event.listen(engine, "before_cursor_execute", count)
    try:
        asyncio.run(scenario())
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_memory_is_bounded_in_bytes_not_answers():
    """A few large answers fill it as many small ones would: the least recently used
    go until the bytes fit, and one answer larger than the whole memory is not kept."""
    big = b"x" * 10_000
    cache = AnswerCache(max_bytes=3 * entry_bytes("k0|", big))
    for i in range(10):
        cache.put(f"k{i}|", big)
        assert cache.bytes <= cache.max_bytes
    assert list(cache._entries) == ["k7|", "k8|", "k9|"]
    cache.put("huge|", b"x" * cache.max_bytes)
    assert cache.get("huge|") is None and cache.get("k9|") == big
    cache.forget("k9")
    assert cache.bytes == 2 * entry_bytes("k0|", big)


def test_unknown_query_parameters_make_no_new_answers(api: TestClient):
    """Fifty junk variants of one question (unknown names, blank known ones, another
    spelling of a known name) are one question: one entry, answered from memory."""
    cache = api.app.state.answer_cache
    first = api.get(QUERY)
    assert first.status_code == 200
    remembered = cache.bytes
    for i in range(50):
        junk = f"&junk{i}={'x' * 1000}&request.clinicID=&REQUEST.TREATMENTID={i}"
        answer = api.get(QUERY + junk)
        assert (answer.status_code, answer.content) == (200, first.content)
    assert (len(cache._entries), cache.bytes, cache.hits) == (1, remembered, 50)
    other = api.get(QUERY + "&request.clinicID=UPP1")  # a known parameter: its own answer
    assert other.status_code == 200 and len(cache._entries) == 2
