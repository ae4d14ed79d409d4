"""The hand-over notice (Mẫu 53, Decree 116/2021/NĐ-CP): the sending commune's People's Committee tells the receiving
commune's that a person under post-rehab management has moved there, and hands their record over.

Like the certificate (Mẫu 54) it is a legal form in Vietnamese whatever the reader's language, so its wording lives in
the template. It carries what the record holds (bot/services/record.py `Handover`: the person, the transfer, the
unreported absence days); what the record does not hold (a birth year, the decision's number) is left as a dotted
line for the officer to fill in by hand before the chairman signs, never invented. It names one person and goes to
one commune: the services decide who may print it and audit it, as they do for the certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.documents import render
from bot.documents.certificate import in_text, long_date, place
from bot.domain.entities import Sex

TITLE = "Thông báo bàn giao"


@dataclass(frozen=True, slots=True)
class HandoverNotice:
    sending: str  # the commune the person left, as registered: "Phường Hà Đông"
    receiving: str  # the commune they moved to: "Xã Ba Vì"
    name: str
    birth_year: int | None
    national_id: str | None
    address: str | None
    term_start: date
    expected_end: date  # the term's last day as the record has it today (unreported absences added)
    moved_on: date
    notice_date: date  # the day the notice is dated: printing it again gives the same notice
    sex: Sex | None = None
    unreported_days: int | None = None  # days of unreported absence so far (they do not count toward the term)
    decision_no: str | None = None
    decision_date: date | None = None
    province: str | None = None  # the sending commune's province, above it in the heading when known


def render_handover(notice: HandoverNotice) -> bytes:
    """One A4 page (two for a very long address): the notice for the chairman of the sending commune to sign."""
    n = notice
    title = {Sex.MALE: "Ông", Sex.FEMALE: "Bà"}.get(n.sex, "Ông/Bà") if n.sex else "Ông/Bà"
    markup = render.html(
        "handover.html",
        upper=n.province.upper() if n.province else None,
        committee=n.sending.upper(),
        sending=in_text(n.sending),
        receiving=in_text(n.receiving),
        place=place(n.sending),
        dated=long_date(n.notice_date),
        title=title,
        name=n.name.upper(),
        birth_year=n.birth_year,
        national_id=n.national_id,
        address=n.address,
        decision_no=n.decision_no,
        decision_date=long_date(n.decision_date) if n.decision_date else None,
        start=n.term_start.strftime("%d/%m/%Y"),
        end=n.expected_end.strftime("%d/%m/%Y"),
        moved_on=n.moved_on.strftime("%d/%m/%Y"),
        unreported_days=n.unreported_days,
    )
    return render.pdf(markup, title=TITLE).pdf
