"""`aftercare privacy`: the data inventory, generated from the models (see bot/db/inventory.py)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import emit, fail, writable

privacy_cli = typer.Typer(help="Personal data: what the system keeps, why and for how long.", no_args_is_help=True)


class InventoryFormat(StrEnum):
    md = "md"
    json = "json"


@privacy_cli.command("inventory")
def privacy_inventory(
    fmt: Annotated[InventoryFormat, typer.Option("--format", help="Markdown (the committed docs) or JSON.")] = (
        InventoryFormat.md
    ),
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
) -> None:
    """Every table and column holding personal data: its class, whether it is sealed, purpose, legal basis, who can
    read it, how long it is kept. Needs no database; refuses (exit 1) when a column of the models is unclassified."""
    from bot.db.inventory import as_json, as_markdown

    as_json_out = fmt is InventoryFormat.json
    if out is not None:
        writable(as_json_out, out)
    try:
        text = as_json() if as_json_out else as_markdown()
    except ValueError as exc:
        fail(as_json_out, str(exc))
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    emit(as_json_out, {"file": str(out), "bytes": len(text.encode())}, f"data inventory written to {out}")
