"""`aftercare participant export`: everything kept about one person, as JSON or a readable PDF, made from the
database, every export audited (never its content); an operator acting --as another commune's officer is refused."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.domain.entities import Role
from bot.services import personal_export
from tests.support.cli import call, ok_json
from tests.support.factories import add_hanoi, add_person, add_ward
from tests.support.pdfs import text
from tests.support.records import audit_trail


async def _cli(env: dict[str, str], *args: str) -> Any:  # the CLI runs its own event loop
    return await asyncio.to_thread(call, env, *args)


async def test_export_json_and_pdf_audited(app: Application, env: dict[str, str], tmp_path: Path) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        await add_ward(service, "KH", "Phường Kiến Hưng")
        officer, _ = await service.add_staff("Lê Văn Cường", Role.OFFICER, "HD", None, "vi")
        other, _ = await service.add_staff("Đỗ Kiến Hưng", Role.OFFICER, "KH", None, "vi")
        an, _ = await add_person(service, "Nguyễn Văn An", national_id="001090012345")
    out = tmp_path / "an.json"
    umask = os.umask(0o022)  # the usual umask would leave the file readable by everyone (0644)
    try:
        done = await asyncio.to_thread(ok_json, env, "participant", "export", "--id", str(an.id), "--out", str(out))
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # only its owner reads a person's data
    assert done["id"] == an.id and done["format"] == "json" and done["file"] == str(out)
    data = json.loads(out.read_text("utf-8"))
    assert set(data) == set(personal_export.KEYS)
    assert data["person"]["name"] == "Nguyễn Văn An" and data["person"]["national_id"] == "001090012345"
    paper = tmp_path / "an.pdf"
    paper.write_bytes(b"old")
    paper.chmod(0o644)  # an older file in the way: replaced, and narrowed
    args = (
        "--as",
        str(officer.id),
        "participant",
        "export",
        "--id",
        str(an.id),
        "--out",
        str(paper),
        "--format",
        "pdf",
    )
    assert (await asyncio.to_thread(ok_json, env, *args))["format"] == "pdf"
    assert stat.S_IMODE(paper.stat().st_mode) == 0o600
    written = " ".join(text(paper.read_bytes()).split())
    assert "BẢN SAO DỮ LIỆU CÁ NHÂN" in written and "Nguyễn Văn An" in written and "001090012345" in written
    exports = await audit_trail(app, "personal_data_exported", subject_id=an.id)
    assert [(e.actor_type, e.actor_id, e.detail["via"], e.detail["formats"]) for e in exports] == [
        ("operator", None, "cli", ["json"]), ("operator", officer.id, "cli", ["pdf"])
    ]  # fmt: skip
    assert not any("Nguyễn" in str(e.detail) or "001090012345" in str(e.detail) for e in await audit_trail(app))

    refused = await _cli(env, "--as", str(other.id), "participant", "export", "--id", str(an.id), "--out",
                         str(tmp_path / "no.json"), "--json")  # fmt: skip
    assert refused.exit_code == 1 and not (tmp_path / "no.json").exists()
    assert [e.detail["reason"] for e in await audit_trail(app, "denied:export_personal_data")] == ["other commune"]
    missing = await _cli(env, "participant", "export", "--id", "999", "--out", str(tmp_path / "x.json"))
    assert missing.exit_code == 1 and not (tmp_path / "x.json").exists()
