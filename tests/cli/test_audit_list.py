"""`aftercare audit list`: an investigator's search of the audit log against a real database (SQLite and
PostgreSQL): by person, staff member, action and time, paged by id, refusing what it cannot read, and itself
audited."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from bot.services.operators import os_user
from tests.fakes.clock import FakeClock
from tests.support.cli import call, ok_json
from tests.support.records import audit_trail

NURSE, OTHER, PERSON = 5, 6, 1


async def _cli_json(env: dict[str, str], *args: str) -> dict[str, Any]:  # the CLI runs its own event loop
    return await asyncio.to_thread(ok_json, env, *args)


async def _cli(env: dict[str, str], *args: str) -> Any:
    return await asyncio.to_thread(call, env, *args)


async def _history(app: Any, clock: FakeClock) -> None:
    """Four days of a staff member's activity around one person's record (09:00 in Hà Nội each day)."""
    days = [
        (20, NURSE, "participant_viewed", "participant", PERSON, "ok", {"view": "record"}),
        (21, NURSE, "report_exported", "unit", 2, "ok", {"format": "xlsx"}),
        (22, OTHER, "denied:view_participant", "participant", PERSON, "denied", {"reason": "not assigned"}),
        (23, NURSE, "console_login", "staff", NURSE, "ok", {}),
    ]
    for day, actor, action, kind, subject, outcome, detail in days:
        clock.set(datetime(2026, 11, day, 2, 0, tzinfo=UTC))
        async with app.store.transaction() as repos:
            await repos.audit.record(actor_type="staff", actor_id=actor, action=action, outcome=outcome,
                                     subject_type=kind, subject_id=subject, detail=detail)  # fmt: skip


async def test_an_investigator_finds_who_read_a_record_and_when(
    app: Any, env: dict[str, str], clock: FakeClock
) -> None:
    await _history(app, clock)

    about = await _cli_json(env, "audit", "list", "--participant", str(PERSON))
    assert [(e["action"], e["actor_id"], e["outcome"]) for e in about["entries"]] == [
        ("denied:view_participant", OTHER, "denied"),
        ("participant_viewed", NURSE, "ok"),
    ]
    first = about["entries"][1]
    assert set(first) == {"id", "at", "actor_type", "actor_id", "action", "subject_type", "subject_id", "outcome",
                          "detail"}  # fmt: skip
    assert first["at"].startswith("2026-11-20T02:00") and first["detail"] == {"view": "record"}
    assert about["next_before"] is None

    since = await _cli_json(env, "audit", "list", "--staff", str(NURSE), "--from", "2026-11-21")
    assert [e["action"] for e in since["entries"]] == ["console_login", "report_exported"]
    upto = await _cli_json(env, "audit", "list", "--staff", str(NURSE), "--to", "2026-11-21")  # the day included
    assert [e["action"] for e in upto["entries"]] == ["report_exported", "participant_viewed"]
    timed = await _cli_json(env, "audit", "list", "--staff", str(NURSE), "--from", "2026-11-20T09:30+07:00",
                            "--to", "2026-11-23T09:00+07:00")  # fmt: skip
    assert [e["action"] for e in timed["entries"]] == ["report_exported"]  # --to excluded
    denials = await _cli_json(env, "audit", "list", "--action", "denied:")
    assert [e["actor_id"] for e in denials["entries"]] == [OTHER]
    exports = await _cli_json(env, "audit", "list", "--action", "report_exported", "--staff", str(OTHER))
    assert exports["entries"] == []

    human = (await _cli(env, "audit", "list", "--participant", str(PERSON))).stdout
    assert "denied:view_participant" in human and "staff 6" in human and "2026-11-20 09:00 UTC+07:00" in human

    searches = await audit_trail(app, "audit_searched")
    assert len(searches) == 7 and {e.actor_type for e in searches} == {"operator"}
    assert searches[0].detail == {"os_user": os_user(), "filters": {"participant": PERSON, "limit": 50}, "entries": 2}
    assert searches[2].detail["filters"] == {"staff": NURSE, "to": "2026-11-21", "limit": 50}


async def test_pages_by_id_without_gaps_or_repeats(app: Any, env: dict[str, str], clock: FakeClock) -> None:
    await _history(app, clock)
    await _history(app, clock)  # six entries by the nurse
    seen: list[int] = []
    page = await _cli_json(env, "audit", "list", "--staff", str(NURSE), "--limit", "4")
    seen += [e["id"] for e in page["entries"]]
    assert len(seen) == 4 and page["next_before"] == seen[-1]
    page = await _cli_json(env, "audit", "list", "--staff", str(NURSE), "--limit", "4",
                           "--before", str(page["next_before"]))  # fmt: skip
    seen += [e["id"] for e in page["entries"]]
    assert len(seen) == 6 and page["next_before"] is None
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 6
    more = (await _cli(env, "audit", "list", "--staff", str(NURSE), "--limit", "4")).stdout
    assert f"--before {seen[3]}" in more


async def test_unknown_action_and_bad_dates_are_refused(app: Any, env: dict[str, str], clock: FakeClock) -> None:
    await _history(app, clock)
    for args, message in [
        (("--action", "report_exportd"), "unknown action 'report_exportd': no entry in the audit log has it"),
        (("--action", "DROP TABLE"), "unknown action"),
        (("--action", "nothing:"), "unknown action 'nothing:'"),
        (("--from", "2026-13-01"), "--from must be an ISO-8601 date or time"),
        (("--to", "yesterday"), "--to must be an ISO-8601 date or time"),
        (("--from", "2026-11-22", "--to", "2026-11-21"), "--to must come after --from"),
    ]:
        refused = await _cli(env, "audit", "list", *args, "--json")
        assert refused.exit_code == 1, args
        assert message in json.loads(refused.stdout)["error"], (args, refused.stdout)
    assert (
        "report_exported" in json.loads((await _cli(env, "audit", "list", "--action", "x_y", "--json")).stdout)["error"]
    )  # the actions the log holds are named
    assert await audit_trail(app, "audit_searched") == []  # a refused search reads nothing
