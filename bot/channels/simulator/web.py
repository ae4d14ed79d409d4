"""HTTP face of the simulator: a chat page and a small JSON API it (and the transcript tests) speak.

The simulator lets whoever reaches it talk as anyone, so it answers only a developer's own browser: the Host must be
a loopback name or address (or the configured host), which defeats DNS rebinding; an Origin, when sent, must be the
server's own, and POSTs must be `application/json`, which a cross-site form cannot send without a CORS preflight.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels.simulator.clock import BadInstant
from bot.channels.simulator.hub import CHAT_ID, SimulatorHub
from bot.core.messages import ChatType, MediaKind
from bot.core.ports import TransientFailure

log = structlog.get_logger(__name__)

MAX_BODY = 64 * 1024
PAGE = Path(__file__).with_name("static") / "index.html"


Endpoint = Callable[[Request], Awaitable[Response]]
NO_TIME_CONTROL = "the clock can be moved only in development (AFTERCARE_ENVIRONMENT=development)"
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}  # noqa: S104 - names that mean "every interface", never a Host header


def routes(hub: SimulatorHub, linked: Any, configured_host: str = "127.0.0.1") -> list[Route]:
    """`linked()` returns {chat_id: label} for simulator chats already linked in the database; `configured_host`
    (AFTERCARE_HTTP_HOST) is accepted as a Host besides loopback names."""
    guard = _guard(configured_host)

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

    async def get_clock(_request: Request) -> Response:
        machine = hub.time_machine
        if machine is None:
            return _error(NO_TIME_CONTROL, 403)
        return JSONResponse(machine.state())

    async def set_clock(request: Request) -> Response:
        """Jump to {"at": "2026-12-10 08:00"} (the commune's time) and run plan + dispatch there."""
        machine = hub.time_machine
        if machine is None:
            return _error(NO_TIME_CONTROL, 403)
        body = await _json(request)
        if body is None or not isinstance(body.get("at"), str):
            return _error('send {"at": "2026-12-10 08:00"}')
        try:
            return JSONResponse(await machine.jump(machine.parse(body["at"])))
        except BadInstant as exc:
            return _error(str(exc))
        except TransientFailure:
            return _error("the database is unavailable; try again", 503)
        except Exception:  # the clock moved; planning or sending there failed (the log says why)
            log.exception("simulator_tick_failed")
            return _error("the clock moved, but planning or sending failed; see the log", 500)

    return [
        Route("/simulator", guard(page)),
        Route("/simulator/api/clock", guard(get_clock), methods=["GET"]),
        Route("/simulator/api/clock", guard(set_clock), methods=["POST"]),
        Route("/simulator/api/chats", guard(list_chats), methods=["GET"]),
        Route("/simulator/api/chats", guard(open_chat), methods=["POST"]),
        Route("/simulator/api/chats/{chat_id}/messages", guard(post_message), methods=["POST"]),
        Route("/simulator/api/chats/{chat_id}/messages", guard(get_messages), methods=["GET"]),
    ]


def _guard(configured_host: str) -> Callable[[Endpoint], Endpoint]:
    own = configured_host.strip().lower().strip("[]")

    def wrap(endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            host = request.headers.get("host", "")
            name = _host_name(host)
            if name is None or not (_is_loopback(name) or (name == own and own not in WILDCARD_HOSTS)):
                return _error("the simulator answers only on this machine (open it at http://127.0.0.1)", 403)
            origin = request.headers.get("origin")
            if origin is not None and origin.lower() != f"{request.url.scheme}://{host}".lower():
                return _error("cross-origin requests are refused", 403)
            if request.method == "POST":
                media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if media_type != "application/json":
                    return _error("send Content-Type: application/json", 415)
            return await endpoint(request)

        return guarded

    return wrap


def _host_name(host: str) -> str | None:
    """The name in a Host header ("127.0.0.1:8080", "[::1]:8080", "localhost"), lower case; None if unreadable."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[1:end] if end > 0 else None
    name, _, port = host.partition(":")
    if port and not port.isdigit():
        return None
    return name or None


def _is_loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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
