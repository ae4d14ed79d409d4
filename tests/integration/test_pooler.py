"""AFTERCARE_DATABASE_POOLER=pgbouncer: the engine's statements on PostgreSQL itself, then the whole bot through
Debian's PgBouncer in transaction mode (`aftercare run --workers 2`, few server connections, the scheduler's locks
on the direct URL): every due message sent once, a person's message answered, no prepared-statement error."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import Application
from bot.db.engine import make_engine, make_probe_engine
from bot.db.models import OutboxRow
from tests.e2e.helpers import telegram_text
from tests.fakes.telegram_api import FakeTelegram, running_in_thread
from tests.support.cli import cli_env
from tests.support.outbox import TOKEN, commune, count_rows, seed_due_messages, until
from tests.support.processes import bot_process, free_port, healthy

CHECKOUT = str(Path(__file__).resolve().parents[2])
PGBOUNCER = "/usr/sbin/pgbouncer"  # Debian's package (.ci/run installs it)


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


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def pgbouncer(database_url: str) -> Iterator[str]:
    """A PgBouncer in transaction mode with two server connections in front of this test's database; its URL."""
    if database_url.startswith("sqlite"):
        pytest.skip("PgBouncer fronts PostgreSQL")
    if not Path(PGBOUNCER).exists():
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is not installed (.ci/run installs Debian's package)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    server = make_url(database_url)
    port = free_port()
    # PgBouncer will not run as root: as `nobody`, which must read its files (pytest's own directory is private).
    directory = Path(tempfile.mkdtemp(prefix="aftercare-pgbouncer-"))
    directory.chmod(0o755)
    users = directory / "users.txt"
    users.write_text(f'"{server.username}" ""\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"[databases]\n{server.database} = host={server.host} port={server.port or 5432} dbname={server.database}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "pool_mode = transaction\ndefault_pool_size = 2\nreserve_pool_size = 0\nmax_client_conn = 200\n"
        f"auth_type = trust\nauth_file = {users}\n"
        "server_reset_query = DISCARD ALL\nserver_reset_query_always = 1\n"
        "log_connections = 0\nlog_disconnections = 0\nstats_period = 60\n"
    )
    for path in (users, config):
        path.chmod(0o644)
    command = [PGBOUNCER, str(config)] + (["-u", "nobody"] if os.geteuid() == 0 else [])
    log = directory / "pgbouncer.log"
    with log.open("wb") as output:  # a file, not a pipe nobody reads while it runs (a full pipe would stall it)
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not _accepts(port) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _accepts(port), f"pgbouncer did not start: {process.poll()}"
        yield server.set(port=port).render_as_string(hide_password=False)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        said = log.read_text(errors="replace")
        shutil.rmtree(directory, ignore_errors=True)
    assert "prepared statement" not in said, said[-2000:]


@pytest.mark.slow
async def test_the_bot_through_pgbouncer_sends_each_message_once_and_answers(
    app: Application, database_url: str, pgbouncer: str, tmp_path: Path
) -> None:
    await commune(app)
    messages = 150
    await seed_due_messages(app, messages, "telegram", datetime.now(UTC) - timedelta(minutes=1))
    settings = {
        "database_url": pgbouncer,
        "database_pooler": "pgbouncer",
        "direct_database_url": database_url,  # the scheduler's advisory locks and LISTEN
        "telegram_token": TOKEN,
        "scheduler_enabled": "true",
        "quiet_hours": "off",
        "dispatch_interval_seconds": "1",
    }
    env = {**cli_env(database_url, tmp_path / "data"), "PYTHONPATH": CHECKOUT}

    async def all_sent() -> bool:
        return await count_rows(app, OutboxRow, OutboxRow.status == "sent") == messages

    with running_in_thread(lambda: FakeTelegram(token=TOKEN)) as fake:
        fake.updates.append(telegram_text(77, "xin chào", 1))
        with bot_process(env, tmp_path, ("--workers", "2"), telegram_api_url=fake.base_url, **settings) as bot:
            await until(lambda: healthy(bot.port), within=90)
            await until(lambda: len({c.params["chat_id"] for c in fake.sent()}) > messages, within=120)
            await until(all_sent, within=60)
            assert healthy(bot.port)  # /healthz asks the database through PgBouncer too
        delivered = Counter(str(call.params["chat_id"]) for call in fake.sent())
    assert bot.process.returncode == 0, bot.output[-3000:]
    assert delivered.pop("77") == 1  # the person who wrote was answered, once
    assert len(delivered) == messages and set(delivered.values()) == {1}
    assert await all_sent()
    for failure in ("prepared statement", "Traceback", "DuplicatePreparedStatement", "InvalidSQLStatementName"):
        assert failure not in bot.output, bot.output[-3000:]
