"""The parent of `run --workers N`: how many workers, and where their metrics go (no processes started here; the
processes themselves are tested in tests/cli/test_workers.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.config import Settings
from bot.supervisor import METRICS_DIR, metrics_directory, worker_count

POSTGRES = "postgresql+asyncpg://aftercare@db/aftercare"


def _settings(url: str, **values: object) -> Settings:
    return Settings(_env_file=None, database_url=url, **values)  # type: ignore[call-arg, arg-type]


def test_the_flag_overrides_the_setting_and_sqlite_runs_one() -> None:
    assert worker_count(_settings(POSTGRES), None) == 1
    assert worker_count(_settings(POSTGRES, workers=3), None) == 3
    assert worker_count(_settings(POSTGRES, workers=3), 2) == 2
    assert worker_count(_settings("sqlite+aiosqlite:///x.db", workers=4), None) == 1
    assert worker_count(_settings("sqlite+aiosqlite:///x.db"), 1) == 1


def test_a_private_metrics_directory_for_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(METRICS_DIR, raising=False)
    with metrics_directory() as path:
        assert os.environ[METRICS_DIR] == str(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o700 and not any(path.iterdir())
        (path / "counter_123.db").write_bytes(b"")
    assert not path.exists() and METRICS_DIR not in os.environ


def test_the_operators_metrics_directory_is_emptied_of_an_earlier_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "gauge_livesum_99.db").write_bytes(b"old")
    (given / "README").write_text("not ours")
    monkeypatch.setenv(METRICS_DIR, str(given))
    with metrics_directory() as path:
        assert path == given and sorted(p.name for p in path.iterdir()) == ["README"]
    assert given.exists() and os.environ[METRICS_DIR] == str(given)
