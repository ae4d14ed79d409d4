"""Recording what cadres and officers do, with its consequences: obligations closed, escalations raised, people told.

Callers have already asked `authz.decide`; these functions check facts (the obligation belongs to the person, the
cadre works in the commune), never permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.db.repositories.fieldwork import FieldReport, TestResult
from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.consent import Purpose
from bot.domain.entities import Participant, ParticipantStatus, Role
from bot.domain.escalations import EscalationKind
from bot.domain.fieldwork import (
    InPersonOutcome,
    ObservationCategory,
    ReportKind,
    ReportStatus,
    ReviewProgress,
    SubstanceGroup,
    TestOutcome,
    TransferStatus,
    in_person_obligation_status,
    result_escalates,
    status_after_result,
)
from bot.domain.planning import MessageKind, ObligationKind, ObligationStatus, obligation_key
from bot.services.absences import record_absence
from bot.services.escalations import raise_and_tell, tell_officers
from bot.services.operators import Operator
from bot.services.relay import cadre_changed


class FieldworkError(ValueError):
    """The record cannot be made as asked (wrong obligation, a cadre from another commune, …)."""


async def _audit(
    repos: Repositories,
    by: int | None,
    action: str,
    participant_id: int,
    detail: dict[str, Any],
    operator: Operator | None = None,
) -> None:
    """Who did what to whom, when: ids only, never what was written or found. No staff id: the CLI's operator."""
    if operator is not None:
        await operator.record(repos, action, subject_type="participant", subject_id=participant_id, detail=detail)
        return
    await repos.audit.record(
        actor_type="staff" if by else "operator",
        actor_id=by,
        action=action,
        outcome="ok",
        subject_type="participant",
        subject_id=participant_id,
        detail=detail,
    )


async def record_in_person(
    repos: Repositories,
    person: Participant,
    checked_on: date,
    outcome: InPersonOutcome,
    reason: str | None,
    by: int,
) -> bool:
    """Returns whether the month's check-in obligation was closed by it (present, and it was still open)."""
    await repos.fieldwork.record_in_person(person.id, checked_on, outcome, reason, by)
    closed = False
    if in_person_obligation_status(outcome) is ObligationStatus.DONE:
        obligation = await repos.obligations.by_key(obligation_key(ObligationKind.CHECKIN, person.id, checked_on))
        if obligation is not None and await repos.obligations.set_done(obligation.id):
            closed = True
            await repos.escalations.resolve(obligation_id=obligation.id, kind=EscalationKind.MISSED_CHECKIN)
    await _audit(repos, by, "in_person_check_recorded", person.id, {"month": f"{checked_on:%Y-%m}", "closed": closed})
    return closed


async def record_test_result(
    repos: Repositories,
    person: Participant,
    obligation_id: int | None,
    outcome: TestOutcome,
    substance: SubstanceGroup | None,
    place: str,
    taken_on: date,
    by: int,
    now: datetime,
) -> TestResult:
    """The result, its obligation closed (or missed), and for a positive, refused or missed test: one escalation to
    the commune's officers at once and one neutral offer of support to the person."""
    if obligation_id is not None:
        obligation = await repos.obligations.get(obligation_id)
        tests = (ObligationKind.TEST, ObligationKind.RANDOM_TEST)
        if obligation is None or obligation.participant_id != person.id or obligation.kind not in tests:
            raise FieldworkError("that test does not belong to this person")
    result = await repos.fieldwork.add_test_result(
        person.id, obligation_id, outcome, substance if outcome is TestOutcome.POSITIVE else None, place, taken_on, by
    )
    status = status_after_result(outcome)
    if obligation_id is not None and status is not None:
        await repos.obligations.set_status(obligation_id, status)
    await _audit(repos, by, "test_result_recorded", person.id, {"result": result.id, "obligation": obligation_id})
    if result_escalates(outcome):
        # One alert and one offer per test (a second record of the same test, a correction, raises nothing new).
        about = f"obligation:{obligation_id}" if obligation_id is not None else str(result.id)
        await raise_and_tell(
            repos,
            key=f"{EscalationKind.TEST_RESULT}:{about}",
            kind=EscalationKind.TEST_RESULT,
            participant_id=person.id,
            unit_id=person.unit_id,
            cadre_id=None,  # straight to the officers: results go to the commune chairman (Law 73/2021 Art. 22(3))
            now=now,
            obligation_id=obligation_id,
        )
        if person.status is ParticipantStatus.ACTIVE:
            await repos.outbox.add(
                [
                    NewMessage(
                        f"support:{person.id}:{about}",
                        MessageKind.SUPPORT_OFFER,
                        now,
                        participant_id=person.id,
                        payload={"result_id": result.id},
                    )
                ]
            )
    return result


async def log_observation(
    repos: Repositories, person: Participant, category: ObservationCategory, text: str, risk_flag: bool, by: int
) -> int:
    observation_id = await repos.fieldwork.add_observation(person.id, by, category, text, risk_flag)
    await _audit(repos, by, "observation_logged", person.id, {"observation": observation_id, "risk": risk_flag})
    return observation_id


async def write_review(
    repos: Repositories, person: Participant, quarter: str, progress: ReviewProgress, comment: str, by: int
) -> None:
    await repos.fieldwork.save_review(person.id, quarter, by, progress, comment)
    await _audit(repos, by, "review_written", person.id, {"quarter": quarter})


async def report_absence_or_move(
    repos: Repositories, person: Participant, kind: ReportKind, details: dict[str, Any], by: int, now: datetime
) -> FieldReport:
    """Seen in the community: the officers are asked to confirm; nothing changes on the record until they do."""
    report = await repos.fieldwork.add_report(person.id, person.unit_id, kind, details, by)
    await _audit(repos, by, "field_report_made", person.id, {"report": report.id, "kind": kind.value})
    await tell_officers(
        repos, person.unit_id, f"report:{report.id}", MessageKind.FIELD_REPORT, now, {"report_id": report.id}
    )
    return report


@dataclass(frozen=True, slots=True)
class Confirmed:
    new_end: date | None = None  # an absence moved the end of the term
    transfer_id: int | None = None  # a move waits for the receiving commune


async def confirm_report(
    repos: Repositories, report: FieldReport, by: int, now: datetime, today: date, to_unit_id: int | None = None
) -> Confirmed | None:
    """An absence becomes an unreported absence (it moves the term end); a move becomes a transfer with its hand-over
    notice to the receiving commune. None when another officer decided it first."""
    if not await repos.fieldwork.decide_report(report.id, ReportStatus.CONFIRMED, by):
        return None
    await _audit(repos, by, "field_report_confirmed", report.participant_id, {"report": report.id})
    if report.kind is ReportKind.ABSENCE:
        first, last = date.fromisoformat(report.details["first"]), date.fromisoformat(report.details["last"])
        _, end = await record_absence(
            repos, report.participant_id, first, last, reported=False, reason=None, by_staff=by
        )
        return Confirmed(new_end=end)
    if to_unit_id is None:  # out of the province, or not known yet: confirmed, handed over outside the bot
        return Confirmed()
    moved_on = date.fromisoformat(report.details.get("moved_on") or today.isoformat())
    return Confirmed(transfer_id=await start_transfer(repos, report.participant_id, to_unit_id, moved_on, by, now))


async def reject_report(repos: Repositories, report: FieldReport, by: int) -> bool:
    decided = await repos.fieldwork.decide_report(report.id, ReportStatus.REJECTED, by)
    if decided:
        await _audit(repos, by, "field_report_rejected", report.participant_id, {"report": report.id})
    return decided


async def start_transfer(
    repos: Repositories, participant_id: int, to_unit_id: int, moved_on: date, by: int, now: datetime
) -> int:
    person = await repos.participants.get(participant_id)
    if person is None:
        raise FieldworkError("no such person")
    if to_unit_id == person.unit_id:
        raise FieldworkError("the person already lives in that commune")
    if await repos.fieldwork.has_pending_transfer(participant_id):
        raise FieldworkError("a hand-over for this person is already waiting for the receiving commune")
    transfer_id = await repos.fieldwork.add_transfer(participant_id, person.unit_id, to_unit_id, moved_on, by)
    await _audit(repos, by, "transfer_started", participant_id, {"transfer": transfer_id, "to_unit": to_unit_id})
    await tell_officers(
        repos, to_unit_id, f"transfer:{transfer_id}", MessageKind.TRANSFER_NOTICE, now, {"transfer_id": transfer_id}
    )
    return transfer_id


async def decide_transfer(repos: Repositories, transfer_id: int, accept: bool, by: int) -> bool:
    """Accepting moves the record: the receiving commune's list, no cadre until its officer assigns one, open
    escalations with it. The sending commune's staff lose access at that moment."""
    transfer = await repos.fieldwork.transfer(transfer_id)
    if transfer is None:
        return False
    person = await repos.participants.get(transfer.participant_id)
    followed = (ParticipantStatus.ENROLLED, ParticipantStatus.ACTIVE)
    if accept and (person is None or person.unit_id != transfer.from_unit_id or person.status not in followed):
        await repos.fieldwork.decide_transfer(transfer_id, TransferStatus.DECLINED, by)  # moot: void it
        return False
    status = TransferStatus.ACCEPTED if accept else TransferStatus.DECLINED
    if not await repos.fieldwork.decide_transfer(transfer_id, status, by):
        return False
    if accept:
        await repos.participants.move(transfer.participant_id, transfer.to_unit_id)
        await repos.escalations.move_unit(transfer.participant_id, transfer.to_unit_id)
        await repos.fieldwork.void_reports(transfer.participant_id, transfer.from_unit_id)
        await cadre_changed(repos, transfer.participant_id, None)  # no cadre there yet: the talk with one ends
        # Requests for help go to the receiving commune's counselling point; a conversation with the old one ends.
        await repos.referrals.hand_over(transfer.participant_id, await repos.points.first_in(transfer.to_unit_id))
    await _audit(repos, by, f"transfer_{status.value}", transfer.participant_id, {"transfer": transfer_id})
    return True


async def assign_cadre(
    repos: Repositories,
    person: Participant,
    cadre_id: int | None,
    by: int | None,
    now: datetime,
    operator: Operator | None = None,
) -> None:
    """The new cadre sees the person at once and is told; the old one loses access at once (authorisation reads the
    record on every request)."""
    if cadre_id is not None:
        cadre = await repos.staff.get(cadre_id)
        if cadre is None or cadre.role is not Role.CADRE or not cadre.active or cadre.unit_id != person.unit_id:
            raise FieldworkError("the cadre must be an active cadre of the person's commune")
    await repos.participants.assign(person.id, cadre_id)
    await cadre_changed(repos, person.id, cadre_id)  # a conversation with the old cadre ends; the person is told
    await _audit(repos, by, "cadre_assigned", person.id, {"from": person.cadre_id, "to": cadre_id}, operator)
    if cadre_id is not None and cadre_id != person.cadre_id:
        await repos.outbox.add(
            [
                NewMessage(
                    f"assign:{person.id}:{cadre_id}:{now.isoformat()}",
                    MessageKind.ASSIGNMENT,
                    now,
                    staff_id=cadre_id,
                    payload={"participant_id": person.id},
                )
            ]
        )


async def consented_to_share(repos: Repositories, participant_id: int) -> bool:
    return bool((await repos.consents.current(participant_id)).get(Purpose.SHARE_WITH_CADRE))
