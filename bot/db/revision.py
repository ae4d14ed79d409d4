"""Whether the database is already at the newest migration, without loading Alembic's script directory.

Every command applies migrations first; loading Alembic and importing each migration script to learn that there is
nothing to do cost a third of a short command's start-up (a cron `tick` every minute). The head is read from the
scripts' text (`revision` and `down_revision` lines) and compared with `alembic_version`; anything unexpected
(a branch, an unreadable file, no table yet) answers "no", and the caller runs the real upgrade, which decides.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:["']([0-9a-zA-Z_]+)["']|None)""", re.MULTILINE)


@cache
def script_revisions(versions: Path = VERSIONS) -> frozenset[str]:
    """Every revision this build's scripts name."""
    found = (dict(_LINE.findall(script.read_text(encoding="utf-8"))) for script in versions.glob("*.py"))
    return frozenset(names["revision"] for names in found if names.get("revision"))


async def behind(connection: AsyncConnection) -> bool:
    """The schema is older than this build's newest migration (or there is none yet): this build cannot serve it.
    A revision this build does not know is a newer release's (a rolling deploy migrated first): not behind."""
    try:
        current = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception:  # no table yet: a new database
        return True
    head = script_head()
    if current == [head]:
        return False
    return not current or any(revision in script_revisions() for revision in current)


@cache
def script_head(versions: Path = VERSIONS) -> str | None:
    """The one revision no script names as its `down_revision`; None when that is not exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        found = dict((name, value) for name, value in _LINE.findall(script.read_text(encoding="utf-8")))
        if "revision" not in found or not found["revision"]:
            return None
        revisions.add(found["revision"])
        if found.get("down_revision"):
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def at_head(engine: AsyncEngine) -> bool:
    head = script_head()
    if head is None:
        return False
    try:
        async with engine.connect() as connection:
            current = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except Exception:  # no table yet (a new database), or anything else: the real upgrade decides
        return False
    return current == [head]
