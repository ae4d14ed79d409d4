"""Whether the bot can reach a chat: the one write behind a platform's "blocked" or "unblocked", an undeliverable
message and a person writing again, so the flag, its audit entry and the escalation always change together."""

from __future__ import annotations

from typing import Literal

from bot.db.store import Repositories
from bot.domain.entities import Identity
from bot.domain.escalations import EscalationKind

ActorType = Literal["channel", "scheduler"]


async def mark(
    repos: Repositories, channel: str, external_id: str, *, reachable: bool, actor_type: ActorType = "channel"
) -> Identity | None:
    """Mark the chat (un)reachable and audit it; None, and nothing written, when no linked chat has this id.

    Reachable again (the person wrote or unblocked the bot): their open "unreachable" escalation is resolved, one chat
    the bot can reach is enough. Unreachable: nothing is raised here; a person with no reachable chat left is
    escalated by the dispatcher or the planner (`escalations.raise_unreachable`)."""
    identity = await repos.identities.mark_unreachable(channel, external_id, not reachable)
    if identity is None:
        return None
    await repos.audit.reachability(identity, channel, reachable, actor_type=actor_type)
    if reachable and identity.participant_id is not None:
        await repos.escalations.resolve(participant_id=identity.participant_id, kind=EscalationKind.UNREACHABLE)
    return identity
