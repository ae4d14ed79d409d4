"""`aftercare run`: migrations first, then the web server (and, as later issues add them, channels and scheduler)."""

from __future__ import annotations

import structlog
import uvicorn

from bot.app import build_application
from bot.config import Settings
from bot.web.app import build_web

log = structlog.get_logger(__name__)


async def serve(settings: Settings) -> None:
    app = build_application(settings)
    try:
        await app.migrate()
        for name, token in (("telegram", settings.telegram_token), ("zalo", settings.zalo_token)):
            if token is not None:
                log.warning("channel_not_available_yet", channel=name)
        web = build_web(app)
        base = f"http://{settings.http_host}:{settings.http_port}"
        if settings.simulator_on:
            print(f"Đồng Hành is running. Open the chat simulator at {base}/simulator", flush=True)
        else:
            print(f"Đồng Hành is running at {base} (simulator disabled).", flush=True)
        config = uvicorn.Config(
            web, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False
        )
        await uvicorn.Server(config).serve()
    finally:
        await app.aclose()
