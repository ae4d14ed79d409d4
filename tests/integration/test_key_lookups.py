"""While a key rotation is under way (new key writing, old key still configured), what was hashed under the old key is
still found: a redelivered update is not handled twice, a national ID finds its person, a console sign-in link
works; and the scheduler carries a rotation an operator started on, a bounded amount per plan tick."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest

from bot.app import Application, build_application
from bot.config import Settings
from bot.core.channel_names import TELEGRAM
from bot.core.messages import InboundMessage
from bot.db.crypto import key_id
from bot.domain.entities import Role
from bot.services import audit_chain, audit_rekey, keys, signin
from tests.fakes.clock import FakeClock
from tests.support.config import TEST_KEY
from tests.support.exercised import EngineChat, exercise, opened_values
from tests.support.factories import add_person
from tests.support.records import updates_of

NEW_KEY_BYTES = bytes(range(100, 132))
NEW_KEY = base64.urlsafe_b64encode(NEW_KEY_BYTES).decode()
POLICY = signin.SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


def _new_key_writing(app: Application) -> Settings:
    """The same database and data directory, the new key writing and the fixture's key as the previous one."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=app.settings.database_url,
        data_dir=app.settings.data_dir,
        encryption_key=NEW_KEY,  # type: ignore[arg-type]
        previous_encryption_keys=TEST_KEY,  # type: ignore[arg-type]
        environment="development",
    )


@pytest.fixture
async def rotated(app: Application, clock: FakeClock) -> AsyncIterator[Application]:
    second = build_application(_new_key_writing(app), clock=clock)
    try:
        await second.migrate()
        yield second
    finally:
        await second.aclose()


def _update(text: str) -> InboundMessage:
    return InboundMessage(channel=TELEGRAM, external_user_id="7001", text=text, dedupe_key="telegram:555")


async def test_an_update_handled_under_the_old_key_is_not_handled_again(app: Application, clock: FakeClock) -> None:
    await exercise(app)
    first = await app.conversation.handle(_update("/menu"))
    assert first and await updates_of(app, TELEGRAM, "7001") > 0
    second = build_application(_new_key_writing(app), clock=clock)  # the platform redelivers after the restart
    try:
        await second.migrate()
        again = await second.conversation.handle(_update("/menu"))
        assert await updates_of(second, TELEGRAM, "7001") == 0  # not handled again under the new chat key
    finally:
        await second.aclose()
    assert [m.text for m in again] == [m.text for m in first]  # never confirmed delivered: the same replies, resent


async def test_a_national_id_and_a_sign_in_link_from_before_are_still_found(
    app: Application, rotated: Application, clock: FakeClock
) -> None:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await service.add_unit("HN", "Thành phố Hà Nội", None)
        await service.add_unit("HD", "Phường Hà Đông", "HN")
        person, _ = await add_person(service, "Phan Văn Khoa", national_id="001099012345", start=date(2026, 1, 15))
        cadre, _ = await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
        link = await signin.issue_link(repos, app.store.keyring.token_key, clock, cadre.id, "http://x")
    token = link.url.rsplit("/", 1)[-1]
    async with rotated.store.transaction() as repos:
        assert await repos.participants.with_national_id("001 099 012 345") == [person.id]
        spent = await signin.spend_link(
            repos, rotated.store.keyring.token_key, clock, token, POLICY,
            rotated.store.keyring.token_keys[1:],
        )  # fmt: skip
    assert spent is not None and spent[0].id == cadre.id


async def test_the_scheduler_carries_a_started_rotation_on(app: Application, clock: FakeClock) -> None:
    await exercise(app)
    second = build_application(_new_key_writing(app), clock=clock)
    try:
        await second.migrate()
        second.scheduler.planner.policy = type(second.scheduler.planner.policy)(rotation_batches=1)
        idle = await second.scheduler.planner.run()  # a new key alone starts nothing: an operator starts it
        assert "keys_resealed" not in idle.extra and not (await keys.status(second.store, clock)).done
        await keys.mark_started(second.store)  # what `aftercare keys rotate` does first
        first = await second.scheduler.planner.run()
        assert first.extra.get("keys_resealed", 0) > 0
        assert not (await keys.status(second.store, clock)).done  # bounded: one batch per tick
        for _ in range(200):
            if (await keys.status(second.store, clock)).done:
                break
            await second.scheduler.planner.run()
        status = await keys.status(second.store, clock)
        assert status.done and {kid for counts in status.columns.values() for kid in counts} == {key_id(NEW_KEY_BYTES)}
        assert await opened_values(second.store)
    finally:
        await second.aclose()


async def test_the_audit_log_verifies_half_re_keyed_and_when_done(app: Application, clock: FakeClock) -> None:
    await exercise(app)
    await audit_chain.seal(app.store)
    second = build_application(_new_key_writing(app), clock=clock)
    try:
        await second.migrate()
        while (await keys.rotate(second.store, batch=10, max_batches=1)).audit_entries == 0:
            pass  # the sealed columns first, one batch a call
        async with second.store.transaction() as repos:
            half = await audit_rekey.boundary(repos)
            head = await repos.audit.head()
        assert half is not None and head is not None and 0 < half.position < head.seq  # stopped half-way
        assert (await audit_chain.verify_chain(second.store)).ok
        for writer in (app, second):  # entries written meanwhile under either key, sealed over the old head
            async with writer.store.transaction() as repos:
                await repos.audit.by_scheduler("key_rotation_test", 1, {})
        assert await audit_chain.seal(second.store) == 2
        assert (await audit_chain.verify_chain(second.store)).ok
        assert (await keys.rotate(second.store)).done
        assert (await audit_chain.verify_chain(second.store)).ok
    finally:
        await second.aclose()


async def test_a_tampered_value_is_left_as_it_is_and_keeps_the_old_key_from_retiring(
    app: Application, clock: FakeClock
) -> None:
    from sqlalchemy import select, update

    from bot.db.models import ParticipantRow

    await exercise(app)
    async with app.store.transaction() as repos:  # someone with write access copies one person's name onto another
        first, second_row, *_ = (
            await repos.session.execute(select(ParticipantRow).order_by(ParticipantRow.id))
        ).scalars()
        await repos.session.execute(
            update(ParticipantRow).where(ParticipantRow.id == second_row.id).values(name_enc=first.name_enc)
        )
    rotated = build_application(_new_key_writing(app), clock=clock)
    try:
        await rotated.migrate()
        report = await keys.rotate(rotated.store)
        assert report.unreadable == 1 and report.finished and not report.done
        status = await keys.status(rotated.store, clock)
        assert status.done is report.done and status.remaining == 1
        assert status.columns["participant.name_enc"][key_id(bytes(range(32)))] == 1
        assert status.in_use(key_id(bytes(range(32))))
    finally:
        await rotated.aclose()


async def test_a_chat_locked_out_before_the_rotation_stays_locked(app: Application, clock: FakeClock) -> None:
    commune = (await exercise(app)).commune
    guesser = EngineChat(app, "7666")
    for _ in range(20):  # wrong codes until the chat is locked out
        await guesser.say("ABCD-EFGH")
        async with app.store.transaction() as repos:
            if await repos.chats.locked_until(app.store.keyring.chat_key(TELEGRAM, "7666")) is not None:
                break
    else:
        raise AssertionError("never locked out")
    second = build_application(_new_key_writing(app), clock=clock)
    try:
        await second.migrate()
        replies = await EngineChat(second, "7666").say(commune.binh_code)  # even the right code waits for the lock
        assert "Tôi đồng ý" not in [b.label for r in replies for b in r.buttons]
    finally:
        await second.aclose()
