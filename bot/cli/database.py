"""`aftercare db`: the database's migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.common import JsonFlag, emit, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

db_cli = typer.Typer(help="Database migrations.", no_args_is_help=True)


@db_cli.command("upgrade")
def db_upgrade(as_json: JsonFlag = False) -> None:
    """Apply all migrations."""

    async def work(app: Application, _op: Operator) -> str | None:
        from bot.db import migrate

        return await migrate.current(app.engine)

    revision = with_app(as_json, work)
    emit(as_json, {"revision": revision}, f"database at revision {revision}")
