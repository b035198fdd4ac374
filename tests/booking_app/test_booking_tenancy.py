"""Host → subdomain: exactly one label under the base domain, nothing else."""

from __future__ import annotations

import pytest

from booking_app.tenancy import subdomain_from_host


@pytest.mark.parametrize(
    ("host", "subdomain"),
    [
        ("tandmottagningen.booking.test", "tandmottagningen"),
        ("tandmottagningen.booking.test:8000", "tandmottagningen"),
        ("TandMottagningen.Booking.TEST", "tandmottagningen"),
        ("tandmottagningen.booking.test.", "tandmottagningen"),  # fully qualified
        ("klinik-2.booking.test", "klinik-2"),
    ],
)
def test_tenant_hosts(host: str, subdomain: str):
    assert subdomain_from_host(host, "booking.test") == subdomain


@pytest.mark.parametrize(
    "host",
    [
        None,
        "",
        "booking.test",  # the bare base domain
        "booking.test:8000",
        ".booking.test",
        "tandmottagningen.example.com",  # another domain
        "tandmottagningen.booking.test.evil.example",
        "tandmottagningenbooking.test",  # no dot before the base domain
        "a.tandmottagningen.booking.test",  # more than one label
        "-bad.booking.test",
        "tand_mottagningen.booking.test",
        "tandmottagningen.booking.test:http",
        "[::1]:8000",
        "127.0.0.1",
    ],
)
def test_other_hosts_select_no_tenant(host: str | None):
    assert subdomain_from_host(host, "booking.test") is None


def test_base_domain_case_and_trailing_dot_do_not_matter():
    assert subdomain_from_host("x.booking.test", "Booking.Test.") == "x"
