"""A mistyped member number is refused, never booked to a stranger."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wallet.members import numbers as member_numbers


@given(st.integers(min_value=0, max_value=10_000))
def test_every_generated_number_checks(_):
    number = member_numbers.generate()
    assert len(number) == 11 and number[0] != "0"
    assert member_numbers.normalize(number) == number


@given(st.data())
def test_any_single_wrong_digit_is_caught(data):
    number = member_numbers.generate()
    position = data.draw(st.integers(0, 10))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[position]]))
    assert member_numbers.normalize(number[:position] + digit + number[position + 1 :]) is None


@given(st.data())
def test_any_swap_of_neighbouring_digits_is_caught(data):
    number = member_numbers.generate()
    i = data.draw(st.integers(0, 9).filter(lambda i: number[i] != number[i + 1]))
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert member_numbers.normalize(swapped) is None


def test_spaces_and_dashes_are_allowed_and_other_text_is_not():
    number = member_numbers.generate()
    assert member_numbers.normalize(member_numbers.display(number)) == number
    assert member_numbers.normalize(f"{number[:4]}-{number[4:]}") == number
    assert member_numbers.normalize("٠١٢٣٤٥٦٧٨٩٠") is None  # Arabic-Indic digits are not ours
    assert member_numbers.normalize(number + "0") is None
    assert member_numbers.normalize("") is None
