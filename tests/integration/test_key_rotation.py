"""Key rotation for real: `aftercare keys rotate` is killed (SIGKILL) in the middle, run again, and finishes; every
sealed value then opens with the new key alone, nothing is left under the old key or written under a third, the
same values are there, and what people hold from before the rotation (a chat already linked, an invite code, a
button) still works. A wrong key is refused at start-up with a clear message, by the CLI and by `run`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application, build_application
from bot.config import Settings
from bot.db.crypto import Keyring, key_id
from bot.db.engine import make_engine
from bot.db.store import Store
from bot.services import audit_chain
from tests.support.cli import call, cli_env, ok_json
from tests.support.config import TEST_KEY, TEST_KEY_BYTES
from tests.support.exercised import EngineChat, exercise, opened_values, texts
from tests.support.processes import bot_process, until
from tests.support.records import audited

ROOT = Path(__file__).resolve().parents[2]
NEW_KEY_BYTES = bytes(range(32, 64))
NEW_KEY = base64.urlsafe_b64encode(NEW_KEY_BYTES).decode()
WRONG_KEY = base64.urlsafe_b64encode(bytes(range(64, 96))).decode()
OLD_ID, NEW_ID = key_id(TEST_KEY_BYTES), key_id(NEW_KEY_BYTES)
TALK = "Nói chuyện với tư vấn viên"

# The real CLI in a child process, paused (for ever) once three batches have committed ("columns") or once the first
# batch of audit entries has ("audit"), so the test kills it at a known point of its work; everything else is the
# command as an operator runs it.
PAUSED_ROTATE = """
import pathlib, sys, time
import bot.services.keys as keys
real = keys.rotate
async def paused(store, **options):
    def after(report):
        if report.audit_entries if sys.argv[2] == "audit" else report.batches >= 3:
            pathlib.Path(sys.argv[1]).write_text(str(report.batches))
            time.sleep(600)
    return await real(store, after_batch=after, **options)
keys.rotate = paused
from bot.cli import cli
cli(["keys", "rotate", "--batch", "2", "--json"], prog_name="aftercare")
"""


def _settings(database_url: str, data: Path, key: str, previous: str | None = None) -> Settings:
    values: dict[str, Any] = {"previous_encryption_keys": previous} if previous else {}
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=data,
        encryption_key=key,  # type: ignore[arg-type]
        environment="development",
        **values,
    )


async def _prepared(settings: Settings) -> tuple[dict[str, int], str, str]:
    """The exercised database under the old key, its audit log chained; (values per column, the reference of a
    button An was offered, an unused invite code)."""
    app = build_application(settings)
    try:
        await app.migrate()
        done = await exercise(app)
        await audit_chain.seal(app.store)
        return await opened_values(app.store), done.an.ref(TALK), done.unused_code
    finally:
        await app.aclose()


def _rotate_until_paused(env: dict[str, str], tmp_path: Path, where: str) -> None:
    marker = tmp_path / f"paused-{where}"
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSED_ROTATE, str(marker), where],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        until(lambda: marker.exists() or child.poll() is not None, within=120)
        assert marker.exists(), child.communicate()[1].decode()[-2000:]
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL


async def _after_rotation(settings: Settings, ref: str, code: str) -> dict[str, Any]:
    """New key writing, old key still configured: An's chat is found, her old button works, the unused code links."""
    app = build_application(settings)
    try:
        await app.migrate()
        an = EngineChat(app, "7001")
        stale = await audited(app, "stale_button")
        pressed = await an.press_ref(ref)
        menu = await an.say("/menu")
        bich = await EngineChat(app, "7009").say(code)
        return {
            "stale": await audited(app, "stale_button") - stale,
            "pressed": texts(pressed),
            "menu": [b.label for r in menu for b in r.buttons],
            "bich": [b.label for r in bich for b in r.buttons],
        }
    finally:
        await app.aclose()


async def _reissue(settings: Settings, invites: list[dict[str, int | None]]) -> None:
    app = build_application(settings)
    try:
        async with app.store.transaction() as repos:
            service = app.enrolment(repos)
            for invite in invites:
                if invite["participant_id"] is not None:
                    await service.issue_participant_invite(invite["participant_id"])
                else:
                    assert invite["staff_id"] is not None
                    await service.issue_staff_invite(invite["staff_id"])
    finally:
        await app.aclose()


async def _with_new_key_alone(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        return await opened_values(Store(engine, Keyring(NEW_KEY_BYTES), build_clock()))
    finally:
        await engine.dispose()


def build_clock() -> Any:
    from bot.core.clock import SystemClock

    return SystemClock()


@pytest.mark.slow
def test_a_rotation_killed_in_the_middle_finishes_and_everything_reads_with_the_new_key(
    database_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    before, ref, code = asyncio.run(_prepared(_settings(database_url, data, TEST_KEY)))
    env = cli_env(database_url, data) | {
        "AFTERCARE_ENCRYPTION_KEY": NEW_KEY,
        "AFTERCARE_PREVIOUS_ENCRYPTION_KEYS": TEST_KEY,
    }

    _rotate_until_paused(env, tmp_path, "columns")
    half = ok_json(env, "keys", "status")
    assert half["remaining"] > 0 and half["done"] is False
    under = {kid for counts in half["columns"].values() for kid in counts}
    assert NEW_ID in under and under & {OLD_ID, "v2"}, under  # some values moved, some not yet
    assert under <= {NEW_ID, OLD_ID, "v2"}

    _rotate_until_paused(env, tmp_path, "audit")  # resumed, then killed again half-way through the audit log
    half = ok_json(env, "keys", "status")
    assert {kid for counts in half["columns"].values() for kid in counts} == {NEW_ID}
    assert 0 < half["audit_remaining"] == half["remaining"] and half["done"] is False

    rotated = ok_json(env, "keys", "rotate", "--batch", "2")
    assert rotated["done"] is True and rotated["remaining"] == 0
    status = ok_json(env, "keys", "status")
    assert status["done"] is True and status["remaining"] == 0 and status["audit_remaining"] == 0
    assert {kid for counts in status["columns"].values() for kid in counts} == {NEW_ID}
    assert {c: sum(n.values()) for c, n in status["columns"].items() if n} == before  # nothing lost or doubled
    assert status["writing_key"] == NEW_ID and status["configured_keys"] == [NEW_ID, OLD_ID]
    assert status["invites_to_reissue"]  # codes issued under the old key, still live
    assert OLD_ID not in status["retirable"]

    seen = asyncio.run(_after_rotation(_settings(database_url, data, NEW_KEY, TEST_KEY), ref, code))
    assert seen["stale"] == 0 and seen["pressed"]  # the button offered before the rotation was understood
    assert "Điểm danh tháng này" in seen["menu"]  # An's chat, linked before, is found
    assert "Tôi đồng ý" in seen["bich"]  # the old code linked a new chat: asked for consent

    refused = call(env, "keys", "retire", "--key-id", OLD_ID, "--json")
    assert refused.exit_code == 1 and "invite codes" in json.loads(refused.stdout)["error"]
    pending = ok_json(env, "keys", "status")["invites_to_reissue"]
    assert pending and all(set(i) == {"participant_id", "staff_id"} for i in pending)
    asyncio.run(_reissue(_settings(database_url, data, NEW_KEY, TEST_KEY), pending))
    retired = ok_json(env, "keys", "retire", "--key-id", OLD_ID)
    assert retired["retired"] == OLD_ID and retired["done"] is True and retired["retirable"] == []

    alone = cli_env(database_url, data) | {"AFTERCARE_ENCRYPTION_KEY": NEW_KEY}
    last = ok_json(alone, "keys", "status")
    assert last["done"] is True and {kid for counts in last["columns"].values() for kid in counts} == {NEW_ID}
    assert asyncio.run(_with_new_key_alone(database_url)) == {
        c: sum(n.values()) for c, n in last["columns"].items() if n
    }
    assert ok_json(alone, "audit", "verify")["ok"] is True


def test_a_wrong_key_is_refused_at_start_up_with_a_clear_message(app: Application, tmp_path: Path) -> None:
    """The database knows its key (the `app` fixture started on it); another key is refused by every command that
    opens the database and by `run`, naming the setting and never the key."""
    env = cli_env(app.settings.database_url, tmp_path / "data") | {"AFTERCARE_ENCRYPTION_KEY": WRONG_KEY}
    for command in (["keys", "status"], ["audit", "verify"], ["tick"]):
        result = call(env, *command, "--json")
        assert result.exit_code == 1, result.output
        error = json.loads(result.stdout)["error"]
        assert "AFTERCARE_ENCRYPTION_KEY" in error and OLD_ID in error and WRONG_KEY not in result.output
    with bot_process(env, tmp_path) as bot:
        bot.process.wait(timeout=60)
    assert bot.process.returncode == 1
    lines = [line for line in bot.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "AFTERCARE_ENCRYPTION_KEY" in lines[0] and WRONG_KEY not in bot.output
    assert "Traceback" not in bot.output


async def _forget_keys(app: Application) -> None:
    """The database as the version before key ids left it: data, and no key remembered."""
    from sqlalchemy import delete

    from bot.db.models import EncryptionKeyRow

    await exercise(app)
    async with app.store.transaction() as repos:
        await repos.session.execute(delete(EncryptionKeyRow))


def test_a_wrong_key_on_the_first_start_after_the_upgrade_is_refused(database_url: str, tmp_path: Path) -> None:
    """No key remembered yet (written by the previous version): the first stored value must open with the key."""

    async def prepare() -> None:
        app = build_application(_settings(database_url, tmp_path / "data", TEST_KEY))
        try:
            await app.migrate()
            await _forget_keys(app)
        finally:
            await app.aclose()

    asyncio.run(prepare())
    wrong = cli_env(database_url, tmp_path / "data") | {"AFTERCARE_ENCRYPTION_KEY": WRONG_KEY}
    result = call(wrong, "keys", "status", "--json")
    assert result.exit_code == 1 and "does not open the data" in json.loads(result.stdout)["error"]
    assert ok_json(cli_env(database_url, tmp_path / "data"), "keys", "status")["writing_key"] == OLD_ID
    result = call(wrong, "keys", "status", "--json")  # now remembered: refused by its key id
    assert result.exit_code == 1 and OLD_ID in json.loads(result.stdout)["error"]
