"""The web app's outermost layer: a request id bound for every log line of the request (and returned in the
`X-Request-ID` header), and each request's duration recorded by route template.

The route label is the template the router matched (`/console/people/{id}`), read from the scope the router filled
(`route`, and `root_path` for mounts), never the raw path: a path can hold a record id or a token. A request no
route took is `unmatched`. Pure ASGI (no BaseHTTPMiddleware): streaming responses and background work keep the
request's context.
"""

from __future__ import annotations

import contextlib
import re
import time
from typing import Any

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.core.request_ids import request_scope, sane_request_id
from bot.observability.metrics import HTTP_SECONDS

HEADER = b"x-request-id"
UNMATCHED = "unmatched"
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")  # `{participant_id:int}` is labelled `{participant_id}`
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: Scope, app_root: str) -> str:
    """The matched route's path template, below any root path the server was given."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if route is None or not isinstance(path, str):
        return UNMATCHED
    # The prefix is the mounts' path as matched: a raw value if a mount had parameters (none of ours has), which
    # must never become a label. A parameter not of the route's own is a mount's: then the label says nothing.
    own = set(getattr(route, "param_convertors", {})) if not isinstance(route, Mount) else set()
    if set(scope.get("path_params") or {}) - own:
        return UNMATCHED
    prefix = str(scope.get("root_path", ""))[len(app_root) :]
    if isinstance(route, Mount):  # a mount answered itself (static files): its prefix and the rest
        return f"{prefix}/{{path}}"
    return prefix + _CONVERTOR.sub(r"{\1}", path)


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # The histogram's child per (method, route, status), looked up once: `labels()` validates and locks each time.
        self._timers: dict[tuple[str, str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or ()).get(HEADER)
        request_id = sane_request_id(incoming.decode("latin-1") if incoming else None)
        app_root = str(scope.get("root_path", ""))
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", ()), (HEADER, request_id.encode())]
            await send(message)

        started = time.perf_counter()
        try:
            with request_scope(request_id):
                await self.app(scope, receive, send_with_id)
        finally:
            with contextlib.suppress(Exception):  # a metric that cannot be written never fails the request
                label = route_label(scope, app_root)
                key = (scope["method"] if scope["method"] in METHODS else "other", label, str(status))
                timer = self._timers.get(key)
                if timer is None:
                    timer = self._timers[key] = HTTP_SECONDS.labels(*key)
                timer.observe(time.perf_counter() - started)
