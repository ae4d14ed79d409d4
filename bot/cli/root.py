"""The root of the command line: its global `--as`, and the commands without a group (run, keygen, tick)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import JsonFlag, emit, fail, invocation, local_time, with_app
from bot.core.channel_names import SIMULATOR
from bot.core.clock import Clock, FixedClock

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

cli = typer.Typer(
    help=(
        "Đồng Hành aftercare bot: serve it, migrate it, set up communes. Every change is audited as done by an "
        "operator: the OS account running the command and, with --as STAFF_ID, the staff member taking it."
    ),
    no_args_is_help=True,
)


@cli.callback()
def _root(
    as_staff: Annotated[
        int | None,
        typer.Option(
            "--as",
            help=(
                "Staff id of the person taking responsibility for this command (must be an active staff member); "
                "recorded in the audit log with the OS account. It is a statement, not a proof: whoever can run the "
                "command can name anyone; the OS account is what the machine vouches for. Without it, only the OS "
                "account is recorded."
            ),
        ),
    ] = None,
) -> None:
    """Options before the command apply to every command."""
    invocation.as_staff = as_staff


@cli.command()
def run(
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help=(
                "Processes serving the one port (default AFTERCARE_WORKERS, 1). PostgreSQL only: on SQLite it runs "
                "one. Without AFTERCARE_PUBLIC_URL only the first polls the platforms."
            ),
        ),
    ] = None,
) -> None:
    """Apply migrations, then serve the web app (health, simulator) until stopped (SIGTERM or Ctrl-C: exit 0)."""
    import signal

    from bot.config import ConfigError, Settings
    from bot.logging import configure_logging
    from bot.runner import PortBusy, run_serving, serve

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `docker stop` ends it like Ctrl-C: cleanly
    try:
        settings = Settings()
        configure_logging(json_logs=settings.json_logs)
        from bot.supervisor import run_workers, worker_count

        count = worker_count(settings, workers)
        if count > 1:
            run_workers(settings, count)
        else:
            run_serving(serve(settings))
    except (ConfigError, PortBusy) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        pass


@cli.command()
def keygen() -> None:
    """Print a new random AFTERCARE_ENCRYPTION_KEY (keep it safe: data cannot be read without it)."""
    from bot.config import new_encryption_key

    typer.echo(new_encryption_key())


@cli.command()
def tick(
    at: Annotated[
        str | None, typer.Option(help="The instant to act as, ISO-8601 (default: now). Naive times are UTC.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Plan and dispatch everything due at that instant, once, then exit (for cron; no long-lived scheduler).

    On PostgreSQL it takes the same locks as `aftercare run`: a part a running process leads (planning, sending) is
    skipped and named in the report, so a cron tick beside a running deployment never sends twice."""
    when = datetime.now(UTC)
    clock: Clock | None = None  # the real clock, unless acting as another instant
    if at is not None:
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            fail(as_json, "--at must be an ISO-8601 instant, e.g. 2026-12-10T08:00:00+07:00")
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
        clock = FixedClock(when)

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        app.scheduler.dispatcher.without(SIMULATOR)  # its chats live in the `run` process, which sends to them
        report = await app.scheduler.tick(when if at is not None else None)
        return report.as_dict()

    out = with_app(as_json, work, clock=clock)
    plan, sent = out["plan"], out["dispatch"]
    human = (
        f"{local_time(out['at'])}: planned {plan['reminders_added']} reminders, {plan['escalations']} escalations, "
        f"{plan['digests']} digests; sent {sent['sent']}, retrying {sent['retried']}, given up {sent['dead']}"
    )
    if out.get("skipped"):  # on PostgreSQL beside running processes: the part one of them leads is theirs
        human += f" (skipped, another process leads it: {', '.join(out['skipped'])})"
    emit(as_json, out, human)
