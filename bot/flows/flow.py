"""What every conversation flow is: its typed actions, its steps, and four entry points the engine calls.

A flow is one feature of the chat (the check-in, the cadre's list, a conversation with a counsellor…) in one module.
The engine (`engine.py`) never decides what a message means: it asks the registry (`registry.py`) which flow owns a
pressed action, or which flow the chat is in, and hands the message over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from bot.core.i18n import Audience

if TYPE_CHECKING:
    from bot.db.repositories.conversations import ConversationState
    from bot.domain.planning import MessageKind
    from bot.flows.context import Context, Replies
    from bot.flows.pushing import PushRenderer, SentHook


class Verb(StrEnum):
    """A flow's actions: the value is the action's name on the wire ("case:open"); arguments (record ids, an
    answer) follow it, separated by ":". `Verbs.OPEN(42)` encodes "case:open:42"; the registry decodes it back into
    the verb and its arguments, so no flow matches strings by prefix.

    Values are short (Telegram's callback data is a keyed reference, but the offered actions are stored per chat) and
    unique across all flows: an action is routed by exactly one flow (the registry refuses to start otherwise)."""

    def __call__(self, *args: object) -> str:
        return ":".join([self.value, *(str(arg) for arg in args)])


class Step(StrEnum):
    """A flow's states (like aiogram's StatesGroup, without a channel): each flow declares `class Steps(Step)`. The
    value is what the chat's row stores (conversation_state.step), so a value never changes: a chat may be in it."""


def as_number(raw: object) -> int | None:
    """A record id or a count taken from a button or the conversation state; None for anything that is not a
    plausible one (a forged or mangled payload never reaches a query)."""
    text = str(raw)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


@dataclass(frozen=True, slots=True)
class Pressed:
    """A decoded action: the verb and what followed it (`arg` is the whole rest, `args` its ":"-separated parts)."""

    verb: Verb
    arg: str = ""

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(self.arg.split(":")) if self.arg else ()

    @property
    def number(self) -> int | None:
        """The argument as a record id or a count (a page, a day); None when it is not one."""
        return as_number(self.arg)

    def split(self) -> tuple[int | None, str]:
        """An argument naming a record and then what about it ("12:advised"): the record's id (None when it is not
        one) and the rest."""
        first, _, rest = self.arg.partition(":")
        return as_number(first), rest


class Flow:
    """One feature of the conversation. Subclasses set `name`, `audience` and `verbs` and override what they need.

    - `on_action`: a button of this flow was pressed (any time: the engine has checked it was offered to this chat).
      Pressing a button of another flow first makes the chat `leave` the one it was in.
    - `on_text`: typed words while the chat is in this flow (`holds` its state); None: not for this flow, the
      engine answers with the home menu.
    - `prompt`: where the person is, asked again (after a sticker, an empty message, a crisis reply, /menu).
      `menu`: the person asked for the menu — a flow with nothing half-written leaves.
    - `leave`: the chat goes back to its home menu (what the flow entered is kept, what was half-typed is not).
    - `pushes`: the kinds of pushed messages (outbox rows) this flow words, each with its renderer (in the flow's
      `pushed.py`); a kind has exactly one owner, usually the flow whose buttons the message carries.
    """

    name: ClassVar[str]
    audience: ClassVar[Audience]
    verbs: ClassVar[type[Verb] | None] = None
    # Holds the chat until it is done (onboarding: nothing else is offered before consent): every action and text goes
    # to it, whatever flow owns the action.
    exclusive: ClassVar[bool] = False
    # This flow's actions that a chat may press without leaving the flow it is in: answered where it stands (a
    # pushed "I'm on it" in the middle of entering a record; the help menu in the middle of a check-in).
    stays: ClassVar[frozenset[Verb]] = frozenset()
    pushes: ClassVar[Mapping[MessageKind, PushRenderer]] = {}
    # What a pushed kind records once the platform has accepted it (see bot/flows/pushing.py `Sent`).
    sent: ClassVar[Mapping[MessageKind, SentHook]] = {}

    def holds(self, state: ConversationState) -> bool:
        return state.flow == self.name

    async def on_action(self, ctx: Context, pressed: Pressed) -> Replies:
        raise NotImplementedError(f"{self.name} offers no buttons")

    async def on_text(self, ctx: Context, text: str) -> Replies | None:
        return None

    async def prompt(self, ctx: Context, menu: bool) -> Replies | None:
        """None: nothing to ask again here (the engine shows the home menu)."""
        return None

    def leave(self, ctx: Context) -> None:
        ctx.leave()
