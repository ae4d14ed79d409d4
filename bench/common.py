"""Shared by the scheduler benchmarks (`bench.planning`, `bench.dispatch`); not a benchmark itself.

Seeding goes around the services on purpose: enrolling 100,000 people through `Enrolment` would take longer than
what is measured. Rows are written with bulk Core inserts in chunks (so the seeding leaves little memory behind to
blur the planner's figures), with explicit ids (so identities can point at participants without a round trip per
row), and every name and chat id is sealed for its row with the application's own `Keyring` (a ciphertext opens only
in its own row): the planner and the dispatcher never decrypt more than a name and a chat id per message.
"""

from __future__ import annotations

import base64
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Table, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from bot.app import Application
from bot.config import Settings
from bot.db.crypto import row_ref
from bot.db.models import ChannelIdentityRow, ParticipantRow, StaffRow
from bot.domain.entities import RiskLevel, Role
from bot.domain.terms import add_months, expected_end

KEY = base64.urlsafe_b64encode(bytes(32)).decode()
CHUNK = 10_000
FIRST_PARTICIPANT_CHAT = 1_000_000_000  # Telegram chat id of participant 1 is this + 1
FIRST_STAFF_CHAT = 2_000_000_000
PEOPLE_PER_CADRE = 250
RISKS = (RiskLevel.LOW, RiskLevel.MEDIUM, RiskLevel.HIGH)
RISK_WEIGHTS = (0.5, 0.3, 0.2)
REMINDER_HOURS = (7, 8, 8, 8, 9, 12, 17, 19, 20)  # what people choose in Settings; 08:00 is the default


def settings_for(url: str, data_dir: Path, **extra: Any) -> Settings:
    return Settings(_env_file=None, database_url=url, data_dir=data_dir, encryption_key=KEY, **extra)  # type: ignore[call-arg,arg-type]


# ---- PostgreSQL scratch databases ----------------------------------------------------------------------------------


def _admin_dsn(url: str) -> tuple[str, str]:
    """(a DSN of the `postgres` maintenance database for asyncpg, the name of the database in `url`)."""
    parsed = make_url(url)
    if not parsed.database:
        raise ValueError(f"{url!r} names no database")
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database


async def _admin(url: str, *statements: str) -> None:
    dsn, _ = _admin_dsn(url)
    connection = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def recreate_postgres(url: str) -> None:
    """A clean database every run: the figures are for a known starting point, not for what a last run left."""
    _, name = _admin_dsn(url)
    await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


async def drop_postgres(url: str) -> None:
    _, name = _admin_dsn(url)
    await _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- seeding -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Population:
    unit_id: int
    first_participant: int  # ids first_participant .. last_participant, with identities of the same ids
    last_participant: int
    cadres: tuple[int, ...]
    officer: int | None


def participant_chat(participant_id: int) -> str:
    return str(FIRST_PARTICIPANT_CHAT + participant_id)


async def bulk_insert(connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        await connection.execute(insert(table), list(rows[start : start + CHUNK]))


async def _next_id(connection: AsyncConnection, table: Table) -> int:
    return int((await connection.execute(select(func.coalesce(func.max(table.c.id), 0)))).scalar_one()) + 1


async def sync_sequences(connection: AsyncConnection, tables: Sequence[str]) -> None:
    """Rows inserted with explicit ids do not move PostgreSQL's sequences: move them, so the bot's own inserts
    (conversation state, audit, outbox) never collide with ours."""
    if connection.dialect.name != "postgresql":
        return
    for name in tables:
        table = SQLModel.metadata.tables[name]
        highest = select(func.coalesce(func.max(table.c.id), 1)).scalar_subquery()
        await connection.execute(select(func.setval(func.pg_get_serial_sequence(name, "id"), highest)))


async def ensure_commune(app: Application) -> int:
    """Province and commune through the enrolment service (two rows; the real path costs nothing here)."""
    async with app.store.transaction() as repos:
        existing = await repos.units.by_code("C")
        if existing is not None:
            return existing.id
        service = app.enrolment(repos)
        await service.add_unit("P", "Tỉnh Thử", None)
        unit = await service.add_unit("C", "Xã Thử", "P")
        return unit.id


def term_running_at(rng: random.Random, today: date) -> tuple[date, int, date]:
    """(start, months, expected end) of a 12- or 24-month term that started in the last 12 or 24 months and is still
    running today: the steady state, in which the terms that ended were completed on earlier days."""
    months = rng.choice((12, 24))
    earliest = add_months(today, -months) + timedelta(days=1)
    start = earliest + timedelta(days=rng.randrange((today - earliest).days + 1))
    return start, months, expected_end(start, months)


def term_ended_yesterday(rng: random.Random, today: date) -> tuple[date, int, date]:
    months = rng.choice((12, 24))
    end = today - timedelta(days=1)
    return add_months(end, -months), months, end


async def seed_population(
    app: Application,
    participants: int,
    today: date,
    now: datetime,
    *,
    status: str = "active",
    ended_yesterday: int = 0,
    with_cadres: bool = True,
    seed: int = 20261123,
) -> Population:
    """`participants` people in commune "C", each with a Telegram chat; ids continue after any already there.

    Risk is mixed (half low, 30 % medium, 20 % high: periodic tests for medium and high, random draws for high), one
    in ten chose explicit wording, reminder hours vary. With `with_cadres`, one cadre per 250 people (each with a
    chat, so digests are planned) and one officer (so escalations have somewhere to go)."""
    rng = random.Random(seed)
    unit_id = await ensure_commune(app)
    keyring = app.store.keyring

    def name_enc(participant_id: int) -> str:  # sealed for each person's row
        return keyring.cipher.encrypt("Nguyễn Văn Thử", "participant.name", row_ref(id=participant_id))

    def chat(external_id: str, participant_id: int | None = None, staff_id: int | None = None) -> dict[str, str]:
        key, sealed = keyring.seal_chat("telegram", external_id, participant_id=participant_id, staff_id=staff_id)
        return {"chat_key": key, "external_id_enc": sealed}

    async with app.engine.begin() as connection:
        staff_table: Table = StaffRow.__table__  # type: ignore[attr-defined]
        person_table: Table = ParticipantRow.__table__  # type: ignore[attr-defined]
        identity_table: Table = ChannelIdentityRow.__table__  # type: ignore[attr-defined]
        cadres: list[int] = []
        officer: int | None = None
        identities: list[dict[str, Any]] = []
        next_identity = await _next_id(connection, identity_table)
        if with_cadres:
            first_staff = await _next_id(connection, staff_table)
            count = max(1, participants // PEOPLE_PER_CADRE)
            staff = [
                {"id": first_staff + i, "name": f"Cán bộ {i}", "role": Role.CADRE.value, "unit_id": unit_id,
                 "language": "vi", "active": True, "created_at": now}
                for i in range(count)
            ]  # fmt: skip
            officer = first_staff + count
            staff.append(
                {"id": officer, "name": "Công an xã", "role": Role.OFFICER.value, "unit_id": unit_id,
                 "language": "vi", "active": True, "created_at": now}
            )  # fmt: skip
            await bulk_insert(connection, staff_table, staff)
            cadres = [row["id"] for row in staff[:-1]]
            for row in staff:
                identities.append(
                    {"id": next_identity, "channel": "telegram", "staff_id": row["id"], "linked_at": now,
                     "unreachable": False, **chat(str(FIRST_STAFF_CHAT + row["id"]), staff_id=row["id"])}
                )  # fmt: skip
                next_identity += 1
            await bulk_insert(connection, identity_table, identities)
        first = await _next_id(connection, person_table)
        last = first + participants - 1
        for chunk_start in range(first, last + 1, CHUNK):
            people: list[dict[str, Any]] = []
            links: list[dict[str, Any]] = []
            for pid in range(chunk_start, min(last, chunk_start + CHUNK - 1) + 1):
                ended = pid - first < ended_yesterday
                start, months, end = (term_ended_yesterday if ended else term_running_at)(rng, today)
                # Put on the list in the week before the term started (obligations start from that day).
                listed = datetime.combine(start - timedelta(days=rng.randrange(8)), clock_time(2), tzinfo=UTC)
                people.append(
                    {"id": pid, "unit_id": unit_id, "name_enc": name_enc(pid), "term_start": start,
                     "term_months": months, "expected_end": end,
                     "risk_level": rng.choices(RISKS, RISK_WEIGHTS)[0].value, "status": status,
                     "cadre_id": cadres[(pid - first) % len(cadres)] if cadres else None, "language": "vi",
                     "wording": "explicit" if rng.random() < 0.1 else "neutral",
                     "reminder_hour": rng.choice(REMINDER_HOURS), "created_at": min(listed, now), "updated_at": now}
                )  # fmt: skip
                links.append(
                    {"id": next_identity, "channel": "telegram", **chat(participant_chat(pid), participant_id=pid),
                     "participant_id": pid, "linked_at": now, "unreachable": False}
                )  # fmt: skip
                next_identity += 1
            await connection.execute(insert(person_table), people)
            await connection.execute(insert(identity_table), links)
        await sync_sequences(connection, ("staff_member", "participant", "channel_identity"))
    return Population(unit_id, first, last, tuple(cadres), officer)


async def count_rows(app: Application, tables: Sequence[str]) -> dict[str, int]:
    async with app.engine.connect() as connection:
        counts = {}
        for name in tables:
            stmt = select(func.count()).select_from(SQLModel.metadata.tables[name])
            counts[name] = int((await connection.execute(stmt)).scalar_one())
        return counts


async def analyze(app: Application) -> None:
    """Fresh statistics after a bulk load, as autovacuum (PostgreSQL) would have gathered them by the next run;
    without them the first plans are made for empty tables."""
    async with app.engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


# ---- memory --------------------------------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class RssWindow:
    """Resident memory of this process during one phase: where it started and its peak.

    The peak is the kernel's high-water mark (VmHWM) after resetting it at the start of the phase (writing 5 to
    /proc/self/clear_refs, Linux ≥ 4.0), so whatever the seeding once used does not count; a 10 ms sampler runs as
    well, as a cross-check and as the fallback where the reset is not allowed."""

    start_mb: float = 0.0
    peak_mb: float = 0.0
    sampled_peak_mb: float = 0.0
    method: str = ""


_earlier_peaks_kb: list[int] = []


def lifetime_peak_mb() -> float:
    """The process's peak RSS since it started, across the resets `rss_window` makes (getrusage's ru_maxrss is reset
    with them, so it cannot tell)."""
    return max([*_earlier_peaks_kb, _status_kb("VmHWM")]) / 1024


@contextmanager
def rss_window() -> Iterator[RssWindow]:
    window = RssWindow(start_mb=_status_kb("VmRSS") / 1024)
    _earlier_peaks_kb.append(_status_kb("VmHWM"))
    try:
        Path("/proc/self/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    stop = threading.Event()
    sampled = [window.start_mb]

    def sample() -> None:
        while not stop.wait(0.01):
            sampled.append(_status_kb("VmRSS") / 1024)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield window
    finally:
        stop.set()
        sampler.join()
        window.sampled_peak_mb = max(sampled)
        if reset:
            window.peak_mb, window.method = _status_kb("VmHWM") / 1024, "VmHWM reset at phase start"
        else:
            window.peak_mb, window.method = window.sampled_peak_mb, "VmRSS sampled every 10 ms"


class StatementTimer:
    """Time spent in SQL statements (cursor execute, including the wait for the server), by statement shape, so a
    phase's wall time splits into database and Python; statements are grouped by their first 100 characters with the
    parameter lists folded. With concurrent transactions the times overlap: then only the counts add up."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine.sync_engine
        self.by_shape: dict[str, list[float]] = {}
        self._started: dict[int, float] = {}

    def _before(self, conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
        self._started[id(conn)] = time.perf_counter()

    def _after(self, conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        took = time.perf_counter() - self._started.pop(id(conn), time.perf_counter())
        shape = _FOLD.sub("(…)", " ".join(statement.split()))[:100]
        entry = self.by_shape.setdefault(shape, [0.0, 0.0])
        entry[0] += 1
        entry[1] += took

    def __enter__(self) -> StatementTimer:
        event.listen(self._engine, "before_cursor_execute", self._before)
        event.listen(self._engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._before)
        event.remove(self._engine, "after_cursor_execute", self._after)

    @property
    def seconds(self) -> float:
        return sum(took for _, took in self.by_shape.values())

    @property
    def statements(self) -> int:
        return int(sum(n for n, _ in self.by_shape.values()))

    def top(self, n: int) -> list[tuple[str, int, float]]:
        ranked = sorted(self.by_shape.items(), key=lambda item: -item[1][1])[:n]
        return [(shape, int(count), took) for shape, (count, took) in ranked]


_FOLD = re.compile(r"\((?:\s*(?:\?|\$\d+(?:::\w+)?)\s*,?)+\)")


def ok(met: bool) -> str:
    return "met" if met else "NOT met"
