"""`aftercare audit`: check that nobody edited the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from bot.cli.common import JsonFlag, emit, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

audit_cli = typer.Typer(help="The audit log: check that nobody edited it.", no_args_is_help=True)


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
