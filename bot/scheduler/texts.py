"""What an outbox row says, rendered when it is sent: the recipient is loaded (a participant, or a staff member whose
account is still active), a translator is picked for them, and the flow that owns the row's kind words it
(`bot/flows/<flow>/pushed.py`, found through the flow registry). Nothing here knows a kind or a button.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo

from bot.core.i18n import Audience, Catalogs
from bot.core.messages import OutboundMessage
from bot.db.repositories.outbox import Claimed
from bot.db.store import Repositories
from bot.domain.entities import Participant, StaffMember
from bot.flows.pushing import Links, Push, Sent, Skip
from bot.flows.registry import Registry, build_registry

__all__ = ["Renderer", "Skip"]


class Renderer:
    def __init__(
        self, catalogs: Catalogs, tz: tzinfo, flows: Registry | None = None, links: Links | None = None
    ) -> None:
        """`flows`: the composition root's registry (one is built when none is given); `links`: where one-time
        download links point (None: nowhere, a renderer says so)."""
        self._catalogs = catalogs
        self._tz = tz
        self._flows = flows or build_registry()
        self._links = links

    async def render(
        self, repos: Repositories, item: Claimed, now: datetime, channel: str | None = None
    ) -> OutboundMessage | Skip:
        recipient = await _recipient(repos, item)
        if isinstance(recipient, Skip):
            return recipient
        render = self._flows.renderer(item.kind)
        if render is None:
            return Skip("unknown_kind")
        audience = Audience.STAFF if isinstance(recipient, StaffMember) else Audience.PARTICIPANT
        t = self._catalogs.translator(recipient.language, audience=audience)
        result = await render(Push(repos, t, item, now, self._tz, recipient, channel, self._links))
        return result if isinstance(result, Skip) else replace(result, language=t.language)

    def records_when_sent(self, item: Claimed) -> bool:
        """Whether this row's flow records anything once it is sent (most record nothing: no transaction then)."""
        return self._flows.after_sent(item.kind) is not None

    async def sent(self, repos: Repositories, item: Claimed, channel: str, now: datetime) -> None:
        """The platform accepted this row's message: what its flow records only then (in the closing transaction)."""
        hook = self._flows.after_sent(item.kind)
        if hook is not None:
            await hook(Sent(repos, item, channel, now))


async def _recipient(repos: Repositories, item: Claimed) -> Participant | StaffMember | Skip:
    if item.participant_id is not None:
        person = await repos.participants.get(item.participant_id)
        return Skip("no_person") if person is None else person
    if item.staff_id is not None:
        member = await repos.staff.get(item.staff_id)
        return Skip("no_staff") if member is None or not member.active else member
    return Skip("no_recipient")
