"""A fake Telegram Bot API server: real HTTP, Telegram's JSON, Telegram's limits, injectable faults.

It keeps a queue of updates for getUpdates (long polling with offsets), delivers updates to a registered webhook with
the secret header, records every call, and validates each call's method and required parameters against the
official machine-readable spec when `../shared/vendor/telegram-bot-api-spec/api.json` is present.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.serving import in_thread, serve_app

SPEC = Path(__file__).resolve().parents[3] / "shared" / "vendor" / "telegram-bot-api-spec" / "api.json"
BOT_ID = 7000001
BOT_USERNAME = "dong_hanh_test_bot"
SENDING = frozenset({"sendMessage", "sendDocument"})  # what counts against the bot's messages per second


@functools.cache
def official_spec() -> dict[str, Any] | None:
    """The spec, parsed once per process (0.9 MB of JSON; only read, never changed)."""
    return json.loads(SPEC.read_text(encoding="utf-8")) if SPEC.exists() else None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float
    result: Any = None
    via: str = ""  # the path prefix the bot was given (`base_url/<via>`): which process made the call


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded with a multipart call (sendDocument's `document`)."""

    filename: str
    content: bytes = field(repr=False)
    content_type: str = ""


@dataclass
class Fault:
    """One injected failure for the next call of `method`."""

    status: int
    description: str
    retry_after: int | None = None
    delay: float = 0.0
    skip: int = 0  # let this many calls of the method through first (the second of two documents)


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class FakeTelegram:
    token: str
    spec: dict[str, Any] | None = None
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str = ""
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    confirmed: int = 0  # every update below this id was confirmed by an offset
    base_url: str = ""
    # Telegram's global limit per bot: past this many messages in any one second (sliding), 429 with retry_after.
    max_per_second: int | None = None
    retry_after: int = 1

    def __post_init__(self) -> None:
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message id) → the bot's message now
        self._arrived = asyncio.Event()
        self._confirmations = asyncio.Condition()
        self._sends: collections.deque[float] = collections.deque()  # accepted messages' times, the last second
        if self.spec is None:
            self.spec = official_spec()

    # ---- what tests do -------------------------------------------------------------------------------------------

    def inject(self, method: str, fault: Fault) -> None:
        self.faults.setdefault(method, []).append(fault)

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def enqueue(self, update: dict[str, Any]) -> int:
        update.setdefault("update_id", self.next_update_id())
        self.updates.append(update)
        self._arrived.set()
        return int(update["update_id"])

    async def wait_confirmed(self, update_id: int, within: float = 10.0) -> None:
        """Until the bot asked for updates past `update_id`, which it does only after handling it."""
        async with self._confirmations:
            await asyncio.wait_for(self._confirmations.wait_for(lambda: self.confirmed > update_id), within)

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> int:
        """POST an update to the registered webhook, as Telegram does; returns the HTTP status."""
        update.setdefault("update_id", self.next_update_id())
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret if secret is None else secret}
        if secret == "":
            headers = {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, json=update, headers=headers) as r,
        ):
            return r.status

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """One of the bot's messages as it is now (keyboard removed once edited away): what Telegram puts in a
        callback query's `message`. None for a message the bot never sent."""
        stored = self._messages.get((int(chat_id), int(message_id)))
        return json.loads(json.dumps(stored)) if stored is not None else None

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method
            and c.status == 200
            and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))
        ]

    # ---- the server ----------------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application(client_max_size=20 * 2**20)  # sendDocument: files up to 20 MB here
        application.router.add_post("/bot{token}/{method}", self._handle)
        application.router.add_get("/bot{token}/{method}", self._handle)
        # the same API under a prefix (`AFTERCARE_TELEGRAM_API_URL=<base_url>/p2`): tells processes apart
        application.router.add_post("/{via}/bot{token}/{method}", self._handle)
        application.router.add_get("/{via}/bot{token}/{method}", self._handle)
        return application

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        via = request.match_info.get("via", "")
        params = await _params(request)
        if request.match_info["token"] != self.token:
            return self._reply(method, params, ApiError(401, "Unauthorized"), via)
        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                return self._reply(method, params, ApiError(fault.status, fault.description, fault.retry_after), via)
        if method in SENDING and self.max_per_second is not None and self._over_the_limit():
            error = ApiError(429, f"Too Many Requests: retry after {self.retry_after}", self.retry_after)
            return self._reply(method, params, error, via)
        try:
            self._check_spec(method, params)
            result = await getattr(self, f"_m_{method}", self._unknown)(params)
        except ApiError as error:
            return self._reply(method, params, error, via)
        if method in SENDING:
            self._sends.append(time.monotonic())
        return self._reply(method, params, result, via)

    def _over_the_limit(self) -> bool:
        """As many messages as the limit were accepted within the last second (counted on arrival)."""
        horizon = time.monotonic() - 1.0
        while self._sends and self._sends[0] <= horizon:
            self._sends.popleft()
        return self.max_per_second is not None and len(self._sends) >= self.max_per_second

    def rate_limited(self) -> list[Call]:
        return [c for c in self.calls if c.status == 429]

    def busiest_second(self, method: str = "sendMessage") -> int:
        """The most messages accepted within any one second (a sliding window over every accepted call's time)."""
        times = sorted(c.at for c in self.sent(method))
        busiest, first = 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= 1.0:
                first += 1
            busiest = max(busiest, last - first + 1)
        return busiest

    def _take_fault(self, method: str) -> Fault | None:
        queue = self.faults.get(method)
        if queue and queue[0].skip > 0:
            queue[0].skip -= 1
            return None
        return queue.pop(0) if queue else None

    def _reply(self, method: str, params: dict[str, Any], outcome: Any, via: str = "") -> web.Response:
        if isinstance(outcome, ApiError):
            self.calls.append(Call(method, params, outcome.status, time.monotonic(), via=via))
            body: dict[str, Any] = {"ok": False, "error_code": outcome.status, "description": outcome.description}
            if outcome.retry_after is not None:
                body["parameters"] = {"retry_after": outcome.retry_after}
            return web.json_response(body, status=outcome.status)
        self.calls.append(Call(method, params, 200, time.monotonic(), outcome, via))
        return web.json_response({"ok": True, "result": outcome})

    def _check_spec(self, method: str, params: dict[str, Any]) -> None:
        if self.spec is None:
            return
        spec = self.spec["methods"].get(method)
        if spec is None:
            raise ApiError(404, "Not Found: method not found")
        known = {f["name"] for f in spec.get("fields", [])} | {"request_timeout"}
        for field_spec in spec.get("fields", []):
            if field_spec.get("required") and field_spec["name"] not in params:
                raise ApiError(400, f"Bad Request: parameter {field_spec['name']} is required")
        unknown = set(params) - known
        if unknown:
            raise ApiError(400, f"Bad Request: unknown parameters {sorted(unknown)}")

    async def _unknown(self, _params: dict[str, Any]) -> Any:
        raise ApiError(404, "Not Found")

    # ---- methods -------------------------------------------------------------------------------------------------

    async def _m_getMe(self, _p: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Đồng Hành",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook")
        offset = int(p.get("offset", 0) or 0)
        limit = int(p.get("limit", 100) or 100)
        timeout = float(p.get("timeout", 0) or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
            async with self._confirmations:
                self.confirmed = max(self.confirmed, offset)
                self._confirmations.notify_all()
        deadline = time.monotonic() + timeout
        while not self.updates and time.monotonic() < deadline:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
        return self.updates[:limit]

    async def _m_setWebhook(self, p: dict[str, Any]) -> bool:
        secret = p.get("secret_token", "")
        if secret and not (1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook_url, self.webhook_secret = p["url"], secret
        if str(p.get("drop_pending_updates", "")).lower() == "true":
            self.updates.clear()
        return True

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if str(p.get("drop_pending_updates", "")).lower() == "true":
            self.updates.clear()
        return True

    async def _m_getWebhookInfo(self, _p: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    async def _m_setMyCommands(self, p: dict[str, Any]) -> bool:
        commands = _json_field(p, "commands")
        if not isinstance(commands, list) or not 1 <= len(commands) <= 100:
            raise ApiError(400, "Bad Request: commands must be a non-empty list")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not (1 <= len(name) <= 32 and name.islower()) or not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands[p.get("language_code", "")] = commands
        return True

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        text = p.get("text", "")
        if not 1 <= utf16_len(text) <= 4096:
            raise ApiError(
                400, "Bad Request: message text is empty" if not text else "Bad Request: message is too long"
            )
        if "reply_markup" in p:
            _check_markup(_json_field(p, "reply_markup"))
        return self._message(p["chat_id"], text, p.get("reply_markup"))

    async def _m_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        document = p.get("document")
        if not isinstance(document, UploadedFile) or not document.content:
            raise ApiError(400, "Bad Request: there is no document in the request")
        if len(document.content) > 50 * 2**20:
            raise ApiError(400, "Bad Request: file is too big")
        message = self._message(p["chat_id"], "", p.get("reply_markup"))
        message.pop("text", None)
        message["document"] = {
            "file_name": document.filename,
            "file_id": f"doc{message['message_id']}",
            "file_unique_id": f"u{message['message_id']}",
            "file_size": len(document.content),
        }
        return message

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        markup = _json_field(p, "reply_markup") if "reply_markup" in p else None
        if markup is not None:
            _check_markup(markup)
        if not (("chat_id" in p and "message_id" in p) or "inline_message_id" in p):
            raise ApiError(400, "Bad Request: message identifier is not specified")
        if "inline_message_id" in p:
            return True
        message = self._messages.get((int(p["chat_id"]), int(p["message_id"])))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if (message.get("reply_markup") or None) == (markup if markup and markup.get("inline_keyboard") else None):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message",
            )
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return dict(message)

    async def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        if not 1 <= utf16_len(p.get("text", "")) <= 4096:
            raise ApiError(400, "Bad Request: text must be 1-4096 characters")
        return self._message(p["chat_id"], p["text"], p.get("reply_markup"))

    async def _m_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        if len(p.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: text is too long")
        return True

    async def _m_sendChatAction(self, _p: dict[str, Any]) -> bool:
        return True

    def _message(self, chat_id: Any, text: str, markup: Any) -> dict[str, Any]:
        chat = int(chat_id)
        message: dict[str, Any] = {
            "message_id": self.next_message_id(),
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Đồng Hành"},
            "text": text,
        }
        if markup:
            message["reply_markup"] = _json_field({"m": markup}, "m")
        self._messages[(chat, message["message_id"])] = json.loads(json.dumps(message))
        return message


def _json_field(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc
    return value


def _check_markup(markup: Any) -> None:
    """Inline keyboards the way Telegram checks them: rows of buttons, text, exactly one action, 1-64 byte data."""
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(
            400, 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            actions = [
                k for k in ("callback_data", "url", "switch_inline_query", "pay", "web_app", "login_url") if k in button
            ]
            if len(actions) != 1:
                raise ApiError(400, "Bad Request: inline keyboard button must have exactly one action")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return {k: v for k, v in body.items()}
    form = await request.post()
    params: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    for k, v in form.items():  # a multipart upload (sendDocument): recorded as an UploadedFile
        if isinstance(v, web.FileField):
            params[k] = UploadedFile(v.filename, v.file.read(), v.content_type)
    for k, v in list(params.items()):  # "attach://<name>": the file uploaded under that name (what aiogram sends)
        if isinstance(v, str) and v.startswith("attach://") and isinstance(params.get(v[9:]), UploadedFile):
            params[k] = params.pop(v[9:])
    params.update({k: v for k, v in request.query.items()})
    return params


def running_in_thread(make: Any) -> AbstractContextManager[FakeTelegram]:
    return in_thread(make, running)


@asynccontextmanager
async def running(fake: FakeTelegram) -> AsyncIterator[FakeTelegram]:
    async with serve_app(fake.app()) as base_url:
        fake.base_url = base_url
        yield fake
