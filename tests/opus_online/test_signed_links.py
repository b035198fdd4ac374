"""Signed links: a genuine token verifies; an altered, foreign or expired one does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opus_online.signed_links import LinkExpired, LinkInvalid, sign, verify

SECRET = b"the app's secret"
NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
LATER = NOW + timedelta(hours=48)


def token(**overrides: object) -> str:
    args = {"purpose": "reminder", "tenant": "tandia", "subject": "4711", "expires_at": LATER}
    return sign(SECRET, **{**args, **overrides})  # type: ignore[arg-type]


def test_a_genuine_token_gives_its_subject_and_expiry() -> None:
    link = verify(SECRET, token(), purpose="reminder", tenant="tandia", now=NOW)
    assert link.subject == "4711"
    assert link.expires_at == LATER


def test_the_token_is_short_enough_for_an_sms() -> None:
    assert len(token(subject="1234567890")) <= 45


def test_every_altered_character_fails() -> None:
    good = token()
    for index, char in enumerate(good):
        if char == ".":
            continue
        other = "B" if char != "B" else "C"
        with pytest.raises(LinkInvalid):
            verify(
                SECRET,
                good[:index] + other + good[index + 1 :],
                purpose="reminder",
                tenant="tandia",
                now=NOW,
            )


@pytest.mark.parametrize(
    ("purpose", "tenant", "secret"),
    [("offer", "tandia", SECRET), ("reminder", "other", SECRET), ("reminder", "tandia", b"x")],
)
def test_another_purpose_tenant_or_secret_fails(purpose: str, tenant: str, secret: bytes) -> None:
    with pytest.raises(LinkInvalid):
        verify(secret, token(), purpose=purpose, tenant=tenant, now=NOW)


def test_a_longer_expiry_cannot_be_grafted_onto_a_signature() -> None:
    subject, _, mac = token(expires_at=NOW + timedelta(minutes=1)).split(".")
    forged = f"{subject}.{token().split('.')[1]}.{mac}"
    with pytest.raises(LinkInvalid):
        verify(SECRET, forged, purpose="reminder", tenant="tandia", now=NOW)


def test_an_expired_token_says_so() -> None:
    with pytest.raises(LinkExpired):
        verify(SECRET, token(), purpose="reminder", tenant="tandia", now=LATER)


@pytest.mark.parametrize("garbage", ["", "x", "a.b", "a.b.c.d", "4711.zz.<script>", "é.1.aaaa"])
def test_malformed_tokens_fail_cleanly(garbage: str) -> None:
    with pytest.raises(LinkInvalid):
        verify(SECRET, garbage, purpose="reminder", tenant="tandia", now=NOW)


def test_subjects_must_not_carry_anything_but_ids() -> None:
    with pytest.raises(ValueError):
        token(subject="19121212-1212@x")
    with pytest.raises(ValueError):
        token(expires_at=datetime(2026, 1, 1))
