"""Raising an escalation: the record, and the message to whoever must act (the cadre, else the officer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.db.repositories.escalations import Escalation
from bot.db.repositories.fieldwork import TestResult
from bot.db.repositories.outbox import NewMessage
from bot.db.store import Repositories
from bot.domain.escalations import EscalationKind
from bot.domain.planning import MessageKind


async def result_of(repos: Repositories, escalation: Escalation) -> TestResult | None:
    """The result a test-result escalation is about: the latest one recorded for its test, or the one its key names."""
    if escalation.kind != EscalationKind.TEST_RESULT:
        return None
    if escalation.obligation_id is not None:
        return await repos.fieldwork.latest_result_for(escalation.obligation_id)
    _, _, raw = escalation.key.partition(":")
    return await repos.fieldwork.test_result(int(raw)) if raw.isdigit() else None


class Why(StrEnum):
    """Who an escalation's first message went to and, for the officers, why it reached them: decided when the message
    is queued and carried in its payload (the text says what happened, not what usually happens)."""

    CADRE = "cadre"  # the cadre was alerted (they can be reached)
    NONE = ""  # nothing was sent (raised already), or a value this version does not know: nothing is claimed
    NO_CADRE = "no_cadre"  # nobody is assigned: straight to the officers
    CADRE_UNREACHABLE = "cadre_unreachable"  # the cadre is inactive or has no chat the bot can reach: straight to them
    NOT_ACKNOWLEDGED = "not_acknowledged"  # the cadre was alerted and did not acknowledge in time
    CADRE_CLOSED = "cadre_closed"  # the cadre's account was closed before they acknowledged it: to them at once

    @classmethod
    def not_acknowledged(cls, cadre_id: int | None) -> Why:
        """Why an alert reached the officers after the wait (and what rows queued before reasons were recorded
        mean): nobody was assigned, or the cadre did not acknowledge it."""
        return cls.NO_CADRE if cadre_id is None else cls.NOT_ACKNOWLEDGED

    @classmethod
    def parse(cls, value: object) -> Why | None:
        """A payload's value, leniently (rows queued by another version): None when it is not one of these."""
        try:
            return cls(value) if isinstance(value, str) else None
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class Told:
    """Who an escalation's first message actually went to: the cadre, or (when they could not be reached) the
    officers with a chat the bot can reach. Kept in the payload of alerts that report it (by id, never by name)."""

    cadre_id: int | None = None
    officers: tuple[int, ...] = ()
    why: Why = Why.NO_CADRE

    def payload(self) -> dict[str, object]:
        return {"cadre": self.cadre_id, "officers": list(self.officers), "why": self.why.value}

    @classmethod
    def from_payload(cls, value: object) -> Told | None:
        if not isinstance(value, dict):
            return None
        cadre, officers = value.get("cadre"), value.get("officers") or []
        return cls(
            cadre if isinstance(cadre, int) else None,
            tuple(o for o in officers if isinstance(o, int)),
            Why.parse(value.get("why", Why.NO_CADRE)) or Why.NONE,
        )


async def raise_and_tell(
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
) -> tuple[Escalation | None, Told]:
    """Idempotent by `key`: raising the same problem twice records and sends it once (the second time: None, told
    nobody). `urgent` messages go out in quiet hours too. Returns the escalation and who its message went to."""
    escalation = await repos.escalations.add(
        key, participant_id=participant_id, unit_id=unit_id, kind=kind, cadre_id=cadre_id, obligation_id=obligation_id
    )
    if escalation is None:
        return None, Told(why=Why.NONE)
    await repos.audit.by_scheduler("escalation_raised", participant_id, {"kind": kind, "escalation": escalation.id})
    if cadre_id is not None and await reachable(repos, [cadre_id]):
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
        return escalation, Told(cadre_id=cadre_id, why=Why.CADRE)
    why = Why.NO_CADRE if cadre_id is None else Why.CADRE_UNREACHABLE
    officers = await notify_officers(repos, escalation, now, urgent=urgent, why=why)
    if cadre_id is not None and await repos.staff.active_among([cadre_id]):
        # Kept for the cadre until they link a chat (the dispatcher holds it): read then, if still open. Not "told".
        message = NewMessage(f"esc:{escalation.id}:cadre", MessageKind.ESCALATION, now, staff_id=cadre_id,
                             payload={"escalation_id": escalation.id}, urgent=urgent)  # fmt: skip
        await repos.outbox.add([message])
    return escalation, Told(officers=tuple(officers), why=why)


async def reachable(repos: Repositories, staff_ids: list[int]) -> list[int]:
    """Those of these staff who are active and have a chat the bot can reach (not marked unreachable): the only
    ones a message can be said to have gone to."""
    if not staff_ids:
        return []
    _, chats = await repos.planning.chats([], staff_ids)
    active = await repos.staff.active_among([staff_id for staff_id in staff_ids if staff_id in chats])
    return [staff_id for staff_id in staff_ids if staff_id in active]


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


async def notify_officers(
    repos: Repositories, escalation: Escalation, now: datetime, urgent: bool = False, why: Why | None = None
) -> list[int]:
    """The officers hear of an escalation; `why` (default: no cadre, else the cadre did not acknowledge it) goes in
    the payload, so the text says what happened. Returns the officers a message can reach."""
    if why is None:
        why = Why.not_acknowledged(escalation.cadre_id)
    officers = await tell_officers(
        repos,
        escalation.unit_id,
        f"esc:{escalation.id}",
        MessageKind.ESCALATION,
        now,
        {"escalation_id": escalation.id, "to": "officer", "why": why.value},
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
    return await reachable(repos, officers)


async def cadre_cannot_act(repos: Repositories, escalation_id: int, now: datetime, why: Why | None = None) -> bool:
    """The cadre an escalation waits on can no longer act on it (their account was closed, or their alert found no
    chat when it was to go out): the officers hear of it now instead of after the "not acknowledged" wait, unless it
    was acknowledged or they have heard already. `why` defaults to what the cadre's account says. True when the
    officers were told."""
    escalation = await repos.escalations.get(escalation_id)
    if escalation is None or escalation.acknowledged_at is not None or escalation.officer_notified_at is not None:
        return False
    if why is None:
        cadre = await repos.staff.get(escalation.cadre_id) if escalation.cadre_id is not None else None
        why = Why.CADRE_UNREACHABLE if cadre is not None and cadre.active else Why.CADRE_CLOSED
    await notify_officers(repos, escalation, now, urgent=escalation.kind == EscalationKind.CRISIS, why=why)
    return True


async def raise_unreachable(
    repos: Repositories, participant_id: int, unit_id: int, cadre_id: int | None, now: datetime
) -> Escalation | None:
    """One open "cannot be reached" escalation per person at a time (the planner and the dispatcher both raise it);
    a new one only after the last was acknowledged or resolved."""
    if await repos.escalations.has_open(participant_id, EscalationKind.UNREACHABLE):
        return None
    episode = await repos.escalations.count_kind(participant_id, EscalationKind.UNREACHABLE)
    escalation, _ = await raise_and_tell(
        repos,
        key=f"{EscalationKind.UNREACHABLE}:{participant_id}:{episode}",
        kind=EscalationKind.UNREACHABLE,
        participant_id=participant_id,
        unit_id=unit_id,
        cadre_id=cadre_id,
        now=now,
    )
    return escalation


async def note_crisis_answer(repos: Repositories, participant_id: int, now: datetime) -> None:
    """Called right after staff answered the person (took or first answered an urgent referral, acknowledged a
    crisis alert), in the same transaction: when that is the first human answer to their latest crisis episode, the
    time since it was raised goes to the operator's metrics once the transaction commits. "Answer" as the reports
    count it. Two answers committed at the same instant may both count (rare; a histogram, not a record)."""
    episode = await repos.escalations.latest(participant_id, EscalationKind.CRISIS)
    if episode is None:
        return
    answers = await repos.referrals.staff_answers_since(participant_id, episode.raised_at)
    if episode.acknowledged_at is not None and episode.acknowledged_at >= episode.raised_at:
        answers += 1
    if answers == 1:  # this one
        seconds = (now - episode.raised_at).total_seconds()
        repos.observe(lambda telemetry: telemetry.crisis_answered(seconds))
