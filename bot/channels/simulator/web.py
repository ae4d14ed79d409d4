"""HTTP face of the simulator: a chat page and a small JSON API it (and the transcript tests) speak."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels.simulator.hub import CHAT_ID, SimulatorHub
from bot.core.messages import ChatType, MediaKind
from bot.handlers.engine import TransientFailure

MAX_BODY = 64 * 1024
PAGE = Path(__file__).with_name("static") / "index.html"


def routes(hub: SimulatorHub, linked: Any) -> list[Route]:
    """`linked()` returns {chat_id: label} for simulator chats already linked in the database."""

    async def page(_request: Request) -> Response:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    async def list_chats(_request: Request) -> Response:
        chats = dict(await linked())
        chats.update({k: v for k, v in hub.chats().items() if k not in chats or v != k})
        return JSONResponse({"chats": [{"id": k, "label": v} for k, v in sorted(chats.items())]})

    async def open_chat(request: Request) -> Response:
        body = await _json(request)
        if body is None:
            return _error("send a JSON object")
        chat_id = str(body.get("id", "")).strip().lower()
        if not CHAT_ID.match(chat_id):
            return _error("id: 1-40 lowercase letters, digits and dashes")
        hub.open(chat_id, str(body.get("label", ""))[:60])
        return JSONResponse({"id": chat_id}, status_code=201)

    async def post_message(request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        if not CHAT_ID.match(chat_id):
            return _error("unknown chat id", 404)
        body = await _json(request)
        if body is None:
            return _error("send a JSON object")
        text, action, media = body.get("text"), body.get("action"), body.get("media")
        if sum(v is not None for v in (text, action, media)) != 1:
            return _error("send exactly one of text, action, media")
        if any(v is not None and not isinstance(v, str) for v in (text, action, media)):
            return _error("text, action and media are strings")
        try:
            media_kind = MediaKind(media) if media is not None else None
            chat_type = ChatType(body.get("chat_type", "private"))
        except ValueError:
            return _error("unknown media or chat_type")
        label = body.get("label")
        shown_as = label[:100] if isinstance(label, str) else None
        try:
            replies = await hub.say(
                chat_id, text=text, action=action, media=media_kind, chat_type=chat_type, shown_as=shown_as
            )
        except TransientFailure:
            return _error("the database is unavailable; try again", 503)
        return JSONResponse({"replies": [r.as_json() for r in replies]})

    async def get_messages(request: Request) -> Response:
        chat_id = request.path_params["chat_id"]
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            return _error("after must be a number")
        return JSONResponse({"messages": [e.as_json() for e in hub.history(chat_id, after)]})

    return [
        Route("/simulator", page),
        Route("/simulator/api/chats", list_chats, methods=["GET"]),
        Route("/simulator/api/chats", open_chat, methods=["POST"]),
        Route("/simulator/api/chats/{chat_id}/messages", post_message, methods=["POST"]),
        Route("/simulator/api/chats/{chat_id}/messages", get_messages, methods=["GET"]),
    ]


async def _json(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return None
    try:
        value = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _error(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": message}, status_code=status)
