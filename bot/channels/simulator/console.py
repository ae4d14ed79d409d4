"""`aftercare chat`: the simulator in a terminal, for people without a browser at hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.channels.simulator.hub import Entry, SimulatorHub
from bot.core.messages import ChatType, MediaKind

HELP = """Commands:
  :chat NAME        switch to (or open) the chat NAME, e.g. :chat can-bo
  :sticker :photo :voice   send that kind of media
  :group TEXT       send TEXT as if from a group chat
  :quit             leave
  a number          press that button of the bot's last message
Anything else is sent as a text message (send an invite code to link a chat)."""


async def run_console(
    hub: SimulatorHub, read: Callable[[str], str] = input, write: Callable[[str], None] = print
) -> None:
    chat = hub.open("console", "console")
    last_buttons: dict[str, list[dict[str, str]]] = {}
    write("Đồng Hành · console simulator. Type :help for commands.")
    while True:
        try:
            line = await asyncio.to_thread(read, f"[{chat}]> ")
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        line = line.strip()
        if line in (":quit", ":q", ":exit"):
            return
        if line == ":help":
            write(HELP)
            continue
        if line.startswith(":chat"):
            name = line.removeprefix(":chat").strip().lower()
            try:
                chat = hub.open(name or "console", name)
            except ValueError as exc:
                write(str(exc))
            continue
        replies: list[Entry]
        if line in (":sticker", ":photo", ":voice"):
            replies = await hub.say(chat, media=MediaKind(line[1:]))
        elif line.startswith(":group"):
            replies = await hub.say(chat, text=line.removeprefix(":group").strip(), chat_type=ChatType.GROUP)
        elif line.isdigit() and 0 < int(line) <= len(last_buttons.get(chat, [])):
            button = last_buttons[chat][int(line) - 1]
            replies = await hub.say(chat, action=button["action"], shown_as=button["label"])
        else:
            replies = await hub.say(chat, text=line)
        for entry in replies:
            write(_render(entry))
            if entry.buttons:
                last_buttons[chat] = entry.buttons


def _render(entry: Entry) -> str:
    lines = [f"bot> {line}" for line in entry.text.splitlines() or [""]]
    if entry.buttons:
        lines.append("     " + "   ".join(f"[{i}] {b['label']}" for i, b in enumerate(entry.buttons, 1)))
    return "\n".join(lines)
