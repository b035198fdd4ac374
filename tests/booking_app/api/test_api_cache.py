"""The few seconds' memory of availability answers: what it may and may not answer."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from booking_app.api.cache import AnswerCache

QUERY = "/api/public/v1/appointments/schedule/availabletimes?request.treatmentID=1"


def test_answers_lapse_after_their_time_and_the_oldest_go_first():
    cache = AnswerCache(ttl_s=0.05, max_entries=2)
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
