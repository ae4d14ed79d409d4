"""`aftercare keys status` and `keys retire`: their JSON contracts, and the refusals (exit 1, one JSON line)."""

from __future__ import annotations

import json
from pathlib import Path

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
    retired = ok_json(local, "keys", "retire", "--key-id", first)
    assert retired["retired"] == first and [k["retired"] for k in retired["keys"]] == [True, False]
