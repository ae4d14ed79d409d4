"""A counsellor taking and closing a referral: what the chat's desk (bot/flows/counsellor) and the console's
(bot/web/console/desk.py) both do, in one place, so the two views change the same rows the same way and the person
hears the same thing whichever one the counsellor used.

The caller has read the referral now and checked that it is their point's and that its person is in their reach
(HANDLE_REFERRAL, asked with the record as stored); it audits what was done, in its own channel's terms.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from bot.db.repositories.outbox import NewMessage
from bot.db.repositories.referrals import Referral
from bot.db.store import Repositories
from bot.domain.planning import MessageKind
from bot.services.escalations import note_crisis_answer
from bot.services.relay import ended

NOTE_LIMIT = 2000  # characters of one private note (the chat keeps the first 2,000; the console refuses more)


class Took(StrEnum):
    """What taking a referral did."""

    ALREADY = "already"  # another counsellor was first: nothing changed
    CONVERSATION = "conversation"  # a counselling request: the conversation through the bot is open now
    REQUEST = "request"  # another kind of help: the person hears that a counsellor took it


async def take(repos: Repositories, referral: Referral, counsellor_id: int, now: datetime) -> Took:
    """One counsellor takes it (a guarded UPDATE: of two at once, one wins); the person is told; a counselling
    request becomes a conversation through the bot at once (a crisis referral included: the counsellor can reach the
    person there)."""
    if not await repos.referrals.accept(referral.id, counsellor_id):
        return Took.ALREADY
    if referral.urgency == "urgent":  # a crisis's referral: perhaps its first human answer (metrics)
        await note_crisis_answer(repos, referral.participant_id, now)
    await repos.outbox.add(
        [
            NewMessage(
                f"referral_accepted:{referral.id}:{counsellor_id}",  # taken again after a move: told again
                MessageKind.REFERRAL_ACCEPTED,
                now,
                participant_id=referral.participant_id,
                payload={"referral_id": referral.id},
                urgent=referral.urgency == "urgent",
            )
        ]
    )
    if referral.kind == "counselling" and referral.relay_ended_at is None:
        await repos.referrals.start_relay(referral.id, "staff", counsellor_id)
        return Took.CONVERSATION
    return Took.REQUEST


async def close(repos: Repositories, referral: Referral, counsellor_id: int, outcome: str, now: datetime) -> bool:
    """Closed with its outcome by the counsellor who took it (False: they did not, or it is closed already); a
    conversation still open ends with it, and the person hears so."""
    if not await repos.referrals.close(referral.id, counsellor_id, outcome):
        return False
    if referral.relaying:
        await ended(repos, referral, "counsellor", now)
    return True
