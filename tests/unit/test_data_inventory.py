"""The data inventory matches the models: every column of every table classified, nothing classified that does not
exist, the sealed columns as bot/db/sealed.py lists them, and docs/data-inventory.md as the generator writes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text
from sqlmodel import SQLModel

from bot.db import inventory
from bot.db.inventory import INVENTORY, REGENERATE, Data, Whose, problems
from bot.db.sealed import SEALED
from tests.support.cli import call

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-inventory.md"


def test_every_column_of_every_table_is_classified_once() -> None:
    assert problems() == [], "\n".join(problems())
    for name, table in SQLModel.metadata.tables.items():
        classes = INVENTORY[name].classes()
        assert sorted(classes) == sorted(c.name for c in table.columns), name


def test_a_new_column_or_table_fails_with_where_to_add_it() -> None:
    models = MetaData()  # a copy of the models, grown as a developer would grow them
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(models)
    models.tables["test_result"].append_column(Column("lab_name", Text))
    Table("anonymous_thing", models, Column("id", Integer, primary_key=True))
    found = problems(models)
    assert any("test_result.lab_name is not classified" in p and "bot/db/inventory.py" in p for p in found), found
    assert any("table anonymous_thing is not in the data inventory" in p for p in found)
    assert len(found) == 2


def test_nothing_classified_that_does_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    ghost = inventory.Table(Whose.NOBODY, "x", "x", "x", none="id nope")
    monkeypatch.setitem(INVENTORY, "ghost", ghost)
    monkeypatch.setitem(INVENTORY, "unit", INVENTORY["unit"].__class__(**{**vars(INVENTORY["unit"]), "none": (
        INVENTORY["unit"].none + " vanished"
    )}))  # fmt: skip
    found = problems()
    assert any("describes table ghost, which does not exist" in p for p in found)
    assert any("unit.vanished is classified" in p and "no such column" in p for p in found)


def test_sealed_columns_come_from_the_registry_and_are_personal() -> None:
    tables = {t["table"]: {c["column"]: c for c in t["columns"]} for t in inventory.inventory()}
    sealed = {(s.table, s.column) for s in SEALED}
    for table, columns in tables.items():
        for name, column in columns.items():
            assert column["at_rest"].startswith("sealed") == ((table, name) in sealed), f"{table}.{name}"
    for table, column in sealed:
        assert tables[table][column]["data"] in (Data.SENSITIVE, Data.PERSONAL)
    assert tables["participant"]["national_id_key"]["at_rest"] == "keyed hash"
    assert tables["test_result"]["result_enc"]["data"] == Data.SENSITIVE
    assert tables["unit"]["name"]["data"] == Data.NONE


def test_readers_come_from_the_authorisation_table() -> None:
    [participant] = [t for t in inventory.inventory() if t["table"] == "participant"]
    assert participant["readers"][0] == (
        "admin (their province), cadre (their assigned people), officer (their commune) — `view_participant`"
    )
    [results] = [t for t in inventory.inventory() if t["table"] == "test_result"]
    assert "counsellor" not in " ".join(results["readers"])
    assert "365" in participant["kept"] and "AFTERCARE_RETENTION_DAYS" in participant["kept"]


def test_the_committed_inventory_is_the_generated_one() -> None:
    assert DOC.read_text(encoding="utf-8") == inventory.as_markdown(), (
        f"docs/data-inventory.md is out of date: regenerate it with `{REGENERATE}` and commit it"
    )


def test_the_cli_prints_json_and_writes_markdown(tmp_path: Path) -> None:
    printed = call({}, "privacy", "inventory", "--format", "json")
    assert printed.exit_code == 0, printed.output
    tables = json.loads(printed.stdout)["tables"]
    assert [t["table"] for t in tables] == list(INVENTORY)
    assert set(tables[0]) == {"table", "whose", "purpose", "basis", "readers", "kept", "columns"}
    out = tmp_path / "inventory.md"
    written = call({}, "privacy", "inventory", "--out", str(out), "--format", "md")
    assert written.exit_code == 0 and out.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
    nowhere = call({}, "privacy", "inventory", "--format", "json", "--out", str(tmp_path / "no" / "x.json"))
    assert nowhere.exit_code == 1 and json.loads(nowhere.stdout)["error"].startswith("cannot write")
