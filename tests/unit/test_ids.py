"""What counts as a record's id from outside: 1 to 10 ASCII digits (or a route converter's int) of 1 … 2**31 - 1."""

import pytest

from bot.domain.ids import LARGEST_ID, record_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (" 42 ", 42),  # a form's value with spaces around
        ("007", 7),
        ("2147483647", LARGEST_ID),
        (42, 42),  # a `{name:int}` route converter's value
        (LARGEST_ID, LARGEST_ID),
    ],
)
def test_an_id_is_ascii_digits_within_the_database_integer(value: object, expected: int) -> None:
    assert record_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None, "", " ", "0", "00", "-1", "+1", "1.0", "1e3", "0x10", "4 2", "1_000", "#12", "abc",
        "²", "١٢", "٣", "１２", "𝟙",  # Unicode digits: isdigit() says yes, they are no id of ours
        "2147483648", "9999999999", "99999999999", "9" * 5000,  # beyond the column (and the 10 digits)
        0, -1, LARGEST_ID + 1, 10**30, True, False, 1.0, b"12", ["1"],
    ],
)  # fmt: skip
def test_anything_else_is_no_id(value: object) -> None:
    assert record_id(value) is None


def test_seven_digits_are_an_id_that_fits() -> None:
    assert record_id("9999999") == 9_999_999
