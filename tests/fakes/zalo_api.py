"""A fake Zalo Bot Platform API: real HTTP, the platform's JSON and limits, injectable faults.

getUpdates hands out one update at a time and answers `ok:false, error_code 408` when nothing arrived within the
timeout (and refuses while a webhook is set); webhooks are delivered with `X-Bot-Api-Secret-Token`, bare or wrapped in
`{"ok": true, "result": …}`. Faults: any status with Zalo's JSON error, an HTML 502 page, `ok:false` with HTTP 200,
and slow replies.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from tests.fakes.serving import in_thread, serve_app

BOT_ID = "zbot-1"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int


@dataclass
class Fault:
    status: int = 0  # 0: no error, only the delay
    description: str = ""
    shape: Literal["json", "html", "ok-false-200"] = "json"
    delay: float = 0.0


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class FakeZalo:
    token: str
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str = ""
    base_url: str = ""
    polls: int = 0  # getUpdates calls received

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._changed = asyncio.Condition()
        self._handed: dict[str, int] = {}  # message id → the poll that handed it out

    # ---- what tests do -------------------------------------------------------------------------------------------

    def inject(self, method: str, fault: Fault) -> None:
        self.faults.setdefault(method, []).append(fault)

    def next_id(self) -> str:
        return f"m{next(self._ids)}"

    def enqueue(self, update: dict[str, Any]) -> str:
        self.updates.append(update)
        self._arrived.set()
        return str(update["message"]["message_id"])

    def enqueue_raw(self, payload: Any) -> None:
        """Any JSON value as the next update, however malformed (what a fuzz test or a broken platform sends)."""
        self.updates.append(payload)
        self._arrived.set()

    async def wait_handled(self, message_id: str, within: float = 10.0) -> None:
        """Until the bot polled again after receiving this update, which it does only after handling it."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: message_id in self._handed and self.polls > self._handed[message_id]),
                within,
            )

    async def deliver(self, update: dict[str, Any], secret: str | None = None, wrapped: bool = False) -> int:
        body = {"ok": True, "result": update} if wrapped else update
        headers = {} if secret == "" else {"X-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        async with aiohttp.ClientSession() as session, session.post(self.webhook_url, json=body, headers=headers) as r:
            return r.status

    def sent(self, chat_id: str | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == "sendMessage" and c.status == 200 and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    # ---- the server ----------------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_post("/bot{token}/{method}", self._handle)
        return application

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return self._error(method, {}, ApiError(400, "Bad Request: body must be a JSON object"))
        if request.match_info["token"] != self.token:
            return self._error(method, params, ApiError(401, "Unauthorized"))
        queue = self.faults.get(method)
        fault = queue.pop(0) if queue else None
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                return self._fault(method, params, fault)
        try:
            result = await getattr(self, f"_m_{method}", self._unknown)(params)
        except ApiError as error:
            return self._error(method, params, error)
        self.calls.append(Call(method, params, 200))
        return web.json_response({"ok": True, "result": result})

    def _error(self, method: str, params: dict[str, Any], error: ApiError) -> web.Response:
        self.calls.append(Call(method, params, error.code))
        body = {"ok": False, "error_code": error.code, "description": error.description}
        return web.json_response(body, status=error.code if error.code != 408 else 200)

    def _fault(self, method: str, params: dict[str, Any], fault: Fault) -> web.Response:
        self.calls.append(Call(method, params, fault.status))
        if fault.shape == "html":
            html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            return web.Response(text=html, status=fault.status, content_type="text/html")
        body = {"ok": False, "error_code": fault.status, "description": fault.description}
        return web.json_response(body, status=200 if fault.shape == "ok-false-200" else fault.status)

    async def _unknown(self, _p: dict[str, Any]) -> Any:
        raise ApiError(404, "Not Found: method not found")

    # ---- methods -------------------------------------------------------------------------------------------------

    async def _m_getMe(self, _p: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "account_name": "bot.DongHanh", "account_type": "BASIC", "can_join_groups": False}

    async def _m_getUpdates(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: webhook is active; delete it before polling")
        async with self._changed:
            self.polls += 1
            self._changed.notify_all()
        deadline = time.monotonic() + float(p.get("timeout", 30) or 0)
        while not self.updates and time.monotonic() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        if not self.updates:
            raise ApiError(408, "Request timeout")
        update = self.updates.pop(0)
        message = update.get("message") if isinstance(update, dict) else None
        message_id = message.get("message_id") if isinstance(message, dict) else None
        async with self._changed:
            if isinstance(message_id, str | int):
                self._handed[str(message_id)] = self.polls
        return update

    async def _m_setWebhook(self, p: dict[str, Any]) -> dict[str, Any]:
        url, secret = p.get("url", ""), p.get("secret_token", "")
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: url is invalid")
        if not 8 <= len(secret) <= 256:
            raise ApiError(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook_url, self.webhook_secret = url, secret
        return {"url": url, "updated_at": int(time.time() * 1000)}

    async def _m_deleteWebhook(self, _p: dict[str, Any]) -> dict[str, Any]:
        self.webhook_url = ""
        return {"url": "", "updated_at": int(time.time() * 1000)}

    async def _m_getWebhookInfo(self, _p: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "updated_at": int(time.time() * 1000)}

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat_id, text = p.get("chat_id"), p.get("text")
        if not isinstance(chat_id, str) or not chat_id:
            raise ApiError(400, "Bad Request: chat_id is required")
        if not isinstance(text, str) or not 1 <= len(text) <= 2000:
            raise ApiError(400, "Bad Request: text must be 1-2000 characters")
        return {"message_id": self.next_id(), "date": int(time.time() * 1000)}

    async def _m_sendChatAction(self, p: dict[str, Any]) -> bool:
        if p.get("action") not in ("typing", "upload_photo"):
            raise ApiError(400, "Bad Request: action is invalid")
        return True


def running_in_thread(make: Any) -> AbstractContextManager[FakeZalo]:
    return in_thread(make, running)


@asynccontextmanager
async def running(fake: FakeZalo) -> AsyncIterator[FakeZalo]:
    async with serve_app(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake
