"""Check digits of the four countries' tax numbers, against numbers published elsewhere."""

from __future__ import annotations

import pytest

from wallet.receipts.fiscal import tax_numbers


@pytest.mark.parametrize(
    "gstin",
    [
        "27AAPFU0939F1ZV",  # the example in many published explanations of the format
        "24AACCT3352M1Z9",  # the seller of a NIC sandbox e-invoice
        "33AABCI6363G1ZQ",  # printed on a Tamil Nadu bill in an open-source project
        "07CIWPM1253M1ZM",  # in the sample output of an open-source bill scanner
    ],
)
def test_published_gstins_check(gstin):
    assert tax_numbers.gstin_is_well_formed(gstin)
    assert tax_numbers.gstin_checks(gstin)


@pytest.mark.parametrize("position", range(14))
def test_a_gstin_with_one_character_changed_fails_its_check(position):
    gstin = "27AAPFU0939F1ZV"
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    changed = alphabet[(alphabet.index(gstin[position]) + 1) % 36]

    assert not tax_numbers.gstin_checks(gstin[:position] + changed + gstin[position + 1 :])


@pytest.mark.parametrize("nip", ["1111111111", "5265877635", "7497725064"])
def test_published_nips_check(nip):
    assert tax_numbers.nip_is_well_formed(nip) and tax_numbers.nip_checks(nip)


@pytest.mark.parametrize("nip", ["5265877636", "1234567890", "0000000001"])
def test_wrong_nips_fail(nip):
    assert not tax_numbers.nip_checks(nip)


@pytest.mark.parametrize("nif", ["123456789", "500000000", "999999990", "509512348"])
def test_portuguese_nifs_of_the_specification_check(nif):
    assert tax_numbers.nif_is_well_formed(nif) and tax_numbers.nif_checks(nif)


@pytest.mark.parametrize("nif", ["123456788", "509512347", "999999991"])
def test_wrong_nifs_fail(nif):
    assert not tax_numbers.nif_checks(nif)


@pytest.mark.parametrize(
    "number, looks_right",
    [
        ("310122393500003", True),
        ("311111111101113", True),
        ("3101223935", False),
        ("410122393500003", False),
        ("31012239350000۳", False),
    ],
)
def test_saudi_vat_numbers_are_15_digits_between_two_threes(number, looks_right):
    assert tax_numbers.saudi_vat_number_looks_right(number) is looks_right
