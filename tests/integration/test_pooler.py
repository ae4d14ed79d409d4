"""The engine for PgBouncer in transaction mode (AFTERCARE_DATABASE_POOLER=pgbouncer) works on PostgreSQL itself:
no statement cache, unique statement names, no startup setting PgBouncer would refuse."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.db.engine import make_engine, make_probe_engine


async def test_the_pgbouncer_engine_runs_statements_without_caching_them(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PgBouncer fronts PostgreSQL")
    engine = make_engine(database_url, pooler="pgbouncer")
    probe = make_probe_engine(database_url, pooler="pgbouncer")
    assert probe is not None
    try:
        for n in range(5):  # the same statement, in transactions of their own
            async with engine.begin() as connection:
                assert (await connection.execute(text("SELECT :n + 1"), {"n": n})).scalar_one() == n + 1
        async with engine.connect() as connection:
            # No startup parameter sent (PgBouncer 1.18 refuses unknown ones): the server default plan cache mode.
            assert (await connection.execute(text("SHOW plan_cache_mode"))).scalar_one() == "auto"
        async with probe.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()
        await probe.dispose()
