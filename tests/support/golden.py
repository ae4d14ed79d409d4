"""Golden transcripts: a journey's whole exchange, both sides, kept as readable text in tests/golden/<name>.txt, so
that a change of wording shows up as a diff of what people read.

A journey drives real chats (any channel of the end-to-end tests) through `Transcript.chat(...)`, which records each
turn; `check()` compares the rendering with the stored file and fails with a unified diff. With
AFTERCARE_UPDATE_GOLDEN=1 the files are (re)written instead. Invite codes are random: a journey hides each one behind
a placeholder (`hide`); everything else is fixed by the fake clock and the seed data, so a code left unhidden shows
up as a difference on the next run.

    An    >>> /start {AN_CODE}          what the person sends; a button press as [Label], on Zalo "2  [Label]"
    An    <<< Trợ lý này do …           each message of the bot, continuation lines indented,
              [1] Tôi đồng ý  [2] …     its buttons (Telegram, simulator; Zalo numbers its options in the text)
    --- scheduler tick at 10/12/2026 08:00 ---   what each chat was sent on its own meanwhile
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.simulator_client import Reply, Said
from tests.fakes.clock import FakeClock
from tests.support.chats import HANOI, Chat

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
UPDATE_ENV = "AFTERCARE_UPDATE_GOLDEN"


@dataclass
class _Turn:
    who: str
    arrow: str  # ">>>" sent by the person, "<<<" sent by the bot, "" a line of narration
    text: str
    buttons: list[str] = field(default_factory=list)


class Transcript:
    def __init__(self, name: str, channel: str, clock: FakeClock | None = None) -> None:
        self.name = name
        self.channel = channel
        self.clock = clock
        self._turns: list[_Turn] = []
        self._hidden: dict[str, str] = {}

    # --- recording ---------------------------------------------------------------------------------------------

    def hide(self, value: str, placeholder: str) -> None:
        """Show `value` (an invite code, …) as `placeholder` wherever it appears."""
        self._hidden[value] = placeholder

    def chat(self, chat: Chat, who: str) -> RecordedChat:
        return RecordedChat(self, chat, who)

    def note(self, text: str) -> None:
        """A line of narration: what happens off the chats (an operator's command, time passing)."""
        self._turns.append(_Turn("", "#", text))

    def sent(self, who: str, text: str) -> None:
        self._turns.append(_Turn(who, ">>>", text))

    def received(self, who: str, said: Said) -> None:
        if not said:
            self._turns.append(_Turn(who, "<<<", "(nothing)"))
        for reply in said:
            self._turns.append(_Turn(who, "<<<", reply.text, self._labels(reply)))

    def _labels(self, reply: Reply) -> list[str]:
        if self.channel == "zalo":  # the options are numbered in the text itself
            return []
        return [str(button["label"]) for button in reply.buttons]

    async def tick(self, work: Callable[[], Awaitable[object]], *chats: RecordedChat) -> list[Said]:
        """Run one scheduler tick; record what each of `chats` was sent during it (in that order)."""
        results: dict[int, Said] = {}

        async def nest(index: int) -> None:
            if index == len(chats):
                await work()
                return
            results[index] = await chats[index].chat.during(lambda: nest(index + 1))

        await nest(0)
        when = f" at {self.clock.now().astimezone(HANOI):%d/%m/%Y %H:%M}" if self.clock is not None else ""
        self._turns.append(_Turn("", "---", f"scheduler tick{when}"))
        for index, recorded in enumerate(chats):
            self.received(recorded.who, results[index])
        return [results[i] for i in range(len(chats))]

    # --- rendering and comparing -------------------------------------------------------------------------------

    def _clean(self, text: str) -> str:
        for value, placeholder in self._hidden.items():
            text = text.replace(value, placeholder)
        return text

    def render(self) -> str:
        width = max((len(turn.who) for turn in self._turns), default=0)
        lines = [f"# Golden transcript: {self.name} ({self.channel}). Rewrite with {UPDATE_ENV}=1.", ""]
        for turn in self._turns:
            if turn.arrow in ("#", "---"):  # narration and ticks stand apart from the turns around them
                text = f"# {self._clean(turn.text)}" if turn.arrow == "#" else f"--- {turn.text} ---"
                lines += [text] if lines[-1] == "" else ["", text]
                continue
            prefix = f"{turn.who:<{width}} {turn.arrow} "
            body = self._clean(turn.text).split("\n")
            if turn.buttons:
                body.append("  ".join(f"[{n}] {self._clean(label)}" for n, label in enumerate(turn.buttons, 1)))
            lines.append((prefix + body[0]).rstrip())
            lines += [(" " * len(prefix) + line).rstrip() for line in body[1:]]
        return "\n".join(lines) + "\n"

    def check(self) -> None:
        """Compare with tests/golden/<name>.txt; with AFTERCARE_UPDATE_GOLDEN=1 write it instead."""
        path = GOLDEN_DIR / f"{self.name}.txt"
        actual = self.render()
        if os.environ.get(UPDATE_ENV) == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")  # -n 2 runs SQLite and PostgreSQL side by side
            temporary.write_text(actual, encoding="utf-8")
            temporary.replace(path)
            return
        if not path.exists():
            pytest.fail(f"no golden transcript {path}; run with {UPDATE_ENV}=1 to write it", pytrace=False)
        expected = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"tests/golden/{path.name} (stored)",
                tofile="this run",
            )
            pytest.fail(
                f"the transcript {self.name!r} changed; if the change is meant, rewrite it with {UPDATE_ENV}=1\n"
                + "".join(diff),
                pytrace=False,
            )


class RecordedChat:
    """A chat whose every turn goes into the transcript; `.chat` is the channel's own chat client."""

    def __init__(self, transcript: Transcript, chat: Chat, who: str) -> None:
        self.transcript = transcript
        self.chat: Any = chat
        self.who = who

    @property
    def buttons(self) -> dict[str, str]:
        return dict(self.chat.buttons)

    async def say(self, text: str) -> Said:
        self.transcript.sent(self.who, text)
        said = await self.chat.say(text)
        self.transcript.received(self.who, said)
        return said

    async def press(self, label: str) -> Said:
        """Press a button (on Zalo: type the option's number, or its words in a conversation)."""
        action = self.chat.buttons.get(label)
        if action is None:
            pytest.fail(
                f"{self.who} has no button {label!r} (buttons: {list(self.chat.buttons)}); the transcript so far:\n"
                + self.transcript.render(),
                pytrace=False,
            )
        shown = f"[{label}]"
        if self.transcript.channel == "zalo" and action != label:
            shown = f"{action}  [{label}]"  # what is typed, and the option it stands for
        self.transcript.sent(self.who, shown)
        said = await self.chat.press(label)
        self.transcript.received(self.who, said)
        return said

    async def send_media(self, kind: str) -> Said:
        self.transcript.sent(self.who, f"({kind})")
        said = await self.chat.send_media(kind)
        self.transcript.received(self.who, said)
        return said
