"""A thin async client for the Zalo Bot Platform API, with typed errors.

Replies are `{"ok": true, "result": …}` or `{"ok": false, "error_code": N, "description": …}`, sometimes with HTTP
200 and sometimes with the matching status; a proxy may answer with an HTML page. All of these become either a result
or one of the errors below. The token sits in the URL path: it is never logged (and logging redacts /bot… anyway).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import structlog

from bot.observability.metrics import platform_error

Sleep = Callable[[float], Awaitable[None]]
log = structlog.get_logger(__name__)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """What httpx would build for each client (the CA bundle read and parsed: 10-50 ms of CPU), built once per process
    and shared by every client, as an SSLContext may be. HTTP/1.1 clients only: httpcore sets the context's ALPN
    protocols per connection, so a client with http2=True must build its own."""
    return httpx.create_ssl_context()


class ZaloError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class ZaloUnauthorized(ZaloError):
    """401: the token is wrong or revoked."""


class ZaloForbidden(ZaloError):
    """403: this chat cannot be messaged (the person blocked or left the bot)."""


class ZaloNotFound(ZaloError):
    """404: unknown method or chat."""


class ZaloNoUpdates(ZaloError):
    """408 from getUpdates: nothing arrived within the timeout (a normal answer)."""


class ZaloRateLimited(ZaloError):
    """429: too many requests."""


class ZaloServerError(ZaloError):
    """5xx, an unreadable answer, or the network: worth retrying."""


class ZaloBadRequest(ZaloError):
    """Any other refusal: retrying the same request will not help."""


_BY_CODE: dict[int, type[ZaloError]] = {
    401: ZaloUnauthorized,
    403: ZaloForbidden,
    404: ZaloNotFound,
    408: ZaloNoUpdates,
    429: ZaloRateLimited,
}


def error_for(code: int, description: str) -> ZaloError:
    if code >= 500:
        return ZaloServerError(code, description)
    return _BY_CODE.get(code, ZaloBadRequest)(code, description)


class ZaloClient:
    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        attempts: int = 5,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}"
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=45.0), verify=tls_context())
        self._sleep = sleep
        self._attempts = attempts

    async def call(self, method: str, payload: dict[str, Any] | None = None, *, wait: float | None = None) -> Any:
        """One request, no retry; `wait` overrides the read timeout (long polling). Errors are counted by code in
        the metrics (408, "nothing arrived" to a long poll, is an answer, not an error)."""
        try:
            return await self._request(method, payload, wait)
        except ZaloError as exc:
            if not isinstance(exc, ZaloNoUpdates):
                platform_error("zalo", None if exc.code == 599 else exc.code)
            raise

    async def _request(self, method: str, payload: dict[str, Any] | None, wait: float | None) -> Any:
        limit: Any = wait if wait is not None else httpx.USE_CLIENT_DEFAULT
        try:
            response = await self._http.post(f"{self._url}/{method}", json=payload or {}, timeout=limit)
        except httpx.TimeoutException as exc:
            raise ZaloServerError(599, f"timeout calling {method}") from exc
        except httpx.HTTPError as exc:
            raise ZaloServerError(599, f"{type(exc).__name__} calling {method}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise error_for(response.status_code if response.status_code >= 400 else 502, "unreadable answer")
        if body.get("ok") is True and response.status_code < 400:
            return body.get("result")
        code = body.get("error_code") or (response.status_code if response.status_code >= 400 else 400)
        raise error_for(int(code), str(body.get("description", "")))

    async def call_with_retry(self, method: str, payload: dict[str, Any] | None = None) -> Any:
        """Retries rate limits and server or network errors with exponential back-off."""
        for attempt in range(self._attempts):
            try:
                return await self.call(method, payload)
            except (ZaloRateLimited, ZaloServerError) as exc:
                delay = min(30.0, (2.0 if isinstance(exc, ZaloRateLimited) else 0.5) * 2**attempt)
                log.warning("zalo_retry", method=method, code=exc.code, delay=delay)
                await self._sleep(delay)
        raise ZaloServerError(599, f"{method} failed after {self._attempts} attempts")

    async def get_me(self) -> dict[str, Any]:
        return dict(await self.call_with_retry("getMe"))

    async def get_updates(self, seconds: int) -> Any:
        """One update, or ZaloNoUpdates when nothing arrived within `seconds`."""
        return await self.call("getUpdates", {"timeout": str(seconds)}, wait=seconds + 15)

    async def set_webhook(self, url: str, secret_token: str) -> None:
        await self.call_with_retry("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        await self.call_with_retry("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> None:
        await self.call_with_retry("sendMessage", {"chat_id": chat_id, "text": text})

    async def close(self) -> None:
        await self._http.aclose()
