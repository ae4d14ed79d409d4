"""What the end-to-end transcripts check in the records, read through the repositories the application itself uses
(never SQL): the audit trail, and the conversation state a chat is in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.app import Application
from bot.db.models import AuditEventRow, ConversationStateRow

ALL = 1_000_000  # more audit entries than any test writes
SINCE_EVER = datetime(2000, 1, 1, tzinfo=UTC)


async def audit_trail(app: Application, action: str | None = None, **where: Any) -> list[AuditEventRow]:
    """Audit entries, oldest first: of one action, with these fields equal (outcome=…, subject_id=…, …)."""
    async with app.store.transaction() as repos:
        entries = list(reversed(await repos.audit.recent(limit=ALL)))
    return [
        entry
        for entry in entries
        if (action is None or entry.action == action) and all(getattr(entry, k) == v for k, v in where.items())
    ]


async def audited(app: Application, action: str, **where: Any) -> int:
    """How many audit entries of this action (with these fields) there are."""
    return len(await audit_trail(app, action, **where))


async def chat_state(app: Application, channel: str, external_id: str) -> ConversationStateRow | None:
    """The stored conversation state of a linked chat (its data and labels as stored, i.e. sealed); None when the
    chat is not linked or has none."""
    async with app.store.transaction() as repos:
        chat = await repos.identities.find_for_message(channel, external_id)
    return chat.state if chat is not None else None


async def updates_of(app: Application, channel: str, external_id: str) -> int:
    """How many platform updates of one chat were recorded as handled (the per-chat count the inbound limit uses)."""
    async with app.store.transaction() as repos:
        return await repos.inbound.count_since(app.store.keyring.chat_key(channel, external_id), SINCE_EVER)
