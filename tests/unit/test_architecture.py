"""The core never imports a channel, the web framework or an HTTP client (also enforced by import-linter)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"
FORBIDDEN = ("aiogram", "httpx", "starlette", "fastapi", "uvicorn", "bot.channels", "bot.web", "bot.cli", "bot.runner")
CORE_PACKAGES = ("core", "domain", "flows", "services")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", CORE_PACKAGES)
def test_core_packages_import_no_adapter(package: str) -> None:
    offenders = {
        f"{path.relative_to(BOT)}: {name}"
        for path in (BOT / package).rglob("*.py")
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert not offenders


def test_the_check_would_catch_an_offender(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from aiogram import Bot\nimport httpx\n")
    assert {n for n in _imports(sample) if n.startswith(FORBIDDEN)} == {"aiogram", "httpx"}
