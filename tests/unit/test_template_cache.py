"""The console's compiled-template cache: shared by every Application of the machine, and never the cause of a page
that fails (a cache that cannot be written costs a compile)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from jinja2 import DictLoader, Environment

from bot.web.console.kit import compiled_templates


def test_a_second_environment_reads_what_the_first_compiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    templates = {"page.html": "Xin chào {{ name }}"}
    first = Environment(loader=DictLoader(templates), autoescape=True, bytecode_cache=compiled_templates())
    assert first.get_template("page.html").render(name="Bình") == "Xin chào Bình"
    assert list(tmp_path.rglob("__console_*.cache")), "compiled once, kept for the next Application"
    second = Environment(loader=DictLoader(templates), autoescape=True, bytecode_cache=compiled_templates())
    second.compile = None  # type: ignore[method-assign]  # reading the cache must not compile again
    assert second.get_template("page.html").render(name="An") == "Xin chào An"


def test_a_cache_that_cannot_be_written_still_renders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cache = compiled_templates()

    def full_disk(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full_disk)
    env = Environment(loader=DictLoader({"page.html": "{{ 2 + 3 }}"}), autoescape=True, bytecode_cache=cache)
    assert env.get_template("page.html").render() == "5"
