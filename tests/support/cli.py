"""Running the `aftercare` CLI in process, the way an operator's shell would, and reading its --json output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli import cli
from tests.support.config import TEST_KEY


def cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment the CLI reads its settings from, for a test's database."""
    return {
        "AFTERCARE_DATABASE_URL": database_url,
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_ENCRYPTION_KEY": TEST_KEY,
        "AFTERCARE_ENVIRONMENT": "development",
    }


def call(env: dict[str, str], *args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, input=input, catch_exceptions=False)


def ok_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run with --json; it must succeed and print exactly one JSON line."""
    result = call(env, *args, "--json")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one JSON line, got: {result.stdout!r}"
    return dict(json.loads(lines[0]))
