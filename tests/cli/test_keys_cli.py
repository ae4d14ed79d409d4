"""`aftercare keys status` and `keys retire`: their JSON contracts, and the refusals (exit 1, one JSON line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings, rotate_local_key
from tests.support.cli import call, ok_json


def test_status_of_a_database_written_with_one_key(env: dict[str, str]) -> None:
    out = ok_json(env, "keys", "status")
    assert out["remaining"] == 0 and out["done"] is True and out["audit_remaining"] == 0
    assert out["configured_keys"] == [out["writing_key"]] and out["retirable"] == []
    [key] = out["keys"]
    assert key["key_id"] == out["writing_key"] and key["configured"] and not key["retired"]
    assert set(key) == {"key_id", "added_at", "retired", "configured", "values"}
    assert "participant.name_enc" in out["columns"] and out["invites_to_reissue"] == []


def test_retiring_the_writing_key_or_an_unknown_one_is_refused(env: dict[str, str]) -> None:
    writing = ok_json(env, "keys", "status")["writing_key"]
    for key in (writing, "000000000000"):
        result = call(env, "keys", "retire", "--key-id", key, "--json")
        assert result.exit_code == 1
        assert key in json.loads(result.stdout)["error"]


def test_a_local_rotation_with_new_then_retire(env: dict[str, str], tmp_path: Path) -> None:
    local = {k: v for k, v in env.items() if k != "AFTERCARE_ENCRYPTION_KEY"}
    first = ok_json(local, "keys", "status")["writing_key"]
    rotated = ok_json(local, "keys", "rotate", "--new")
    assert rotated["writing_key"] != first and rotated["configured_keys"] == [rotated["writing_key"], first]
    assert rotated["done"] is True and rotated["retirable"] == [first]
    human = call(local, "keys", "status")
    assert human.exit_code == 0 and "are not listed" in human.stdout  # the invite codes' limit, said where it applies
    retired = ok_json(local, "keys", "retire", "--key-id", first)
    assert retired["retired"] == first and [k["retired"] for k in retired["keys"]] == [True, False]


def test_new_is_refused_while_the_previous_rotation_is_not_done(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keys rotate --new` interrupted (the key files rotated, the data not yet), then run with --new again: refused,
    no third key; without --new it finishes, and then --new works again."""
    local = {k: v for k, v in env.items() if k != "AFTERCARE_ENCRYPTION_KEY"}
    first = ok_json(local, "keys", "rotate")["writing_key"]  # an audit entry to re-key...
    assert ok_json(local, "audit", "verify")["ok"] is True  # ...sealed under the first key
    for name, value in local.items():
        monkeypatch.setenv(name, value)
    rotate_local_key(Settings(_env_file=None))  # type: ignore[call-arg]  # --new, stopped right after the key files
    half = ok_json(local, "keys", "status")
    assert half["done"] is False and half["configured_keys"][1:] == [first]
    refused = call(local, "keys", "rotate", "--new", "--json")
    assert refused.exit_code == 1 and "not done" in json.loads(refused.stdout)["error"]
    assert ok_json(local, "keys", "status")["configured_keys"] == half["configured_keys"]  # no third key
    assert ok_json(local, "keys", "rotate")["done"] is True
    third = ok_json(local, "keys", "rotate", "--new")
    assert third["done"] is True and len(third["configured_keys"]) == 3


def test_a_database_error_during_a_rotation_is_one_json_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from bot.services import keys

    async def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE participant", {}, Exception("connection lost"))

    monkeypatch.setattr(keys, "rotate", broken)
    result = call(env, "keys", "rotate", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert "OperationalError" in error and "run `aftercare keys rotate` again" in error
