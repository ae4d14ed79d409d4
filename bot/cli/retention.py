"""`aftercare purge`: the retention purge now (the scheduler runs it daily), or with --dry-run who it would take."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator


def purge(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list who would go; write nothing.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Delete or anonymise every record of people who left the list AFTERCARE_RETENTION_DAYS ago (reports keep
    anonymous rows), and the personal data of staff deactivated that long ago. Prints their ids; audited."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from bot.services import retention

        zone, now, days = ZoneInfo(app.settings.timezone), app.clock.now(), app.settings.retention_days
        if dry_run:
            return (await retention.due(app.store, now=now, tz=zone, days=days)).as_dict()
        done = await retention.purge(
            app.store, now=now, tz=zone, days=days, actor_type=op.actor_type, actor_id=op.staff_id, detail=op.detail()
        )
        return done.as_dict()

    out = with_app(as_json, work)
    verb = "would purge" if dry_run else "purged"
    people = ", ".join(str(i) for i in out["participants"]) or "nobody"
    emit(as_json, out, f"{verb} {out['purged']} people ({people}) and {len(out['staff'])} staff members")
