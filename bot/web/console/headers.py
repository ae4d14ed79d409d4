"""Security headers on every console response: no inline script or style, no framing, no referrer (a login token is
in a URL once), nothing cached (pages hold personal data). And a limit on every request's body, counted on the bytes
that actually arrive: a chunked upload (no Content-Length) is cut off at the limit like an announced one."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")
MAX_UPLOAD = 10 * 1024 * 1024  # an import file; anything larger is refused before it is read
MAX_BODY = MAX_UPLOAD + 64 * 1024  # the file and the form's other fields


class BodyTooLarge(Exception):
    """More than the limit was announced or arrived: the page wrapper answers 413 (audited); anything else that was
    reading the body gets BodyLimit's plain 413. Nothing was written: the body is read before any transaction."""


class BodyLimit:
    """Counts a request's body as the application receives it and raises BodyTooLarge past `limit` bytes (at once
    when a larger Content-Length is announced); a body never read costs nothing."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        too_large = bool(declared) and (not declared.isdigit() or int(declared) > self.limit)
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            if too_large:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def watch_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except BodyTooLarge:
            if started:
                raise
            await send({"type": "http.response.start", "status": 413, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"18"),
            ]})  # fmt: skip
            await send({"type": "http.response.body", "body": b"Request too large\n"})


class SecurityHeaders:
    """The headers on every response, and BodyLimit under them (its 413 carries the headers too)."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = BodyLimit(app, max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/console/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [header for header in HEADERS if header[0] not in names]
                if not static and b"cache-control" not in names:
                    extra.append(NO_STORE)
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
