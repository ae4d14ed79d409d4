"""The one-time invite code a staff member or a participant gets: the same output and the same `--revoke-chats` for
both (`staff add`/`invite`, `participant add`/`invite`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.common import emit, local_time, with_app

if TYPE_CHECKING:
    from bot.app import Application
    from bot.services.operators import Operator

RevokeChats = Annotated[
    bool,
    typer.Option(
        "--revoke-chats",
        help="Also unlink the chats linked now, in the same step (a lost or handed-on phone loses access at once).",
    ),
]


def invite_out(person_id: int, code: str, expires: datetime, **extra: Any) -> dict[str, Any]:
    return {"id": person_id, "invite_code": code, "invite_expires_at": expires.isoformat(), **extra}


def reissued(person_id: int, invite: Any) -> dict[str, Any]:
    """A new code for someone already listed: it also says how many chats stay linked or were unlinked."""
    return invite_out(
        person_id,
        invite.code,
        invite.expires_at,
        linked_chats=invite.linked_chats,
        unlinked_chats=invite.unlinked_chats,
    )


def issue(as_json: bool, work: Callable[[Application, Operator], Awaitable[dict[str, Any]]]) -> None:
    """Run the enrolment step that made the code, add the Telegram deep link, print the code (one shape for the four
    commands that hand out a code)."""

    async def linked(app: Application, op: Operator) -> dict[str, Any]:
        return await with_links(app, await work(app, op))

    out = with_app(as_json, linked)
    emit(as_json, out, invite_human(out))


async def with_links(app: Application, out: dict[str, Any]) -> dict[str, Any]:
    """Add the Telegram deep link (t.me/<bot>?start=<code>) when the Telegram channel is configured."""
    if app.telegram is not None:
        try:
            await app.telegram.identify()
        except Exception:  # an unreachable Bot API must not stop an officer enrolling someone
            typer.echo("warning: could not reach Telegram to build the deep link", err=True)
        link = app.telegram.deep_link(out["invite_code"])
        if link:
            out["telegram_link"] = link
    return out


def invite_human(out: dict[str, Any]) -> str:
    text = (
        f"id {out['id']}: invite code {out['invite_code']} (single use, expires "
        f"{local_time(out['invite_expires_at'])}).\n"
        "Give it to the person in private; they send it to the bot to link their chat."
    )
    if "telegram_link" in out:
        text += f"\nTelegram: {out['telegram_link']}"
    if out.get("unlinked_chats"):
        text += f"\n{out['unlinked_chats']} chat(s) unlinked: the old phone no longer has access."
    if out.get("linked_chats"):
        text += (
            f"\n{out['linked_chats']} chat(s) still linked and working; if a phone was lost, run this again with "
            "--revoke-chats or use `aftercare chat unlink`."
        )
    return text
