"""Benchmark: CPU time of one message through the conversation engine, for the largest message the bot accepts.

Not part of the test suite; it prints figures. Run:
    .venv/bin/python -m bench.message_cpu [--repeat 20]
With AFTERCARE_TEST_POSTGRES_URL set, PostgreSQL is measured too (a scratch database is created and dropped).

Why: every message a participant sends is cleaned and screened for a crisis before any flow sees it; an attacker (or
a pasted document) controls its length. The figures are the process CPU time (`time.process_time`, so SQLite's worker
thread counts too) of `ConversationEngine.handle` for: a message of exactly `max_text_length` characters of ordinary
words, the same with a crisis phrase at its start (safety reply, alerts), and messages of 10,000 and 100,000
characters, which get the "too long" reply (only their first 4 × `max_text_length` characters are cleaned and
screened: a crisis phrase there is still answered). Each message comes from its own linked chat.
Target: ≤ 20 ms of CPU per maximum-length message.

Before issue 13 (same machine, SQLite, median of 5, measured with this module on commit 6dbebb8): 4,000 characters of
ordinary words 21.6 ms, with a crisis phrase first 20.9 ms, of one-letter words 37.8 ms; 10,000 characters 47.8 ms,
100,000 characters 443.9 ms, 100,000 combining marks 24.7 ms (the issue's 0.6 s and 5.3 s for 10,000 and 100,000
characters were measured on a loaded machine). The matching, words × phrases, ran inside the write transaction; the
cleaning normalised the whole text, and alternating combining marks make NFC quadratic (20,000 marks: 0.3–0.6 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench.common import ok, participant_chat, seed_population, settings_for
from bot.app import build_application
from bot.core.messages import InboundMessage
from tests.fakes.databases import postgres_base_url, postgres_database, sqlite_url

TARGET_MS = 20.0
BEFORE_MS = (21.6, 20.9, 37.8, 47.8, 443.9, 24.7)  # the cases below, in order, before issue 13
SENTENCE = (
    "hôm nay mình đi làm về muộn, trời mưa to, đường ngập nước nhưng mọi việc vẫn ổn; cảm ơn cán bộ đã hỏi thăm. "
)
CRISIS = "mình muốn chết, không muốn sống nữa. "


def _text(length: int, start: str = "") -> str:
    return (start + SENTENCE * (length // len(SENTENCE) + 1))[:length]


async def _run(url: str, data_dir: Path, repeat: int) -> None:
    app = build_application(settings_for(url, data_dir))
    await app.migrate()
    try:
        longest = app.conversation.policies.max_text_length
        cases = [
            (f"{longest:,} characters, ordinary words", _text(longest), True),
            (f"{longest:,} characters, crisis phrase first", _text(longest, CRISIS), True),
            (f"{longest:,} characters, one-letter words", ("a " * longest)[:longest], True),
            ("10,000 characters (too long)", _text(10_000), False),
            ("100,000 characters (too long)", _text(100_000), False),
            ("100,000 combining marks (too long)", "a" + "\u0301" * 99_999, False),
        ]
        population = await seed_population(app, len(cases) * (repeat + 1), date(2026, 1, 5), datetime.now(UTC))
        people = iter(range(population.first_participant, population.last_participant + 1))
        for (label, text, accepted), before in zip(cases, BEFORE_MS, strict=True):
            samples: list[float] = []
            for round_ in range(repeat + 1):
                msg = InboundMessage(channel="telegram", external_user_id=participant_chat(next(people)), text=text)
                started = time.process_time()
                await app.conversation.handle(msg)
                if round_:  # the first round warms caches (statements, translations)
                    samples.append((time.process_time() - started) * 1000)
            median, worst = statistics.median(samples), max(samples)
            verdict = f"  (target ≤ {TARGET_MS:.0f} ms: {ok(median <= TARGET_MS)})" if accepted else ""
            print(
                f"  {label:<42} median {median:6.1f} ms  max {worst:6.1f} ms CPU  (before: {before:5.1f} ms){verdict}"
            )
    finally:
        await app.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite:")
        asyncio.run(_run(sqlite_url(Path(tmp)), Path(tmp), args.repeat))
        base = postgres_base_url()
        if base:
            with postgres_database(base) as url:
                print("PostgreSQL:")
                asyncio.run(_run(url, Path(tmp), args.repeat))


if __name__ == "__main__":
    main()
