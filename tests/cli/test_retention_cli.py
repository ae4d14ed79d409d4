"""`aftercare purge [--dry-run]` and `aftercare participant leave`, against a real database: the JSON contract, a dry
run that writes nothing, a report on a past period the same before and after, and the refusals."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from bot.app import Application
from bot.domain.entities import ParticipantStatus, Role
from bot.domain.fieldwork import InPersonOutcome
from tests.support.at_rest import every_value
from tests.support.cli import call, ok_json
from tests.support.factories import add_hanoi, add_person


async def _cli_json(env: dict[str, str], *args: str) -> dict[str, Any]:  # the CLI runs its own event loop
    return await asyncio.to_thread(ok_json, env, *args)


async def _report(env: dict[str, str], period: str) -> dict[str, Any]:
    out = await _cli_json(env, "report", "--unit", "HN", "--period", period)
    out.pop("made_at")
    return out


async def test_purge_and_leave_from_the_command_line(app: Application, env: dict[str, str]) -> None:
    today = date.today()  # the CLI runs on the real clock
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        officer, _ = await service.add_staff("Lê Văn Cường", Role.OFFICER, "HD", None, "vi")
        gone, _ = await add_person(service, "Nguyễn Văn Cũ", start=date(2024, 1, 1), months=12)
        stays, _ = await add_person(service, "Trần Văn Ở", start=today - timedelta(days=30), months=12)
        await repos.fieldwork.record_in_person(gone.id, date(2024, 6, 12), InPersonOutcome.PRESENT, None, officer.id)
        left = date(2025, 1, 1)
        await repos.participants.update(gone.id, status=ParticipantStatus.COMPLETED, completed_on=left, left_on=left,
                                        retain_from=left)  # fmt: skip
    before = {period: await _report(env, period) for period in ("2024-06", "2024-Q2", "2024")}
    assert before["2024-06"]["counts"]["in_person_done"] == 1

    stored = await every_value(app)
    dry = await _cli_json(env, "purge", "--dry-run")
    assert dry == {"purged": 1, "participants": [gone.id], "staff": []}
    assert await every_value(app) == stored  # a dry run writes nothing (not even the audit log)

    done = await _cli_json(env, "purge")
    assert done == {"purged": 1, "participants": [gone.id], "staff": []}
    async with app.store.transaction() as repos:
        assert await repos.participants.get(gone.id) is None
        assert await repos.participants.get(stays.id) is not None
    assert {period: await _report(env, period) for period in before} == before
    assert (await _cli_json(env, "audit", "verify"))["ok"] is True  # entries about them rewritten, still provable
    assert await _cli_json(env, "purge") == {"purged": 0, "participants": [], "staff": []}
    human = await asyncio.to_thread(call, env, "purge", "--dry-run")
    assert human.exit_code == 0 and "would purge 0 people" in human.stdout

    out = await _cli_json(env, "participant", "leave", "--id", str(stays.id), "--reason", "moved_out",
                          "--on", today.isoformat())  # fmt: skip
    assert out == {"id": stays.id, "reason": "moved_out", "left_on": today.isoformat(), "status": "transferred"}
    again = await asyncio.to_thread(call, env, "participant", "leave", "--id", str(stays.id), "--reason", "removed",
                                    "--on", today.isoformat(), "--json")  # fmt: skip
    assert again.exit_code == 1 and "not on the list" in again.stdout
    wrong = await asyncio.to_thread(call, env, "participant", "leave", "--id", str(stays.id), "--reason", "died",
                                    "--on", today.isoformat())  # fmt: skip
    assert wrong.exit_code != 0
    unknown = await asyncio.to_thread(call, env, "participant", "leave", "--id", "99999", "--reason", "removed",
                                      "--on", today.isoformat(), "--json")  # fmt: skip
    assert unknown.exit_code == 1
