"""A person's own data, exported: everything the database keeps about them, as JSON (for machines, and for the person
to take elsewhere) and as a readable PDF with the national heading. One place, used by the chat's approved copy
(bot/flows/mydata/pushed.py), the CLI (`aftercare participant export`) and the tests.

The export is made when it is sent, from the database as it is then, and never stored. Every export is audited (who,
whose, which format, by which way — never the content). What it holds is the person's own: their register entry,
check-ins with their answers, in-person checks, test dates (an unannounced one only from its day on) and results,
the cadre's notes and reviews, absences and moves, the cadre's reports of an absence or a move (field reports),
requests for help and their conversations through the bot, linked chats (the platform, never its id), consents and
their requests about their data. What it leaves out is other people's working notes about a case (a counsellor's
private note on a request, the note an officer wrote on an alert) — those are about the staff's work, not data the
person gave or that describes them — and staff members other than the cadre accompanying them are not named.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from bot.db.store import Repositories
from bot.domain.authz import Action, Actor, ActorKind, decide
from bot.domain.entities import UnitLevel
from bot.domain.planning import ObligationKind, shown_before_due
from bot.services.operators import Operator
from bot.services.record import scope_of

FORMAT = "dong-hanh/personal-data/v1"
MOST = 10_000  # more of one kind than any term holds: nothing is cut off
KEYS = (
    "format", "made_at", "person", "cadre", "checkins", "in_person_checks", "tests", "test_results", "notes",
    "reviews", "absences", "moves", "field_reports", "requests_for_help", "conversations", "chats", "consents",
    "data_requests",
)  # fmt: skip


class NoSuchPerson(LookupError):
    """No participant with this id."""


def _d(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def gather(repos: Repositories, participant_id: int, now: datetime, zone: tzinfo) -> dict[str, Any]:
    """Everything kept about this person, as plain JSON values (keys: `KEYS`). Raises NoSuchPerson."""
    person = await repos.participants.get(participant_id)
    if person is None:
        raise NoSuchPerson(participant_id)
    unit = await repos.units.get(person.unit_id)
    cadre = await repos.staff.get(person.cadre_id) if person.cadre_id is not None else None
    reg = person.register
    today = now.astimezone(zone).date()
    checkins = []
    for obligation in await repos.obligations.of_participant(
        person.id, person.term_start - timedelta(days=400), today + timedelta(days=400), kinds=[ObligationKind.CHECKIN]
    ):
        answers = await repos.checkins.for_obligation(obligation.id)
        checkins.append({
            "due_on": _d(obligation.due_on), "status": obligation.status.value, "done_at": _d(obligation.done_at),
            "answers": dict(answers.answers) if answers is not None else None,
        })  # fmt: skip
    # Test dates: the announced ones, and an unannounced one only from its day on (never before: that is what
    # makes it unannounced — a copy made today must not tell the person next week's test).
    tests_due = [
        {"due_on": _d(o.due_on), "kind": o.kind.value, "status": o.status.value, "done_at": _d(o.done_at)}
        for o in await repos.obligations.of_participant(
            person.id, person.term_start - timedelta(days=400), today + timedelta(days=400),
            kinds=[ObligationKind.TEST, ObligationKind.RANDOM_TEST],
        )
        if shown_before_due(o.kind, o.due_on, today)
    ]  # fmt: skip
    checks = [
        {"month": c.month, "outcome": c.outcome.value, "reason": c.reason, "checked_on": _d(c.checked_on)}
        for c in reversed(await repos.fieldwork.in_person_of(person.id, MOST))
    ]
    tests = [
        {"taken_on": _d(r.taken_on), "outcome": r.outcome.value,
         "substance": r.substance.value if r.substance else None, "place": r.place}
        for r in reversed(await repos.fieldwork.test_results_of(person.id, MOST))
    ]  # fmt: skip
    notes = [
        {"recorded_at": _d(n.recorded_at), "category": n.category.value, "text": n.text}
        for n in reversed(await repos.fieldwork.observations_of(person.id, MOST))
    ]
    reviews = []
    for quarter in _quarters(person.term_start, today):
        review = await repos.fieldwork.review_of(person.id, quarter)
        if review is not None:
            reviews.append({"quarter": review.quarter, "progress": review.progress.value, "comment": review.comment})
    reasons = await repos.absences.reasons_of(person.id)
    absences = [
        {"starts_on": _d(a.starts_on), "ends_on": _d(a.ends_on), "reported": a.reported, "reason": reasons.get(a.id)}
        for a in await repos.absences.of(person.id)
    ]
    names: dict[int, str] = {}

    async def unit_name(unit_id: int) -> str:
        if unit_id not in names:
            found = await repos.units.get(unit_id)
            names[unit_id] = found.name if found else ""
        return names[unit_id]

    moves = [
        {"moved_on": _d(t.moved_on), "from": await unit_name(t.from_unit_id), "to": await unit_name(t.to_unit_id),
         "status": t.status.value}
        for t in await repos.fieldwork.transfers_of(person.id, MOST)
    ]  # fmt: skip
    field_reports = [
        {"reported_at": _d(r.reported_at), "kind": r.kind.value, "status": r.status.value, "details": r.details}
        for r in await repos.fieldwork.reports_of(person.id, MOST)
    ]
    referrals = sorted(await repos.referrals.of_participant(person.id, MOST), key=lambda r: (r.created_at, r.id))
    helps, conversations = [], []
    for referral in referrals:
        helps.append({"created_at": _d(referral.created_at), "kind": referral.kind, "status": referral.status.value,
                      "closed_at": _d(referral.closed_at), "outcome": referral.outcome})  # fmt: skip
        messages = await repos.relay.of_referral(referral.id, limit=MOST)
        if messages:
            conversations.append({
                "started_at": _d(referral.relay_started_at or referral.created_at), "kind": referral.kind,
                "messages": [{"at": _d(m.sent_at), "from": m.sender, "text": m.body}
                             for m in sorted(messages, key=lambda m: (m.sent_at, m.id))],
            })  # fmt: skip
    chats = [{"channel": channel, "linked_at": _d(at)} for channel, at in await repos.data_requests.chats_of(person.id)]
    consents = [
        {"purpose": row.purpose, "granted": row.granted, "recorded_at": _d(row.recorded_at),
         "text_version": row.text_version}
        for row in await repos.consents.history(person.id)
    ]  # fmt: skip
    requests = [
        {"kind": r.kind.value, "status": r.status.value, "requested_at": _d(r.requested_at),
         "decided_at": _d(r.decided_at), "reason": r.reason}
        for r in reversed(await repos.data_requests.of_participant(person.id, MOST))
    ]  # fmt: skip
    return {
        "format": FORMAT,
        "made_at": _d(now),
        "person": {
            "id": person.id,
            "name": person.name,
            "national_id": person.national_id,
            "birth_year": reg.birth_year,
            "sex": reg.sex.value if reg.sex else None,
            "address": reg.address,
            "phone": reg.phone,
            "decision_no": reg.decision_no,
            "decision_date": _d(reg.decision_date),
            "commune": unit.name if unit else None,
            "term_start": _d(person.term_start),
            "term_months": person.term_months,
            "expected_end": _d(person.expected_end),
            "completed_on": _d(person.completed_on),
            "status": person.status.value,
            "risk_level": person.risk_level.value,
            "language": person.language,
            "wording": person.wording.value,
            "reminder_hour": person.reminder_hour,
        },
        "cadre": {"name": cadre.name} if cadre is not None else None,
        "checkins": checkins,
        "in_person_checks": checks,
        "tests": tests_due,
        "test_results": tests,
        "notes": notes,
        "reviews": reviews,
        "absences": absences,
        "moves": moves,
        "field_reports": field_reports,
        "requests_for_help": helps,
        "conversations": conversations,
        "chats": chats,
        "consents": consents,
        "data_requests": requests,
    }


def _quarters(start: date, today: date) -> list[str]:
    """The quarters of a term so far ("2026-Q3"), oldest first."""
    out, year, quarter = [], start.year, (start.month - 1) // 3 + 1
    while (year, quarter) <= (today.year, (today.month - 1) // 3 + 1):
        out.append(f"{year}-Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


def to_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


# ---- the readable copy (Vietnamese: an administrative document, like the certificate) ---------------------------

_WORDS = {
    "status": {"enrolled": "Đã có tên trong danh sách", "active": "Đang được quản lý", "completed": "Đã hoàn thành",
               "transferred": "Đã chuyển đi", "removed": "Đã đưa ra khỏi danh sách"},
    "checkin": {"pending": "Chưa đến hạn", "done": "Đã thực hiện", "missed": "Bỏ lỡ", "cancelled": "Đã hủy",
                "excused": "Được miễn"},
    "in_person": {"present": "Có mặt", "absent": "Vắng mặt", "unreachable": "Không liên lạc được"},
    "test": {"negative": "Âm tính", "positive": "Dương tính", "refused": "Từ chối xét nghiệm",
             "no_show": "Không đến", "invalid": "Mẫu không hợp lệ"},
    "review": {"good": "Tốt", "fair": "Khá", "concerning": "Cần quan tâm"},
    "note": {"family": "Gia đình", "work": "Việc làm", "health": "Sức khỏe", "behaviour": "Hành vi",
             "relapse_risk": "Nguy cơ tái sử dụng", "support": "Hỗ trợ", "other": "Khác"},
    "purpose": {"reminders": "Nhắc lịch và điểm danh qua tin nhắn",
                "share_with_cadre": "Chia sẻ câu trả lời điểm danh với cán bộ",
                "referrals": "Giới thiệu đến tư vấn"},
    "request": {"copy": "Bản sao dữ liệu", "correction": "Đề nghị sửa thông tin"},
    "request_status": {"pending": "Đang chờ", "approved": "Đã duyệt", "done": "Đã sửa", "declined": "Đã từ chối"},
    "test_kind": {"test": "Xét nghiệm định kỳ", "random_test": "Xét nghiệm đột xuất"},
    "report": {"absence": "Vắng mặt", "move": "Chuyển nơi ở"},
    "report_status": {"pending": "Đang chờ xác nhận", "confirmed": "Đã xác nhận", "rejected": "Không xác nhận",
                      "void": "Không còn hiệu lực"},
    "sender": {"participant": "Bạn", "counsellor": "Tư vấn viên", "cadre": "Cán bộ"},
    "sex": {"male": "Nam", "female": "Nữ"},
    "help": {"counselling": "Tư vấn", "training": "Học nghề", "job": "Việc làm", "livelihood": "Sinh kế",
             "health": "Sức khỏe", "papers": "Giấy tờ", "cadre": "Nhắn người đồng hành"},
    "help_status": {"requested": "Đang chờ", "accepted": "Đã tiếp nhận", "closed": "Đã kết thúc"},
    "question": {"mood": "Tâm trạng (1–5)", "cravings": "Thèm", "use": "Có sử dụng", "work": "Công việc",
                 "needs": "Cần hỗ trợ", "call": "Muốn được gọi"},
    "answer": {"none": "Không", "little": "Một chút", "strong": "Nhiều", "no": "Không", "yes": "Có",
               "private": "Không muốn trả lời",
               "working": "Đang đi làm", "studying": "Đang học", "looking": "Đang tìm việc",
               "not_working": "Chưa đi làm", "training": "Học nghề", "job": "Việc làm", "livelihood": "Sinh kế",
               "health": "Sức khỏe", "papers": "Giấy tờ"},
}  # fmt: skip


def answers_text(answers: dict[str, Any] | None) -> str:
    """A check-in's answers as the person gave them, in words (the questions the questionnaire asked)."""
    if not answers:
        return ""
    parts = []
    for key, value in answers.items():
        if key not in _WORDS["question"]:
            continue
        values = value if isinstance(value, list) else [value]
        parts.append(f"{_WORDS['question'][key]}: {', '.join(_word('answer', v) for v in values)}")
    return "; ".join(parts)


def _word(group: str, code: object) -> str:
    return _WORDS[group].get(str(code), str(code)) if code is not None else ""


def _dmy(value: str | None) -> str:
    if not value:
        return ""
    day = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return day.strftime("%d/%m/%Y %H:%M") if isinstance(day, datetime) else day.strftime("%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class Files:
    pdf: bytes
    json: bytes


def render_pdf(data: dict[str, Any], zone: tzinfo) -> bytes:
    """The readable copy: the national heading, then each category as a table, in plain Vietnamese."""
    from bot.documents import certificate, render

    commune = data["person"].get("commune") or ""
    made = datetime.fromisoformat(data["made_at"]).astimezone(zone)
    markup = render.html(
        "personal_data.html",
        committee=commune.upper(),
        place=certificate.place(commune) if commune else "",
        dated=certificate.long_date(made.date()),
        d=data,
        word=_word,
        dmy=_dmy,
        answers=answers_text,
        local=lambda v: datetime.fromisoformat(v).astimezone(zone).strftime("%d/%m/%Y %H:%M") if v else "",
    )
    return render.pdf(markup, title="Bản sao dữ liệu cá nhân").pdf


async def files(data: dict[str, Any], zone: tzinfo) -> Files:
    """The PDF (rendered in a worker thread: WeasyPrint takes a second of CPU) and the JSON."""
    pdf = await asyncio.to_thread(render_pdf, data, zone)
    return Files(pdf, to_json(data))


async def record_export(
    repos: Repositories,
    participant_id: int,
    *,
    actor_type: str,
    actor_id: int | None,
    via: str,
    formats: list[str],
    extra: dict[str, Any] | None = None,
) -> None:
    """Every export on record: who, whose, how, which formats — never what was in it."""
    await repos.audit.record(
        actor_type=actor_type, actor_id=actor_id, action="personal_data_exported", outcome="ok",
        subject_type="participant", subject_id=participant_id, detail={"via": via, "formats": formats, **(extra or {})},
    )  # fmt: skip


async def may_export(repos: Repositories, participant_id: int, operator: Operator) -> bool:
    """The operator may export this person's data: the command line runs with full power (responsibility is in the
    audit), but an operator acting `--as` a staff member is held to that member's reach (EXPORT_PERSONAL_DATA: the
    person's commune officer). False: refused, the refusal audited (the caller commits, then says no). Raises
    NoSuchPerson."""
    person = await repos.participants.get(participant_id)
    if person is None:
        raise NoSuchPerson(f"participant {participant_id}: no such person")
    if operator.staff_id is None:
        return True
    member = await repos.staff.get(operator.staff_id)
    unit = await repos.units.get(member.unit_id) if member is not None else None
    province = (unit.id if unit.level is UnitLevel.PROVINCE else unit.parent_id) if unit is not None else None
    actor = Actor(ActorKind.STAFF, operator.staff_id, member.role if member else None,
                  member.unit_id if member else None, province)  # fmt: skip
    decision = decide(actor, Action.EXPORT_PERSONAL_DATA, await scope_of(repos, person))
    if not decision:
        await operator.record(
            repos, f"denied:{Action.EXPORT_PERSONAL_DATA.value}", outcome="denied", subject_type="participant",
            subject_id=participant_id, detail={"reason": decision.reason},
        )  # fmt: skip
        return False
    return True


def file_name(participant_id: int, made_at: datetime, extension: str) -> str:
    return f"du-lieu-cua-toi-{participant_id}-{made_at:%Y%m%d}.{extension}"
