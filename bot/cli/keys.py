"""`aftercare keys`: rotate the encryption key, see how far a rotation got, retire the old key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, fail, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

keys_cli = typer.Typer(
    help="Encryption keys: rotate to a new key, see the rotation's progress, retire the old key.",
    no_args_is_help=True,
)


def _human(out: dict[str, Any]) -> str:
    lines = [
        f"writing key {out['writing_key']}; remaining {out['remaining']} "
        f"({'done' if out['done'] else 'not done'}; audit entries left {out['audit_remaining']})"
    ]
    for key in out["keys"]:
        state = "retired" if key["retired"] else ("configured" if key["configured"] else "NOT CONFIGURED")
        lines.append(f"  key {key['key_id']}: {key['values']} values, {state}")
    for column, counts in out["columns"].items():
        stale = {kid: n for kid, n in counts.items() if kid != out["writing_key"]}
        if stale:
            lines.append(f"  {column}: " + ", ".join(f"{n} under {kid}" for kid, n in sorted(stale.items())))
    for invite in out["invites_to_reissue"]:
        who = f"participant {invite['participant_id']}" if invite["participant_id"] else f"staff {invite['staff_id']}"
        lines.append(f"  reissue the invite code of {who}")
    writing = next((k for k in out["keys"] if k["key_id"] == out["writing_key"]), None)
    if writing is not None and any(not k["retired"] and k is not writing for k in out["keys"]):
        lines.append(
            f"  note: codes a worker still on an old key issued after {writing['added_at']} are not listed "
            "(README, Keys)"
        )
    if out["retirable"]:
        lines.append("  safe to retire: " + ", ".join(out["retirable"]))
    return "\n".join(lines)


@keys_cli.command("rotate")
def keys_rotate(
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help=(
                "Local runs only (key kept in the data directory): generate a new key there first, keeping the old "
                "one as a previous key. Production sets AFTERCARE_ENCRYPTION_KEY and "
                "AFTERCARE_PREVIOUS_ENCRYPTION_KEYS in its environment instead."
            ),
        ),
    ] = False,
    batch: Annotated[int, typer.Option(min=1, max=5000, help="Rows per transaction.")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Re-encrypt every sealed field with the writing key (AFTERCARE_ENCRYPTION_KEY) in short batches; safe to stop
    and run again (it continues). Then shows the status."""
    if new:
        from bot.config import ConfigError, Settings, rotate_local_key

        async def before(app: Application, op: Operator) -> dict[str, Any]:
            from bot.services import keys

            return (await keys.status(app.store, app.clock)).as_dict()

        previous = with_app(as_json, before)
        if not previous["done"]:  # a second --new now would make a third key over an unfinished rotation
            fail(
                as_json,
                f"the previous key rotation is not done ({previous['remaining']} values or audit entries left): run "
                "`aftercare keys rotate` without --new until `aftercare keys status` says done, then rotate again",
            )
        try:
            rotate_local_key(Settings())
        except ConfigError as exc:
            fail(as_json, str(exc))

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from sqlalchemy.exc import SQLAlchemyError

        from bot.services import keys
        from bot.services.audit_rekey import AuditRekeyRefused

        try:
            await keys.mark_started(app.store)
            report = await keys.rotate(app.store, batch=batch)
        except AuditRekeyRefused as exc:
            raise ValueError(str(exc)) from exc
        except SQLAlchemyError as exc:  # each batch committed on its own: nothing half-done is left behind
            raise ValueError(
                f"the rotation stopped on a database error ({type(exc).__name__}); what was done is kept: run "
                "`aftercare keys rotate` again"
            ) from exc
        async with app.store.transaction() as repos:
            detail = {"resealed": sum(report.resealed.values()), "audit_entries": report.audit_entries}
            await op.record(repos, "encryption_key_rotated", detail={"key_id": app.store.keyring.key_id, **detail})
        out = (await keys.status(app.store, app.clock)).as_dict()
        return out | {"resealed": report.resealed, "audit_entries_rekeyed": report.audit_entries}

    out = with_app(as_json, work)
    emit(as_json, out, f"re-sealed {sum(out['resealed'].values())} values\n" + _human(out))


@keys_cli.command("status")
def keys_status(as_json: JsonFlag = False) -> None:
    """How many values are not yet under the writing key (per column and per key id), the audit entries left, the
    invite codes to reissue before the old key goes, and which old keys can be retired."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import keys

        return (await keys.status(app.store, app.clock)).as_dict()

    out = with_app(as_json, work)
    emit(as_json, out, _human(out))


@keys_cli.command("retire")
def keys_retire(
    key_id: Annotated[str, typer.Option("--key-id", help="The old key's id, as `aftercare keys status` shows it.")],
    as_json: JsonFlag = False,
) -> None:
    """Mark an old key retired, so it may be removed from AFTERCARE_PREVIOUS_ENCRYPTION_KEYS; refused (exit 1) while
    any value, audit entry or live invite code still depends on it."""

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services import keys

        try:
            after = await keys.retire(app.store, app.clock, key_id, op)
        except keys.RetireRefused as exc:
            raise ValueError(str(exc)) from exc
        return after.as_dict() | {"retired": key_id}

    out = with_app(as_json, work)
    emit(as_json, out, f"key {key_id} retired: remove it from AFTERCARE_PREVIOUS_ENCRYPTION_KEYS\n" + _human(out))
