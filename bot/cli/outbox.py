"""`aftercare outbox`: the messages the scheduler sends: counts, and the ones given up on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, find_unit, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

outbox_cli = typer.Typer(help="Messages the scheduler sends: counts and the ones given up on.", no_args_is_help=True)


@outbox_cli.command("status")
def outbox_status(as_json: JsonFlag = False) -> None:
    """How many scheduled messages are pending, held (for staff without a linked chat), sent, cancelled,
    undeliverable or given up, and how long the oldest message due now has waited (a growing age: sending lags;
    in quiet hours only urgent messages count, the only ones that may go then)."""

    async def work(app: Application, op: Operator) -> tuple[dict[str, int], float | None]:
        async with app.store.transaction() as repos:
            _, oldest = await app.outbox_due(repos)
            return await repos.outbox.counts(), oldest

    counts, oldest = with_app(as_json, work)
    lines = [f"{k}\t{v}" for k, v in sorted(counts.items())] or ["empty"]
    lines.append(f"oldest due\t{round(oldest)} s" if oldest is not None else "oldest due\tnone")
    seconds = round(oldest, 1) if oldest is not None else None
    emit(as_json, {"counts": counts, "oldest_due_seconds": seconds}, "\n".join(lines))


@outbox_cli.command("dead")
def outbox_dead(
    unit: Annotated[str | None, typer.Option(help="Only this commune's people and staff.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Messages given up on or undeliverable (no content: kind, recipient record, attempts, last error)."""

    async def work(app: Application, op: Operator) -> list[dict[str, Any]]:
        async with app.store.transaction() as repos:
            unit_id = (await find_unit(repos, unit)).id if unit is not None else None
            return await repos.outbox.dead(unit_id)

    rows = with_app(as_json, work)
    human = "\n".join(
        f"{r['id']}\t{r['status']}\t{r['kind']}\tparticipant {r['participant_id']}\tstaff {r['staff_id']}\t"
        f"{r['attempts']} attempts\t{r['last_error']}"
        for r in rows
    )
    emit(as_json, {"messages": rows}, human or "none")
