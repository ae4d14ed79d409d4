"""The channel edge does linear work per body (issue 13 review): the webhook depth check and the mapping's text
step. Before: an unterminated string full of escapes made the depth check quadratic (1 MiB: about 45 minutes of
CPU in the event loop), and the mapping ran NFC over the whole text (100,000 alternating combining marks: seconds).

Bounds are CPU time (`time.process_time`), generous so a loaded machine does not fail them, and far below what the
quadratic versions took. The same shapes go through the real webhooks in tests/e2e/test_channel_hardening.py."""

from __future__ import annotations

import contextlib
import json
import re
import time
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.channels.text import MAX_TEXT, well_formed
from bot.channels.webhooks import MAX_BODY, MAX_DEPTH, Malformed, parse_json
from bot.flows.context import Policies

CPU_BOUND = 0.5  # seconds; the linear scan takes tens of milliseconds for 1 MiB


def cpu(work: Any, *args: Any) -> float:
    start = time.process_time()
    work(*args)
    return time.process_time() - start


def fill(size: int, unit: bytes, head: bytes = b"", tail: bytes = b"") -> bytes:
    """`head`, then `unit` repeated, then `tail`: just under `size` bytes."""
    return head + unit * ((size - len(head) - len(tail)) // len(unit)) + tail


def _parse_or_malformed(body: bytes) -> None:
    with contextlib.suppress(Malformed):
        parse_json(body)


# name: (unit, head, tail)
ADVERSARIAL = {
    "unterminated escapes": (b'\\"', b'"', b""),
    "unterminated escapes in an update": (b'\\"', b'{"update_id": 1, "message": {"text": "', b""),
    "quotes": (b'"', b"", b""),
    "backslashes after a quote": (b"\\", b'"', b""),
    "escaped backslash then quote": (b'\\\\"', b"", b""),
    "open brackets and quotes": (b'["', b"", b""),
    "brackets with escaped quotes": (b'[\\"', b"", b""),
    "unterminated strings in arrays": (b'["a\\"b",', b"", b""),
    "deep arrays": (b"[", b"", b""),
    "deep objects": (b'{"a":', b"", b""),
    "flat pairs": (b"[]", b"[", b"]"),
    "a long valid string": (b"a\\\\", b'"', b'"'),
    "unicode escapes unterminated": (b"\\u00e9", b'"', b""),
}
# Smallest first: a quadratic scan fails at 64 KiB (11 s of CPU) instead of hanging for 45 minutes at 1 MiB.
SIZES = (64 * 1024, MAX_BODY)


@pytest.mark.parametrize("shape", ADVERSARIAL.values(), ids=list(ADVERSARIAL))
def test_the_depth_check_is_linear_up_to_the_body_limit(shape: tuple[bytes, bytes, bytes]) -> None:
    for size in SIZES:
        body = fill(size, *shape)
        assert size - 8 <= len(body) <= size
        spent = cpu(_parse_or_malformed, body)
        assert spent < CPU_BOUND, f"{spent:.2f} s of CPU for {len(body)} bytes"


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


_TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\/aé\n\t\u2028🙂\ud800'), max_size=12)
_SCALARS = st.none() | st.booleans() | st.integers() | _TRICKY
_VALUES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3)
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@example(value="]", wraps=MAX_DEPTH, kinds="l", ascii=True)  # exactly at the limit: parsed
@example(value={"[": []}, wraps=MAX_DEPTH - 1, kinds="d", ascii=False)  # one over: refused
@given(
    value=_VALUES,
    wraps=st.integers(0, MAX_DEPTH + 8),
    kinds=st.text(alphabet="ld", min_size=1, max_size=4),
    ascii=st.booleans(),
)
def test_depth_check_counts_the_nesting_of_real_json(value: Any, wraps: int, kinds: str, ascii: bool) -> None:
    """Brackets, quotes and backslashes inside keys and strings never count; nesting beyond MAX_DEPTH is refused.
    `value` wrapped `wraps` times in lists (l) and objects (d), taking `kinds` in turn."""
    for index in range(wraps):
        value = [value] if kinds[index % len(kinds)] == "l" else {'k"[{\\': value}
    text = json.dumps(value, ensure_ascii=ascii)  # UTF-8 or \u escapes; lone surrogates escaped either way
    body = re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", text).encode()
    if _depth(value) > MAX_DEPTH:
        with pytest.raises(Malformed):
            parse_json(body)
    else:
        assert parse_json(body) == value


@pytest.mark.parametrize(
    "text",
    [
        "a" + "\u0301\u0316" * 500_000,  # alternating combining classes: NFC sorts them by insertion
        "Nguye\u0302\u0303n " * 150_000,
        "\ud800" * 1_000_000,
    ],
    ids=["alternating marks", "decomposed words", "lone surrogates"],
)
def test_the_mapping_text_step_is_linear_and_bounded(text: str) -> None:
    assert cpu(well_formed, text) < CPU_BOUND
    kept = well_formed(text)
    assert len(kept) == MAX_TEXT and kept == text[:MAX_TEXT].replace("\ud800", "\ufffd")
    kept.encode()  # well-formed: storable and sendable


def test_the_mapping_keeps_more_than_the_engine_reads() -> None:
    """The engine reads at most 4 × max_text_length characters; a text cut here must still be "too long" there."""
    assert 4 * Policies().max_text_length < MAX_TEXT
