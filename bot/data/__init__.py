"""Data files shipped with the bot (crisis phrases, hotlines, canned replies); read at the composition root, never at
import time."""

from __future__ import annotations

from pathlib import Path

CRISIS_DIR = Path(__file__).resolve().parent / "crisis"


def crisis_sources(extra_dir: Path | None = None) -> list[str]:
    """The text of every crisis phrase file: the shipped ones, then the counselling team's additions."""
    files = sorted(CRISIS_DIR.glob("*.tsv"))
    if extra_dir is not None:
        files += sorted(extra_dir.glob("*.tsv"))
    return [path.read_text("utf-8") for path in files]


HOTLINES_FILE = Path(__file__).resolve().parent / "hotlines.json"


def hotlines_source(path: Path | None = None) -> str:
    return (path or HOTLINES_FILE).read_text("utf-8")


CANNED_REPLIES_FILE = Path(__file__).resolve().parent / "canned_replies.json"


def canned_replies_source(path: Path | None = None) -> str:
    return (path or CANNED_REPLIES_FILE).read_text("utf-8")


CRISIS_MODEL_FILE = CRISIS_DIR / "model.json"


def crisis_model_source(path: Path | None = None) -> str:
    """The learned stage's weights and thresholds (scripts/train_crisis_model.py writes them)."""
    return (path or CRISIS_MODEL_FILE).read_text("utf-8")
