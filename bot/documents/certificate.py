"""The completion certificate (Mẫu 54, Decree 116/2021/NĐ-CP): "Giấy chứng nhận đã chấp hành xong thời gian quản lý
sau cai nghiện ma túy", issued by the chairman of the commune's People's Committee to the person, a copy kept on file.

Unlike an invite card it names the programme: it is the legal form, handed to the person and filed. Its wording is
the form's, in Vietnamese whatever the reader's language (an administrative document has no other language), so it
lives in the template rather than in the catalogs. What the record does not hold (no birth year, no decision number
yet) is left as a dotted line for the officer to fill in by hand before the chairman signs, never invented.

The document is reproducible: it is dated on the day the term was completed, so printing it again for the file gives
the same certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.documents import render
from bot.domain.entities import Sex

TITLE = "Giấy chứng nhận"
# The administrative prefixes of a commune-level unit's name since the 2025 reform (and the older "thị trấn"):
# the place in "Hà Đông, ngày … tháng … năm …" is the name without them.
_PREFIXES = ("Phường ", "Xã ", "Thị trấn ", "Đặc khu ")


@dataclass(frozen=True, slots=True)
class CompletionCertificate:
    commune: str  # the unit's name as registered: "Phường Hà Đông"
    name: str
    sex: Sex | None
    birth_year: int | None
    national_id: str | None
    address: str | None
    decision_no: str | None
    decision_date: date | None
    term_start: date
    term_end: date  # the day the term was completed (after any unreported absence moved it)


def _split(commune: str) -> tuple[str, str]:
    """("Phường ", "Hà Đông") from "Phường Hà Đông"; ("", name) when the name has no known prefix."""
    name = commune.strip()
    for prefix in _PREFIXES:
        if name.lower().startswith(prefix.lower()):
            return name[: len(prefix)], name[len(prefix) :].strip()
    return "", name


def place(commune: str) -> str:
    """The place a document is dated at: the commune's name without "Phường"/"Xã"."""
    return _split(commune)[1]


def in_text(commune: str) -> str:
    """The commune inside a sentence: "Ủy ban nhân dân phường Hà Đông" (the kind of unit in lower case)."""
    prefix, name = _split(commune)
    return f"{prefix.lower()}{name}"


def long_date(day: date) -> str:
    """How a Vietnamese document writes a date in running text: ngày 05 tháng 01 năm 2027."""
    return f"ngày {day:%d} tháng {day:%m} năm {day:%Y}"


def render_certificate(certificate: CompletionCertificate) -> bytes:
    c = certificate
    title = {Sex.MALE: "Ông", Sex.FEMALE: "Bà"}.get(c.sex, "Ông/Bà") if c.sex else "Ông/Bà"
    markup = render.html(
        "certificate.html",
        committee=c.commune.upper(),
        commune=in_text(c.commune),
        place=place(c.commune),
        dated=long_date(c.term_end),
        title=title,
        name=c.name.upper(),
        birth_year=c.birth_year,
        national_id=c.national_id,
        address=c.address,
        decision_no=c.decision_no,
        decision_date=long_date(c.decision_date) if c.decision_date else None,
        start=c.term_start.strftime("%d/%m/%Y"),
        end=c.term_end.strftime("%d/%m/%Y"),
    )
    return render.pdf(markup, title=TITLE).pdf
