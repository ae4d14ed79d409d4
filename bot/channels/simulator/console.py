"""`aftercare chat`: the simulator in a terminal, for people without a browser at hand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.channels.simulator.clock import BadInstant
from bot.channels.simulator.hub import Entry, SimulatorHub
from bot.core.messages import ChatType, MediaKind

HELP = """Commands:
  :chat NAME        switch to (or open) the chat NAME, e.g. :chat can-bo
  :sticker :photo :voice   send that kind of media
  :group TEXT       send TEXT as if from a group chat
  :time [WHEN]      show the simulated time, or jump ahead to WHEN (e.g. :time 2026-12-10 08:00, the commune's
                    time) and see what the bot sends then: reminders, digests, alerts (development only)
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
        if line.startswith(":time"):
            last_buttons |= await _jump(hub, line.removeprefix(":time").strip(), write)
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


async def _jump(hub: SimulatorHub, when: str, write: Callable[[str], None]) -> dict[str, list[dict[str, str]]]:
    """`:time`: the simulated time, or a jump to `when` and what every chat was sent there; returns the buttons
    pushed to each chat (a number then presses one of them)."""
    machine = hub.time_machine
    if machine is None:
        write("The clock can be moved only in development (AFTERCARE_ENVIRONMENT=development).")
        return {}
    if not when:
        write(f"Simulated time: {machine.state()['shown']}")
        return {}
    seen = {chat: _last_seq(hub, chat) for chat in hub.chats()}
    try:
        state = await machine.jump(machine.parse(when))
    except BadInstant as exc:
        write(str(exc))
        return {}
    except Exception as exc:  # the clock moved; planning or sending there failed (a database that went away)
        write(f"The clock moved, but planning or sending failed ({type(exc).__name__}); try :time again.")
        return {}
    write(f"Simulated time: {state['shown']}")
    pushed: dict[str, list[dict[str, str]]] = {}
    for chat in hub.chats():
        entries = [entry for entry in hub.history(chat, seen.get(chat, 0)) if entry.pushed]
        if entries:
            write(f"[{chat}]")
        for entry in entries:
            write(_render(entry))
            if entry.buttons:
                pushed[chat] = entry.buttons
    if not any(pushed.values()) and all(_last_seq(hub, chat) == seen.get(chat, 0) for chat in hub.chats()):
        write("Nothing was sent to these chats.")
    return pushed


def _last_seq(hub: SimulatorHub, chat: str) -> int:
    history = hub.history(chat)
    return history[-1].seq if history else 0


def _render(entry: Entry) -> str:
    lines = [f"bot> {line}" for line in entry.text.splitlines() or [""]]
    if entry.buttons:
        lines.append("     " + "   ".join(f"[{i}] {b['label']}" for i, b in enumerate(entry.buttons, 1)))
    return "\n".join(lines)
