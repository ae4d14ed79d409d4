"""What the outbox's tests share: a commune, many people each with one due message, row counts, and a wait for a
real subprocess to get somewhere."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from sqlalchemy import bindparam, func, insert, select, update

from bot.app import Application
from bot.db.crypto import row_ref
from bot.db.models import ChannelIdentityRow, OutboxRow, ParticipantRow
from tests.support.factories import add_hanoi

TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api"


async def commune(app: Application) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)


async def count_rows(app: Application, table: type, *where: object) -> int:
    async with app.store.transaction() as repos:
        stmt = select(func.count()).select_from(table)
        for condition in where:
            stmt = stmt.where(condition)  # type: ignore[arg-type]
        return int((await repos.session.execute(stmt)).scalar_one())


async def seed_due_messages(app: Application, count: int, channel: str, now: datetime) -> None:
    """`count` participants, each with one linked chat and one due message (their final message)."""
    keyring = app.store.keyring
    async with app.store.transaction() as repos:
        unit = await repos.units.by_code("HD")
        assert unit is not None
        people = [
            {
                "unit_id": unit.id,
                "name_enc": "",
                "term_start": date(2024, 1, 1),
                "term_months": 24,
                "expected_end": date(2026, 1, 1),
                "risk_level": "low",
                "status": "completed",
                "language": "vi",
                "wording": "neutral",
                "reminder_hour": 8,
                "completed_on": date(2026, 1, 1),
                "created_at": now,
                "updated_at": now,
            }
            for _ in range(count)
        ]
        await repos.session.execute(insert(ParticipantRow), people)
        ids = (await repos.session.execute(select(ParticipantRow.id).order_by(ParticipantRow.id))).scalars().all()
        seal = keyring.cipher.encrypt
        names = [{"pid": pid, "name": seal("Người thử", "participant.name", row_ref(id=pid))} for pid in ids]
        table = ParticipantRow.__table__  # type: ignore[attr-defined]
        sealing = update(table).where(table.c.id == bindparam("pid")).values(name_enc=bindparam("name"))
        await repos.session.execute(sealing, names)  # each name sealed for its person's row
        chats = {pid: keyring.seal_chat(channel, str(1000 + pid), participant_id=pid, staff_id=None) for pid in ids}
        await repos.session.execute(
            insert(ChannelIdentityRow),
            [
                {
                    "channel": channel,
                    "chat_key": chats[pid][0],
                    "external_id_enc": chats[pid][1],
                    "participant_id": pid,
                    "linked_at": now,
                    "unreachable": False,
                }
                for pid in ids
            ],
        )
        row = {"kind": "completion", "payload": {}, "urgent": False, "due_at": now, "next_attempt_at": now}
        row |= {"status": "pending", "attempts": 0, "created_at": now}
        await repos.session.execute(
            insert(OutboxRow), [{**row, "key": f"completion:{pid}", "participant_id": pid} for pid in ids]
        )


async def until(condition: Callable[[], object | Awaitable[object]], within: float = 60.0) -> None:
    """Waits for a real subprocess to get somewhere (not for a schedule: the clock is the process's own); the
    condition may be a coroutine function (a database read)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        met = condition()
        if await met if inspect.isawaitable(met) else met:
            return
        await asyncio.sleep(0.01)
