"""Finding a province in the official 2025 list the way people type it, and the list the seeding reads."""

from __future__ import annotations

import pytest

from bot.core.i18n import Catalogs, default_locales_dir
from bot.domain.entities import Unit, UnitLevel
from bot.services.seeding import SeedError, match_province, official_communes, official_provinces


@pytest.mark.parametrize(
    "typed",
    ["01", "1", "001", "ha noi", "Hà Nội", "HÀ NỘI", "Thành phố Hà Nội", "thanh pho ha noi", "TP Hà Nội",
     "TP. Hà Nội", "tp.ha noi", "hanoi", "  Hà   Nội  ", "ha_noi", "Hà Nộ", "noi"],
)  # fmt: skip
def test_hanoi_typed_every_way(typed: str) -> None:
    found = match_province(typed)
    assert (found.code, found.name) == ("01", "Thành phố Hà Nội")


@pytest.mark.parametrize(
    ("typed", "code", "name"),
    [
        ("Tỉnh Cao Bằng", "04", "Tỉnh Cao Bằng"),
        ("cao bang", "04", "Tỉnh Cao Bằng"),
        ("Khánh Hoà", "56", "Tỉnh Khánh Hòa"),  # the old accent placement finds the official one
        ("dak lak", "66", "Tỉnh Đắk Lắk"),
        ("Đà Nẵng", "48", "Thành phố Đà Nẵng"),
        ("TP HCM", "79", "Thành phố Hồ Chí Minh"),
        ("tp.hcm", "79", "Thành phố Hồ Chí Minh"),
        ("Sài Gòn", "79", "Thành phố Hồ Chí Minh"),
        ("ho chi minh", "79", "Thành phố Hồ Chí Minh"),
        ("Thừa Thiên Huế", "46", "Thành phố Huế"),
        ("quang ni", "22", "Tỉnh Quảng Ninh"),
        ("Bà Rịa", None, None),  # a province merged into another is refused, never seeded as it
    ],
)
def test_names_short_forms_and_accents(typed: str, code: str | None, name: str | None) -> None:
    if code is None:
        with pytest.raises(SeedError) as refused:
            match_province(typed)
        assert refused.value.kind in ("former", "unknown")
        return
    found = match_province(typed)
    assert (found.code, found.name) == (code, name)


def test_an_ambiguous_name_lists_the_candidates() -> None:
    with pytest.raises(SeedError) as refused:
        match_province("Quảng")
    error = refused.value
    assert error.kind == "ambiguous"
    assert [p.code for p in error.candidates] == ["08", "22", "44", "51"]
    assert "22 Tỉnh Quảng Ninh" in str(error) and "give the code or the full name" in str(error)
    with pytest.raises(SeedError) as refused:
        match_province("Thành phố")
    assert [p.code for p in refused.value.candidates] == ["01", "31", "46", "48", "79", "92"]


@pytest.mark.parametrize(
    ("typed", "kind", "suggested"),
    [
        ("Bình Dương", "former", ["79"]),
        ("Bà Rịa - Vũng Tàu", "former", ["79"]),
        ("Kon Tum", "former", ["51"]),
        ("Hà Tây", "former", ["01"]),
        ("ha noj", "unknown", ["01"]),
        ("Atlantis", "unknown", []),
        ("99", "unknown", []),
        ("00070", "unknown", []),  # a commune's code is not a province's
        ("", "empty", []),
        ("   ", "empty", []),
    ],
)
def test_unknown_and_former_provinces_are_refused_with_a_suggestion(
    typed: str, kind: str, suggested: list[str]
) -> None:
    with pytest.raises(SeedError) as refused:
        match_province(typed)
    assert refused.value.kind == kind
    assert [p.code for p in refused.value.candidates] == suggested


def test_a_ten_thousand_character_query_is_refused_and_not_echoed_whole() -> None:
    with pytest.raises(SeedError) as refused:
        match_province("Hà Nội " * 1500)
    assert refused.value.kind == "unknown"
    assert len(str(refused.value)) < 120


def test_a_province_unit_set_up_by_hand_is_found_by_its_own_code() -> None:
    by_hand = [Unit(1, "HN", "Thành phố Hà Nội", UnitLevel.PROVINCE, None), Unit(2, "HD", "Phường Hà Đông",
               UnitLevel.COMMUNE, 1)]  # fmt: skip
    assert match_province("hn", by_hand).code == "01"
    with pytest.raises(SeedError):
        match_province("HD", by_hand)  # a commune's code names no province
    odd = [Unit(3, "XX", "Tỉnh Không Có", UnitLevel.PROVINCE, None)]
    with pytest.raises(SeedError) as refused:
        match_province("XX", odd)
    assert refused.value.kind == "unknown"


def test_the_official_list_as_seeded() -> None:
    provinces = official_provinces()
    assert len(provinces) == 34
    assert len({p.key for p in provinces}) == 34  # no two names fold to the same key
    assert all(p.name.startswith(("Tỉnh ", "Thành phố ")) for p in provinces)
    hanoi = official_communes("01")
    assert len(hanoi) == 126
    assert all(len(c.code) == 5 and c.code.isdigit() for c in hanoi)
    assert all(c.name.startswith(("Phường ", "Xã ")) for c in hanoi)
    assert "Phường Hà Đông" in {c.name for c in hanoi}
    assert any(c.name.startswith("Đặc khu ") for c in official_communes("31"))  # Bạch Long Vĩ, Cát Hải
    every = [c for p in provinces for c in official_communes(p.code)]
    assert len({c.code for c in every}) == len(every) == 3321
    for p in provinces:
        names = [c.name for c in official_communes(p.code)]
        assert len(set(names)) == len(names), p.name  # a province's communes are told apart by name


@pytest.mark.parametrize("language", ["vi", "en"])
def test_refusals_read_in_the_staff_language(language: str) -> None:
    t = Catalogs(default_locales_dir()).translator(language, "staff")
    with pytest.raises(SeedError) as refused:
        match_province("Quảng")
    text = refused.value.explain(t)
    assert "22 Tỉnh Quảng Ninh" in text
    if language == "vi":
        assert text.startswith("“Quảng” khớp với nhiều tỉnh/thành phố") and "Anh/chị" in text
    else:
        assert text.startswith("“Quảng” matches several provinces")
    with pytest.raises(SeedError) as refused:
        match_province("Bình Dương")
    text = refused.value.explain(t)
    assert "79 Thành phố Hồ Chí Minh" in text
    assert ("không còn là đơn vị hành chính cấp tỉnh" if language == "vi" else "no longer a province") in text
