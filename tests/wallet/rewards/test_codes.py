"""Codes: one normal form, sealed at rest with rotating keys, found by a keyed hash; generated codes check themselves."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

from wallet.rewards import codes
from wallet.rewards.codes import CodeRefused, CodeVault

OLD, NEW, LOOKUP = os.urandom(32), os.urandom(32), os.urandom(32)


def vault(*keys: tuple[str, bytes]) -> CodeVault:
    return CodeVault(keys=list(keys) or [("k1", OLD)], lookup_key=LOOKUP)


def row(sealed: codes.Sealed) -> SimpleNamespace:
    return SimpleNamespace(lookup_hash=sealed.lookup_hash, key_id=sealed.key_id, ciphertext=sealed.ciphertext,
                           pin_ciphertext=sealed.pin_ciphertext)


@pytest.mark.parametrize("typed, normal", [
    ("ab12cd", "AB12CD"),
    ("  AB-12 cd\t", "AB12CD"),
    ("ＡＢ１２", "AB12"),  # full-width letters and digits, as a phone keyboard may send them
    ("a b-c", "ABC"),
])
def test_codes_are_compared_in_one_normal_form(typed, normal):
    assert codes.normalize(typed) == normal


@pytest.mark.parametrize("typed, reason", [
    ("", "blank"), ("  - ", "blank"), ("X" * 65, "too_long"), ("СODE1", "bad_characters"),  # a Cyrillic С
    ("AB\x01C", "bad_characters"), ("كود", "bad_characters"),
])
def test_a_code_that_cannot_be_stored_says_why(typed, reason):
    with pytest.raises(CodeRefused) as refused:
        codes.normalize(typed)
    assert refused.value.reason == reason


def test_a_sealed_code_opens_to_what_the_vendor_wrote_and_hides_it_in_the_row():
    v = vault()
    sealed = v.seal(" Ab-12cd ", pin="0042")
    assert v.open(row(sealed)) == ("Ab-12cd", "0042")
    assert b"Ab-12cd" not in sealed.ciphertext and b"AB12CD" not in sealed.ciphertext
    assert b"0042" not in (sealed.pin_ciphertext or b"")
    # the till's typing finds the same row
    assert v.lookup_hash(codes.normalize("ab12CD")) == sealed.lookup_hash


def test_the_same_code_seals_differently_each_time_but_hashes_the_same():
    v = vault()
    first, second = v.seal("CODE-1"), v.seal("CODE-1")
    assert first.ciphertext != second.ciphertext
    assert first.lookup_hash == second.lookup_hash


def test_a_ciphertext_moved_onto_another_row_does_not_open():
    v = vault()
    one, other = v.seal("CODE-1"), v.seal("CODE-2")
    swapped = SimpleNamespace(lookup_hash=other.lookup_hash, key_id=one.key_id, ciphertext=one.ciphertext,
                              pin_ciphertext=None)
    with pytest.raises(LookupError, match="does not decrypt"):
        v.open(swapped)


def test_after_rotation_old_rows_open_and_reseal_moves_them_to_the_newest_key():
    # given a code sealed under k1, and k2 put first
    stored = row(vault(("k1", OLD)).seal("CODE-1", pin="9"))
    rotated = vault(("k2", NEW), ("k1", OLD))

    # then the old row still opens, and resealing moves it to k2
    assert rotated.open(stored) == ("CODE-1", "9")
    assert rotated.reseal(stored) is True and stored.key_id == "k2"
    assert rotated.reseal(stored) is False
    # so k1 can be dropped
    assert vault(("k2", NEW)).open(stored) == ("CODE-1", "9")


def test_a_row_under_a_key_no_longer_configured_is_refused_with_its_kid():
    stored = row(vault(("k1", OLD)).seal("CODE-1"))
    with pytest.raises(LookupError, match="k1 is not configured"):
        vault(("k2", NEW)).open(stored)


def test_the_lookup_key_may_not_be_an_encryption_key():
    with pytest.raises(ValueError, match="lookup key"):
        CodeVault(keys=[("k1", OLD)], lookup_key=OLD)


def test_a_generated_code_is_sixteen_symbols_in_groups_of_four_that_check_themselves():
    made = {codes.generate() for _ in range(200)}
    assert len(made) == 200
    for code in made:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        normal = codes.normalize(code)
        assert codes.looks_generated(normal) and codes.checks(normal)
        assert not set(normal) & set("ILOU")


def test_every_single_wrong_symbol_of_a_generated_code_is_caught():
    normal = codes.normalize(codes.generate())
    for i, right in enumerate(normal):
        for wrong in codes.ALPHABET:
            if wrong != right:
                assert not codes.checks(normal[:i] + wrong + normal[i + 1:]), (i, wrong)


def test_nearly_every_swap_of_neighbours_is_caught():
    caught = total = 0
    for _ in range(50):
        normal = codes.normalize(codes.generate())
        for i in range(len(normal) - 1):
            if normal[i] != normal[i + 1]:
                total += 1
                caught += not codes.checks(normal[:i] + normal[i + 1] + normal[i] + normal[i + 2:])
    assert caught / total > 0.95


def test_a_generated_code_typed_with_o_for_zero_still_reads():
    normal = codes.normalize(codes.generate()).replace("0", "O").replace("1", "I")
    assert codes.looks_generated(normal) and codes.checks(normal)
