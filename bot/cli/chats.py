"""`aftercare chat`: the console simulator on its own, and `chat unlink` to take a lost phone's access away."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import ChannelChoice, JsonFlag, emit, fail, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

chat_cli = typer.Typer()


@chat_cli.callback(invoke_without_command=True)
def chat(ctx: typer.Context) -> None:
    """Without a command: the console simulator (talk to the bot in this terminal, no token needed). `chat unlink`
    takes a lost or handed-on phone's access away."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.channels.simulator.console import run_console

    async def work(app: Application, _op: Operator) -> None:
        await run_console(app.simulator)

    with_app(False, work)


@chat_cli.command("unlink")
def chat_unlink(
    participant: Annotated[int | None, typer.Option("--participant", help="Participant id.")] = None,
    staff: Annotated[int | None, typer.Option("--staff", help="Staff member id.")] = None,
    channel: Annotated[
        ChannelChoice | None, typer.Option(help="Only the chat on this channel (default: all of them).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Unlink a person's chats (all, or one channel's): the phone's next message is an unlinked chat's and its
    conversation state is gone. A participant left without a chat gets no reminders until a new code links one."""
    if (participant is None) == (staff is None):
        fail(as_json, "give exactly one of --participant and --staff")

    async def work(app: Application, op: Operator) -> dict[str, Any]:
        from bot.services.access import unlink_chats

        async with app.store.transaction() as repos:
            channels = await unlink_chats(
                repos, op, participant_id=participant, staff_id=staff, channel=channel.value if channel else None
            )
            left = await repos.identities.count_of(participant_id=participant, staff_id=staff)
        who = {"participant_id": participant} if participant is not None else {"staff_id": staff}
        return {"unlinked_chats": len(channels), "channels": channels, **who, "linked_chats": left}

    out = with_app(as_json, work)
    emit(as_json, out, f"{out['unlinked_chats']} chat(s) unlinked; {out['linked_chats']} still linked")
