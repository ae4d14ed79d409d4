"""Shared by every flow: polite answers to input the bot cannot use, and the audit of opening a list."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.i18n import Translator
from bot.core.messages import OutboundMessage
from bot.domain.text import fold

if TYPE_CHECKING:
    from bot.flows.context import Context


def say(text: str) -> OutboundMessage:
    return OutboundMessage(text)


def not_text(t: Translator) -> OutboundMessage:
    return say(t._("I can only read text messages. Please type, or choose one of the options."))


def empty(t: Translator) -> OutboundMessage:
    return say(t._("Your message was empty. Please type something, or choose one of the options."))


def too_long(t: Translator, limit: int) -> OutboundMessage:
    return say(
        t._("That message is too long for me (more than {limit} characters). Please send a shorter one.", limit=limit)
    )


def slow_down(t: Translator) -> OutboundMessage:
    """Said once when a chat sends more than its per-minute limit; what follows within the minute is not read."""
    return say(
        t._(
            "You are sending messages very quickly. Please wait a minute, then write again: "
            "the messages sent in the meantime were not read."
        )
    )


def stale_button(t: Translator) -> OutboundMessage:
    return say(t._("That button is no longer valid. Here are the current options."))


def out_of_scope(t: Translator) -> OutboundMessage:
    """A record this person may not see or change (reassigned, moved, another commune's, a forged id): one answer."""
    return say(t._("This is not in your scope."))


def unknown_command(t: Translator) -> OutboundMessage:
    return say(t._("I don't know that command. Here is what I can do."))


def not_understood(t: Translator) -> OutboundMessage:
    return say(t._("Sorry, I didn't understand. Please choose one of the options."))


def group_notice(t: Translator) -> str:
    return t._("Đồng Hành only works in private chats. Please message me directly; I will not read this group.")


def internal_error(t: Translator) -> OutboundMessage:
    return say(t._("Sorry, something went wrong on our side. Please try again in a moment."))


async def audit_list(
    ctx: Context, listed: str, results: int, *, page: int | None = None, query: str = "", point: bool = False
) -> None:
    """Opening a list or a search that names people is audited: who, which list, whose scope (the unit, or the
    counselling point), which page, how many were found. A search records only what kind of thing was typed and its
    length: the text may be part of someone's name."""
    assert ctx.staff is not None
    detail: dict[str, object] = {"list": listed, "results": results}
    if page is not None:
        detail["page"] = page
    if query:
        wanted = fold(query).lstrip("#").strip()
        kind = "code" if wanted.isdigit() else "initials" if " " not in wanted and len(wanted) <= 4 else "text"
        detail |= {"search": kind, "length": len(query)}
    scope = ("point", ctx.staff.point_id) if point else ("unit", ctx.staff.unit_id)
    await ctx.audit("list_searched" if query else "list_opened", subject_type=scope[0], subject_id=scope[1],
                    detail=detail)  # fmt: skip
