"""Repositories against a real database: encryption at rest, single-use invites, consent history, audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from bot.app import Application
from bot.domain.consent import Purpose
from bot.domain.entities import RiskLevel, Role
from bot.domain.invites import hash_code, normalize_code
from bot.services.enrolment import EnrolmentError
from tests.fakes.clock import FakeClock
from tests.support.factories import add_hanoi, add_person


async def _commune(app: Application) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)


async def test_names_and_national_ids_are_encrypted_at_rest(app: Application) -> None:
    await _commune(app)
    async with app.store.transaction() as repos:
        person, _ = await add_person(
            app.enrolment(repos), "Nguyễn Văn An", risk=RiskLevel.HIGH, national_id="001099012345"
        )
    async with app.engine.connect() as connection:
        raw = (await connection.execute(text("SELECT * FROM participant"))).mappings().one()
    dumped = " ".join(str(value) for value in raw.values())
    assert "Nguyễn" not in dumped and "Nguyen" not in dumped and "001099012345" not in dumped
    assert str(raw["name_enc"]).startswith("v3:")
    async with app.store.transaction() as repos:
        loaded = await repos.participants.get(person.id)
    assert loaded is not None and loaded.name == "Nguyễn Văn An" and loaded.national_id == "001099012345"
    assert loaded.expected_end == date(2027, 1, 15)


async def test_invite_codes_are_stored_only_as_keyed_hashes(app: Application) -> None:
    await _commune(app)
    async with app.store.transaction() as repos:
        _, invite = await app.enrolment(repos).add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
    async with app.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT code_hash FROM invite_code"))).scalars().all()
    plain = normalize_code(invite.code)
    assert plain is not None
    assert rows == [hash_code(app.store.keyring.code_key, plain)]
    assert all(plain not in row for row in rows)


async def test_redeem_is_single_use_and_respects_expiry(app: Application, clock: FakeClock) -> None:
    await _commune(app)
    async with app.store.transaction() as repos:
        member, first = await app.enrolment(repos).add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
        second = await app.enrolment(repos).issue_staff_invite(member.id)
    key = app.store.keyring.code_key
    async with app.store.transaction() as repos:
        assert await repos.invites.redeem(hash_code(key, normalize_code(first.code) or "")) is None  # revoked
        target = await repos.invites.redeem(hash_code(key, normalize_code(second.code) or ""))
        assert target is not None and target.staff_id == member.id
        assert await repos.invites.redeem(hash_code(key, normalize_code(second.code) or "")) is None  # used
        third = await app.enrolment(repos).issue_staff_invite(member.id)
    clock.advance(days=15)
    async with app.store.transaction() as repos:
        assert await repos.invites.redeem(hash_code(key, normalize_code(third.code) or "")) is None  # expired


async def test_consent_history_and_silence(app: Application, clock: FakeClock) -> None:
    await _commune(app)
    async with app.store.transaction() as repos:
        person, _ = await add_person(app.enrolment(repos), "An", start=date(2026, 1, 1), risk=RiskLevel.LOW)
        assert await repos.consents.current(person.id) == {}  # silence is not consent
        await repos.consents.record(person.id, Purpose.REFERRALS, True, "v1")
        clock.advance(minutes=1)
        await repos.consents.record(person.id, Purpose.REFERRALS, False, "v1")
        assert await repos.consents.current(person.id) == {Purpose.REFERRALS: False}
        assert [row.granted for row in await repos.consents.history(person.id)] == [True, False]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit_code": "HN"}, "commune, not a province"),
        ({"unit_code": "XX"}, "no unit with code XX"),
        ({"term_months": 18}, "12, 24"),
        ({"language": "fr"}, "language must be"),
        ({"cadre_id": 999}, "not a cadre of HD"),
        ({"name": "  "}, "needs a name"),
    ],
)
async def test_enrolment_refuses_bad_input(app: Application, kwargs: dict[str, object], message: str) -> None:
    await _commune(app)
    values: dict[str, object] = {
        "name": "An",
        "unit_code": "HD",
        "start": date(2026, 1, 1),
        "term_months": 12,
        "cadre_id": None,
        "risk": RiskLevel.LOW,
        "language": "vi",
    } | kwargs
    with pytest.raises(EnrolmentError, match=message):
        async with app.store.transaction() as repos:
            await app.enrolment(repos).add_participant(**values)  # type: ignore[arg-type]


async def test_staff_roles_must_fit_their_unit(app: Application) -> None:
    await _commune(app)
    cases = [
        (Role.ADMIN, "HD", None, "admin belongs to a province"),
        (Role.CADRE, "HN", None, "cadre belongs to a commune"),
        (Role.COUNSELLOR, "HD", None, "needs --point"),
        (Role.OFFICER, "HD", 1, "only counsellors"),
    ]
    for role, unit, point, message in cases:
        with pytest.raises(EnrolmentError, match=message):
            async with app.store.transaction() as repos:
                await app.enrolment(repos).add_staff("X", role, unit, point, "vi")


async def test_a_failed_transaction_leaves_nothing_behind(app: Application) -> None:
    await _commune(app)
    with pytest.raises(EnrolmentError):
        async with app.store.transaction() as repos:
            await app.enrolment(repos).add_staff("Bình", Role.CADRE, "HD", None, "vi")
            await app.enrolment(repos).add_staff("X", Role.ADMIN, "HD", None, "vi")
    async with app.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM staff_member"))).scalar_one() == 0
