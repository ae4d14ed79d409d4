"""A participant's own mobile number, as people type it: one form stored, garbage refused, shown so it can be tapped."""

from __future__ import annotations

import pytest

from bot.domain.phone import mobile, shown


@pytest.mark.parametrize(
    "typed",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "091-234-5678",
        "+84 912 345 678",
        "+84912345678",
        "+84 (0) 912 345 678",
        "84912345678",
        "0084 912 345 678",
        "０９１２３４５６７８",  # full-width digits from a Vietnamese keyboard
        " 0912345678 ",
    ],
)
def test_the_ways_people_write_a_mobile_number(typed: str) -> None:
    assert mobile(typed) == "0912345678"


@pytest.mark.parametrize("prefix", ["03", "05", "07", "08", "09"])
def test_every_network_prefix(prefix: str) -> None:
    assert mobile(f"{prefix}12345678") == f"{prefix}12345678"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "abc",
        "số em là 0912345678",  # words around it: asked again rather than guessed
        "091234567",  # nine digits
        "09123456789",  # eleven
        "0241234567",  # a landline's prefix
        "024 3382 0000",  # a landline
        "01234567890",  # an old eleven-digit mobile
        "+8491234567",
        "+1 912 345 6789",
        "0912345678x",
        "٠٩١٢٣٤٥٦٧٨",  # digits of another script: not a number anyone dials here
        "1" * 10_000,
        "0912345678" * 1_000,
    ],
)
def test_what_is_not_a_mobile_number(typed: str) -> None:
    assert mobile(typed) is None


def test_shown_grouped_and_tappable() -> None:
    assert shown("0912345678") == "0912 345 678 (+84 91 234 5678)"
    assert shown("+84 912 345 678") == "0912 345 678 (+84 91 234 5678)"
    assert shown("024 3382 0000 (cơ quan)") == "024 3382 0000 (cơ quan)"  # written into the register otherwise: as is
