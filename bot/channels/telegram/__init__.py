"""Telegram through aiogram 3: polling or webhook, inline keyboards with opaque callback data."""
