"""Replies shared by every flow: polite answers to input the bot cannot use."""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.messages import OutboundMessage


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


def unknown_command(t: Translator) -> OutboundMessage:
    return say(t._("I don't know that command. Here is what I can do."))


def not_understood(t: Translator) -> OutboundMessage:
    return say(t._("Sorry, I didn't understand. Please choose one of the options."))


def group_notice(t: Translator) -> str:
    return t._("Đồng Hành only works in private chats. Please message me directly; I will not read this group.")


def internal_error(t: Translator) -> OutboundMessage:
    return say(t._("Sorry, something went wrong on our side. Please try again in a moment."))
