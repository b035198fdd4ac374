"""Clinics under their *Grupp* headings, as the manual describes."""

from __future__ import annotations

from booking_app.queries import ClinicListing, group_clinics


def clinic(name: str, group: str | None) -> ClinicListing:
    return ClinicListing(
        id=hash(name),
        name=name,
        group_name=group,
        address1=None,
        address2=None,
        postal_code=None,
        city=None,
        free_times=(),
    )


def shape(clinics: list[ClinicListing]) -> list[tuple[str | None, bool, list[str]]]:
    return [(g.name, g.headed, [c.name for c in g.clinics]) for g in group_clinics(clinics)]


def test_groups_in_order_of_their_first_clinic_and_ungrouped_last():
    clinics = [
        clinic("Enköping", None),
        clinic("Stora torget", "Västerås"),
        clinic("Centrum", "Uppsala"),
        clinic("Skultuna", "Västerås"),
        clinic("Gränby", "Uppsala"),
        clinic("Heby", None),
    ]
    assert shape(clinics) == [
        ("Västerås", True, ["Stora torget", "Skultuna"]),
        ("Uppsala", True, ["Centrum", "Gränby"]),
        (None, True, ["Enköping", "Heby"]),
    ]


def test_no_groups_means_one_list_without_headings():
    assert shape([clinic("A", None), clinic("B", None)]) == [(None, False, ["A", "B"])]


def test_all_grouped_has_no_ungrouped_section():
    assert shape([clinic("A", "X"), clinic("B", "Y")]) == [
        ("X", True, ["A"]),
        ("Y", True, ["B"]),
    ]


def test_no_clinics_no_groups():
    assert group_clinics([]) == []
