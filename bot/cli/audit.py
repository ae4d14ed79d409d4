"""`aftercare audit`: check that nobody edited the audit log, and search it for an investigation."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, fail, invocation, local_time, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.db.models import AuditEventRow
    from bot.services.operators import Operator

audit_cli = typer.Typer(help="The audit log: check that nobody edited it, search it.", no_args_is_help=True)


@audit_cli.command("verify")
def audit_verify(as_json: JsonFlag = False) -> None:
    """Check the audit log's hash chain (sealing what is pending first); exit 1 when an entry was changed, removed
    or reordered, naming the first bad entry."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.audit_chain import verify_chain

        report = await verify_chain(app.store)  # short transactions of its own: reads hold back no message or seal
        return {
            "ok": report.ok,
            "entries": report.entries,
            "sealed": report.sealed,
            "first_bad_id": report.first_bad_id,
            "reason": report.reason,
        }

    out = with_app(as_json, work)
    if out["ok"]:
        emit(as_json, out, f"audit log intact: {out['sealed']} of {out['entries']} entries chained")
        return
    bad = f" at entry {out['first_bad_id']}" if out["first_bad_id"] is not None else ""
    emit(as_json, out, f"audit log BROKEN{bad}: {out['reason']}")
    raise typer.Exit(1)


_ACTION = re.compile(r"^[a-z0-9_]+(:[a-z0-9_]*)?$")
MAX_LIMIT = 1000


def _instant(name: str, value: str | None, zone: tzinfo, *, end_of_day: bool = False) -> datetime | None:
    """An ISO-8601 instant or date; naive ones in the configured time zone. A bare date as --to includes that day."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            at = datetime.combine(day + timedelta(days=1 if end_of_day else 0), time(0), tzinfo=zone)
        else:
            at = datetime.fromisoformat(value)
            at = at if at.tzinfo is not None else at.replace(tzinfo=zone)
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO-8601 date or time, e.g. 2026-12-01 or 2026-12-01T08:00+07:00"
        ) from None
    return at.astimezone(UTC)


@audit_cli.command("list")
def audit_list(
    since: Annotated[str | None, typer.Option("--from", help="From this date or time on (ISO-8601).")] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Up to this time (excluded), or to the end of this date (ISO-8601).")
    ] = None,
    staff: Annotated[int | None, typer.Option("--staff", help="What this staff member did (console or --as).")] = None,
    participant: Annotated[int | None, typer.Option("--participant", help="What was done to this person.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help='One action (participant_viewed), or all with a prefix ("denied:").')
    ] = None,
    before: Annotated[int | None, typer.Option("--before", help="The next page: entries older than this id.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LIMIT, help="At most this many entries.")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Audit entries for an investigation, newest first: time, actor, action, subject, outcome, detail (the log holds
    no content). Paged by id (`next_before`); naive times and dates are in AFTERCARE_TIMEZONE. The search itself is
    audited (`audit_searched`, with its filters)."""
    if action is not None and not _ACTION.match(action):
        fail(as_json, f"unknown action {action!r}: an action is a code such as participant_viewed or denied:")

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        zone = invocation.zone or UTC
        first = _instant("--from", since, zone)
        last = _instant("--to", until, zone, end_of_day=True)
        if first is not None and last is not None and last <= first:
            raise ValueError("--to must come after --from")
        async with app.store.transaction() as repos:
            if action is not None:
                known = await repos.audit.actions()
                if not any(a == action or (action.endswith(":") and a.startswith(action)) for a in known):
                    raise ValueError(
                        f"unknown action {action!r}: no entry in the audit log has it (actions in the log: "
                        f"{', '.join(known) or 'none'})"
                    )
            rows = await repos.audit.search(
                since=first, until=last, staff_id=staff, participant_id=participant, action=action, before=before,
                limit=limit + 1,
            )  # fmt: skip
            used = {"from": since, "to": until, "staff": staff, "participant": participant, "action": action,
                    "before": before, "limit": limit}  # fmt: skip
            filters = {k: v for k, v in used.items() if v is not None}
            await op.record(repos, "audit_searched", detail={"filters": filters, "entries": min(len(rows), limit)})
        page = rows[:limit]
        return {
            "entries": [_entry(row) for row in page],
            "next_before": page[-1].id if len(rows) > limit else None,
        }

    out = with_app(as_json, work)
    lines = [_line(e) for e in out["entries"]] or ["no audit entries match"]
    if out["next_before"] is not None:
        lines.append(f"… older entries: add --before {out['next_before']}")
    emit(as_json, out, "\n".join(lines))


def _entry(row: AuditEventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "outcome": row.outcome,
        "detail": row.detail,
    }


def _line(e: dict[str, Any]) -> str:
    actor = f"{e['actor_type']} {e['actor_id']}" if e["actor_id"] is not None else e["actor_type"]
    subject = f"{e['subject_type'] or '-'} {e['subject_id'] if e['subject_id'] is not None else ''}".rstrip()
    detail = json.dumps(e["detail"], ensure_ascii=False, sort_keys=True) if e["detail"] else ""
    return f"#{e['id']}  {local_time(e['at'])}  {actor}  {e['action']}  {subject}  {e['outcome']}  {detail}".rstrip()
