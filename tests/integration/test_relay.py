"""Conversations through the bot against a real database: words sealed to their conversation, pushed only to the
conversation they belong to, purged with the person's records; urgency counted from when a request became urgent."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.app import Application
from bot.db.models import AuditEventRow, OutboxRow, RelayMessageRow
from bot.db.repositories.outbox import NewMessage
from bot.domain.entities import Participant, ParticipantStatus, RiskLevel, Role
from bot.domain.planning import MessageKind
from bot.scheduler.texts import Renderer, Skip
from bot.services import relay
from tests.fakes.clock import FakeClock
from tests.support.factories import add_hanoi, add_person

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def _people(app: Application) -> tuple[Participant, Participant, int]:
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service)
        point = await service.add_point("HD", "Điểm tư vấn Hà Đông", "", "", "")
        counsellor, _ = await service.add_staff("Phạm Thu Dung", Role.COUNSELLOR, "HD", point.id, "vi")
        people = [
            (await add_person(service, name, start=date(2025, 1, 15), risk=RiskLevel.LOW))[0]
            for name in ("Nguyễn Văn An", "Đỗ Thị Bích")
        ]
    return people[0], people[1], counsellor.id


async def _talking(app: Application, person: Participant, counsellor_id: int, clock: FakeClock) -> int:
    async with app.store.transaction() as repos:
        point_id = await repos.points.first_in(person.unit_id)
        referral_id = await repos.referrals.request(person.id, "counselling", source="help", point_id=point_id)
        assert await repos.referrals.accept(referral_id, counsellor_id)
        referral = await repos.referrals.get(referral_id)
        assert referral is not None
        await relay.from_participant(repos, referral, f"lời của {person.name}", clock.now())
        await relay.from_counsellor(repos, referral, counsellor_id, f"trả lời {person.name}", clock.now())
    return referral_id


async def _render(app: Application, clock: FakeClock) -> dict[str, object]:
    """Every due row, rendered as the dispatcher would: key → text, or the reason it is skipped."""
    renderer = Renderer(app.catalogs, TZ)
    async with app.store.transaction() as repos:
        claimed = await repos.outbox.claim(clock.now(), 100, timedelta(minutes=5))
        out: dict[str, object] = {}
        for item in claimed:
            try:
                message = await renderer.render(repos, item, clock.now())
            except Exception as exc:  # the dispatcher skips such a row
                out[item.key] = type(exc).__name__
                continue
            out[item.key] = message.reason if isinstance(message, Skip) else message.text
        return out


async def test_words_reach_only_their_own_conversation(app: Application, clock: FakeClock) -> None:
    an, bich, dung = await _people(app)
    an_referral = await _talking(app, an, dung, clock)
    bich_referral = await _talking(app, bich, dung, clock)
    async with app.store.transaction() as repos:
        an_words = (await repos.relay.of_referral(an_referral, sender="counsellor"))[0]
        # A row naming Bích but pointing at An's message, as a bug or a tampered table could make it.
        forged = {"relay_id": an_words.id, "referral_id": bich_referral}
        await repos.outbox.add(
            [NewMessage("forged", MessageKind.RELAY, clock.now(), participant_id=bich.id, payload=forged)]
        )
        # An's sealed words copied onto Bích's conversation do not open there.
        rows = (await repos.session.execute(select(RelayMessageRow).order_by(RelayMessageRow.id))).scalars().all()
        an_row = next(r for r in rows if r.referral_id == an_referral and r.sender == "counsellor")
        bich_row = next(r for r in rows if r.referral_id == bich_referral and r.sender == "counsellor")
        await repos.session.execute(
            update(RelayMessageRow).where(RelayMessageRow.id == bich_row.id).values(body_enc=an_row.body_enc)
        )
    rendered = await _render(app, clock)
    assert rendered["forged"] == "mismatch"
    assert rendered[f"relay:{an_words.id}"] == "💬 Bạn có tin nhắn mới."
    assert rendered[f"relay:{bich_row.id}"] == "SealBroken"  # never An's words in Bích's chat


async def test_conversations_are_purged_with_the_persons_retention(app: Application, clock: FakeClock) -> None:
    """The retention purge (bot/services/retention.py) takes a person's conversations with everything else of theirs,
    the queued pushes about them included; someone who left a month ago keeps theirs."""
    an, bich, dung = await _people(app)
    await _talking(app, an, dung, clock)
    await _talking(app, bich, dung, clock)
    today = clock.now().astimezone(TZ).date()
    async with app.store.transaction() as repos:
        await repos.participants.update(an.id, status=ParticipantStatus.COMPLETED, completed_on=today - timedelta(400),
                                        left_on=today - timedelta(400), retain_from=today - timedelta(400))  # fmt: skip
        await repos.participants.update(bich.id, status=ParticipantStatus.COMPLETED,
                                        completed_on=today - timedelta(30), left_on=today - timedelta(30),
                                        retain_from=today - timedelta(30))  # fmt: skip
    report = await app.scheduler.planner.run()
    assert report.extra["participants_purged"] == 1
    async with app.store.transaction() as repos:
        left = (await repos.session.execute(select(RelayMessageRow.participant_id))).scalars().all()
        purges = await repos.session.execute(select(AuditEventRow).where(AuditEventRow.action == "retention_purged"))
        (purge,) = purges.scalars().all()
        queued = await repos.session.execute(select(OutboxRow.payload, OutboxRow.participant_id))
    assert sorted(left) == [bich.id, bich.id]  # Bích left a month ago: kept for now
    assert purge.detail["count"] == 1
    assert all(an.id not in (payload.get("participant_id"), person) for payload, person in queued)
    assert (await app.scheduler.planner.run()).extra.get("participants_purged") is None  # done for today
    clock.advance(days=340)
    assert (await app.scheduler.planner.run()).extra["participants_purged"] == 1


async def test_urgency_counts_from_when_a_request_became_urgent(app: Application, clock: FakeClock) -> None:
    an, _, _ = await _people(app)
    async with app.store.transaction() as repos:
        referral_id = await repos.referrals.request(an.id, "counselling", source="help")
    clock.advance(minutes=30)
    async with app.store.transaction() as repos:
        await repos.referrals.make_urgent(referral_id)
        assert await repos.referrals.urgent_waiting(clock.now() - timedelta(minutes=10)) == []
    urgent_at = clock.now()
    clock.advance(minutes=11)
    async with app.store.transaction() as repos:
        ((referral, since),) = await repos.referrals.urgent_waiting(clock.now() - timedelta(minutes=10))
    assert referral.id == referral_id and since == urgent_at


@pytest.mark.parametrize("status", [ParticipantStatus.COMPLETED, ParticipantStatus.TRANSFERRED])
async def test_who_has_left_the_list(app: Application, clock: FakeClock, status: ParticipantStatus) -> None:
    an, _, _ = await _people(app)
    today = clock.now().astimezone(TZ).date()
    async with app.store.transaction() as repos:
        await repos.participants.update(an.id, status=status, left_on=today, retain_from=today)
        assert await repos.participants.left_before(today) == []  # left today
        assert await repos.participants.left_before(today + timedelta(days=1)) == [an.id]
