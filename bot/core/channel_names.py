"""The channels' names, in one place that imports nothing: the CLI, the composition root and the services name a
channel without importing its platform library (aiogram, httpx) or its module."""

from __future__ import annotations

TELEGRAM = "telegram"
ZALO = "zalo"
SIMULATOR = "simulator"
CHANNELS = (TELEGRAM, ZALO, SIMULATOR)
# Channels whose Bot API takes files (a person's copy of their data is sent as documents; elsewhere as a link).
TAKES_FILES = frozenset({TELEGRAM})
