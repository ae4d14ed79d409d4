"""Folding typed text for matching: case, width and Vietnamese diacritics do not matter ("Đỗ" finds "do")."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())
