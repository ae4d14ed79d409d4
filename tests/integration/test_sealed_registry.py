"""bot/db/sealed.py lists every place a sealed value is stored: in a database exercised by many flows, every value
that looks sealed sits in a listed column, and every value the list finds opens where it is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from bot.app import Application
from bot.db.crypto import SEALED_PREFIXES
from bot.db.sealed import SEALED
from tests.support.exercised import exercise, opened_values


def _looks_sealed(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(SEALED_PREFIXES)
    if isinstance(value, dict):
        return any(_looks_sealed(v) for v in value.values())
    if isinstance(value, list):
        return any(_looks_sealed(v) for v in value)
    return False


async def test_every_sealed_value_is_in_a_listed_column_and_opens(app: Application) -> None:
    await exercise(app)
    listed = {(spec.table, spec.column) for spec in SEALED}
    stray = []
    async with app.store.transaction() as repos:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await repos.session.execute(select(table))).mappings():
                stray += [
                    f"{table.name}.{column}"
                    for column, value in row.items()
                    if _looks_sealed(value) and (table.name, column) not in listed and table.name != "encryption_key"
                ]
    assert stray == []
    counts = await opened_values(app.store)
    for column in (
        "participant.name_enc",
        "participant.national_id_enc",
        "participant.phone_enc",
        "channel_identity.external_id_enc",
        "conversation_state.offered_labels",
        "test_result.result_enc",
        "observation.body_enc",
        "escalation.note_enc",
    ):
        assert counts.get(column, 0) > 0, f"the exercised database holds no {column}"
