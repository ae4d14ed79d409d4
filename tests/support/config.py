"""Fixed secrets for tests: the key every test database is sealed with and the fake platforms' bot tokens."""

from __future__ import annotations

import base64

TEST_KEY_BYTES = bytes(range(32))
TEST_KEY = base64.urlsafe_b64encode(TEST_KEY_BYTES).decode()
TELEGRAM_TOKEN = "123456789:AAE-test-token-for-the-fake-bot-api"
ZALO_TOKEN = "1234567890:zalo-test-token-for-the-fake-platform"
