"""Raising an escalation: the record, and the message to whoever must act (the cadre, else the officer)."""

from __future__ import annotations

from datetime import datetime

from bot.db.repositories.escalations import Escalation
from bot.db.repositories.fieldwork import TestResult
from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.planning import MessageKind


class EscalationKind:
    MISSED_CHECKIN = "missed_checkin"
    UNREACHABLE = "unreachable"
    RISKY_CHECKIN = "risky_checkin"
    CRISIS = "crisis"  # a message about suicide, self-harm, overdose or danger: urgent, past quiet hours
    TEST_RESULT = "test_result"  # positive, refused or missed test: one per test ("test_result:obligation:<id>"),
    # or per result for a test outside the schedule ("test_result:<result id>")


async def result_of(repos: Repositories, escalation: Escalation) -> TestResult | None:
    """The result a test-result escalation is about: the latest one recorded for its test, or the one its key names."""
    if escalation.kind != EscalationKind.TEST_RESULT:
        return None
    if escalation.obligation_id is not None:
        return await repos.fieldwork.latest_result_for(escalation.obligation_id)
    _, _, raw = escalation.key.partition(":")
    return await repos.fieldwork.test_result(int(raw)) if raw.isdigit() else None


async def raise_escalation(
    repos: Repositories,
    *,
    key: str,
    kind: str,
    participant_id: int,
    unit_id: int,
    cadre_id: int | None,
    now: datetime,
    obligation_id: int | None = None,
    urgent: bool = False,
) -> Escalation | None:
    """Idempotent by `key`: raising the same problem twice records and sends it once. `urgent` messages go out
    in quiet hours too."""
    escalation = await repos.escalations.add(
        key, participant_id=participant_id, unit_id=unit_id, kind=kind, cadre_id=cadre_id, obligation_id=obligation_id
    )
    if escalation is None:
        return None
    await repos.audit.by_scheduler("escalation_raised", participant_id, {"kind": kind, "escalation": escalation.id})
    if cadre_id is not None and await _reachable_staff(repos, cadre_id):
        await repos.outbox.add(
            [
                NewMessage(
                    f"esc:{escalation.id}:cadre",
                    MessageKind.ESCALATION,
                    now,
                    staff_id=cadre_id,
                    payload={"escalation_id": escalation.id},
                    urgent=urgent,
                )
            ]
        )
    else:
        await notify_officers(repos, escalation, now, urgent=urgent)
    return escalation


async def _reachable_staff(repos: Repositories, staff_id: int) -> bool:
    """A cadre who is active and has a chat we can reach; otherwise the officers hear of it at once."""
    member = await repos.staff.get(staff_id)
    if member is None or not member.active:
        return False
    _, chats = await repos.planning.chats([], [staff_id])
    return staff_id in chats


async def tell_officers(
    repos: Repositories,
    unit_id: int,
    key: str,
    kind: MessageKind,
    now: datetime,
    payload: dict[str, object],
    urgent: bool = False,
) -> list[int]:
    """One message to each active officer of a commune (`key` + the officer's id keeps each once); their ids."""
    officers = await repos.escalations.officers_of(unit_id)
    await repos.outbox.add(
        [
            NewMessage(f"{key}:officer:{officer}", kind, now, staff_id=officer, payload=payload, urgent=urgent)
            for officer in officers
        ]
    )
    return officers


async def notify_officers(repos: Repositories, escalation: Escalation, now: datetime, urgent: bool = False) -> None:
    officers = await tell_officers(
        repos,
        escalation.unit_id,
        f"esc:{escalation.id}",
        MessageKind.ESCALATION,
        now,
        {"escalation_id": escalation.id, "to": "officer"},
        urgent,
    )
    await repos.escalations.mark_officer_notified(escalation.id)
    if not officers:
        await repos.audit.by_scheduler(
            "escalation_without_officer",
            escalation.participant_id,
            {"escalation": escalation.id, "unit": escalation.unit_id},
            "failed",
        )


async def raise_unreachable(
    repos: Repositories, participant_id: int, unit_id: int, cadre_id: int | None, now: datetime
) -> Escalation | None:
    """One open "cannot be reached" escalation per person at a time (the planner and the dispatcher both raise it);
    a new one only after the last was acknowledged or resolved."""
    if await repos.escalations.has_open(participant_id, EscalationKind.UNREACHABLE):
        return None
    episode = await repos.escalations.count_kind(participant_id, EscalationKind.UNREACHABLE)
    return await raise_escalation(
        repos,
        key=f"{EscalationKind.UNREACHABLE}:{participant_id}:{episode}",
        kind=EscalationKind.UNREACHABLE,
        participant_id=participant_id,
        unit_id=unit_id,
        cadre_id=cadre_id,
        now=now,
    )
