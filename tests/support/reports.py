"""A commune whose every figure of November 2026 is computed by hand (golden tables), shared by the report's tests
(service, CLI, console, documents): people listed before and during the period, a move in the middle of the month
(out of Hà Đông, into Cầu Giấy), an unreported absence that pushes a term past the period, a completion on the last
day, a check-in by chat and a crisis at 23:30 local time on the last day (November's), a crisis at 00:30 on the first
(December's, though UTC still says November), a person with no linked chat, a refused test, a request for training
asked twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.app import Application
from bot.db.models import ChannelIdentityRow, EscalationRow, ObligationRow, ReferralEventRow
from bot.domain.entities import Role
from bot.domain.fieldwork import InPersonOutcome, ReviewProgress, TestOutcome
from bot.domain.reports.figures import COUNT_KEYS
from bot.domain.reports.period import parse_period
from bot.services import completion
from bot.services import fieldwork as records
from bot.services.absences import record_absence
from bot.services.operators import Operator
from tests.fakes.clock import FakeClock
from tests.support.factories import add_hanoi, add_person, add_point

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
NOVEMBER = parse_period("2026-11")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=HANOI).astimezone(UTC)


async def build_communes(app: Application, clock: FakeClock) -> dict[str, int]:
    """Seven people of Phường Hà Đông (HD) and what happened to them in November 2026 (see each comment)."""
    clock.set(local(date(2026, 12, 2), 9))
    async with app.store.transaction() as repos:
        service = app.enrolment(repos)
        await add_hanoi(service, ("CG", "Phường Cầu Giấy"), ("TX", "Phường Thanh Xuân"))
        officer, _ = await service.add_staff("Lê Văn Cường", Role.OFFICER, "HD", None, "vi")
        cg_officer, _ = await service.add_staff("Đỗ Văn Hùng", Role.OFFICER, "CG", None, "vi")
        cadre, _ = await service.add_staff("Trần Thị Bình", Role.CADRE, "HD", None, "vi")
        admin, _ = await service.add_staff("Hoàng Minh Em", Role.ADMIN, "HN", None, "vi")
        point = await add_point(service)
        counsellor, _ = await service.add_staff("Phạm Thu Dung", Role.COUNSELLOR, "HD", point.id, "vi")
        an, _ = await add_person(service, "Nguyễn Văn An", start=date(2025, 6, 1), months=24, cadre_id=cadre.id)
        binh, _ = await add_person(service, "Lý Thị Bình", start=date(2026, 11, 20), months=12)  # listed mid-month
        cuong, _ = await add_person(service, "Vũ Văn Cường", start=date(2025, 11, 30), months=12)  # ends 30/11/2026
        dung, _ = await add_person(service, "Đặng Văn Dũng", start=date(2026, 1, 10), months=24)  # moves 15/11
        em, _ = await add_person(service, "Ngô Văn Em", start=date(2025, 11, 1), months=12)  # absent, past the end
        giang, _ = await add_person(service, "Bùi Văn Giang", start=date(2026, 3, 1), months=12)  # crises
        ha, _ = await add_person(service, "Phan Thị Hà", start=date(2026, 2, 1), months=12)  # positive, unreachable
        ids = {"an": an.id, "binh": binh.id, "cuong": cuong.id, "dung": dung.id, "em": em.id, "giang": giang.id,
               "ha": ha.id, "officer": officer.id, "cg_officer": cg_officer.id, "cadre": cadre.id, "admin": admin.id,
               "counsellor": counsellor.id}  # fmt: skip

        def duty(person: int, kind: str, due: date, status: str) -> ObligationRow:
            return ObligationRow(key=f"t:{person}:{kind}:{due}", participant_id=person, kind=kind, due_on=due,
                                 status=status, created_at=clock.now())  # fmt: skip

        rows = [
            duty(an.id, "checkin", date(2026, 11, 10), "done"),  # self-reported by chat, below
            duty(an.id, "test", date(2026, 11, 15), "done"),
            duty(dung.id, "checkin", date(2026, 11, 10), "missed"),  # in Hà Đông: he moved on the 15th
            duty(dung.id, "random_test", date(2026, 11, 20), "done"),  # in Cầu Giấy: refused
            duty(giang.id, "checkin", date(2026, 11, 10), "done"),  # by chat at 23:30 on 30/11, below
            duty(giang.id, "checkin", date(2026, 11, 5), "cancelled"),  # cancelled: never counted
            duty(ha.id, "test", date(2026, 11, 15), "done"),
            duty(an.id, "checkin", date(2026, 10, 10), "done"),  # October: not November's
        ]
        repos.session.add_all(rows)
        await repos.session.flush()
        await repos.checkins.save(rows[0].id or 0, an.id, {"mood": "4"}, complete=True, risky=False)
        # Giang checks in late, at 23:30 on the month's last day (16:30 UTC): November's.
        clock.set(local(date(2026, 11, 30), 23, 30))
        await repos.checkins.save(rows[4].id or 0, giang.id, {"mood": "3"}, complete=True, risky=False)
        clock.set(local(date(2026, 12, 2), 9))
        await repos.fieldwork.record_in_person(an.id, date(2026, 11, 12), InPersonOutcome.PRESENT, None, cadre.id)
        await repos.fieldwork.record_in_person(giang.id, date(2026, 11, 12), InPersonOutcome.ABSENT, "ốm", cadre.id)
        await repos.fieldwork.add_test_result(
            an.id, rows[1].id, TestOutcome.NEGATIVE, None, "Trạm y tế", date(2026, 11, 15), cadre.id
        )
        await repos.fieldwork.add_test_result(
            ha.id, rows[6].id, TestOutcome.POSITIVE, None, "Trạm y tế", date(2026, 11, 16), cadre.id
        )
        await repos.fieldwork.add_test_result(
            dung.id, rows[3].id, TestOutcome.REFUSED, None, "Trạm y tế", date(2026, 11, 20), cg_officer.id
        )
        # Quarterly reviews for the quarter ending 30/09: An good, Hà concerning; the others missing.
        await repos.fieldwork.save_review(an.id, "2026-Q3", cadre.id, ReviewProgress.GOOD, "Tiến bộ")
        await repos.fieldwork.save_review(ha.id, "2026-Q3", cadre.id, ReviewProgress.CONCERNING, "Cần theo dõi")
        # Chats: An and Giang reachable, Hà's only chat unreachable, Bình none.
        for number, (person, unreachable) in enumerate(((an.id, False), (giang.id, False), (ha.id, True))):
            key, sealed = app.store.keyring.seal_chat("telegram", f"{7000 + number}", participant_id=person,
                                                      staff_id=None)  # fmt: skip
            repos.session.add(ChannelIdentityRow(channel="telegram", chat_key=key, external_id_enc=sealed,
                                                 participant_id=person, linked_at=clock.now(),
                                                 unreachable=unreachable))  # fmt: skip
        await repos.reports.set_handed_over(ids_unit := (await repos.units.by_code("HD")).id, "2026-11", 5, None)  # type: ignore[union-attr]
        ids["HD"] = ids_unit
        ids["CG"] = (await repos.units.by_code("CG")).id  # type: ignore[union-attr]
        ids["HN"] = (await repos.units.by_code("HN")).id  # type: ignore[union-attr]

    async with app.store.transaction() as repos:
        # Em: away without telling anyone 25/10–05/11 (12 days): the term ends 13/11 instead of 01/11.
        await record_absence(repos, em.id, date(2026, 10, 25), date(2026, 11, 5), reported=False, reason=None,
                             by_staff=officer.id)  # fmt: skip
        # Dũng moves to Cầu Giấy on 15/11, accepted by its officer.
        transfer = await records.start_transfer(repos, dung.id, ids["CG"], date(2026, 11, 15), officer.id, clock.now())
        assert await records.decide_transfer(repos, transfer, True, cg_officer.id)
        # Cường completes on the last day of the month.
        await completion.complete(repos, cuong.id, date(2026, 11, 30), now=clock.now(), zone=HANOI,
                                  operator=Operator(os_user="test"))  # fmt: skip

    async def referral(person: int, kind: str, at: datetime, *, accept: datetime | None = None,
                       close: str | None = None, urgency: str = "normal") -> int:  # fmt: skip
        clock.set(at)
        async with app.store.transaction() as repos:
            made = await repos.referrals.request(person, kind, source="test", urgency=urgency)
        if accept is not None:
            clock.set(accept)
            async with app.store.transaction() as repos:
                assert await repos.referrals.accept(made, counsellor.id)
        if close is not None:
            async with app.store.transaction() as repos:
                assert await repos.referrals.close(made, counsellor.id, close)
        return made

    # An asks for vocational training twice (one request); the second is taken and closed as advised.
    await referral(an.id, "training", local(date(2026, 11, 5), 10))
    await referral(an.id, "training", local(date(2026, 11, 6), 10), accept=local(date(2026, 11, 7), 9),
                   close="advised")  # fmt: skip
    # Hà asks for help finding a job; taken, still open.
    await referral(ha.id, "job", local(date(2026, 11, 8), 10), accept=local(date(2026, 11, 9), 9))
    # Giang: a crisis at 23:30 on 30/11 local (16:30 UTC), taken 12 minutes later: November's.
    crisis_at = local(date(2026, 11, 30), 23, 30)
    taken = await referral(giang.id, "counselling", crisis_at, accept=crisis_at + timedelta(minutes=12),
                           urgency="urgent")  # fmt: skip
    # … and another at 00:30 on 01/12 local (17:30 UTC on 30/11): December's.
    december = local(date(2026, 12, 1), 0, 30)
    async with app.store.transaction() as repos:
        for number, at in enumerate((crisis_at, december)):
            repos.session.add(EscalationRow(key=f"crisis:{giang.id}:{number}", participant_id=giang.id,
                                            unit_id=ids["HD"], kind="crisis", raised_at=at))  # fmt: skip
        # Someone outside the staff (the person's own withdrawal) is not a human answer.
        repos.session.add(ReferralEventRow(referral_id=taken, status="accepted", actor_type="participant",
                                           at=december + timedelta(minutes=1)))  # fmt: skip
    clock.set(local(date(2026, 12, 2), 9))
    return ids


# Every count of Hà Đông in November 2026, by hand:
#   start (31/10): An, Cường, Dũng, Em, Giang, Hà = 6 (Bình starts 20/11)
#   end (30/11): An, Bình, Giang, Hà = 4 (Cường completed 30/11, Dũng in Cầu Giấy, Em past 13/11)
HD_NOVEMBER = {
    "under_management_start": 6, "under_management_end": 4, "enrolled": 1, "completed": 1, "moved_out": 1,
    "moved_in": 0, "due_for_completion": 1, "absences_reported": 0, "absences_unreported": 1,
    "checkins_due": 3, "checkins_done": 2, "checkins_self_reported": 2, "in_person_done": 1, "checkins_missed": 1,
    "tests_due": 2, "tests_due_periodic": 2, "tests_due_unannounced": 0, "tests_done": 2, "tests_done_periodic": 2,
    "tests_done_unannounced": 0, "tests_positive": 1, "tests_positive_periodic": 1, "tests_positive_unannounced": 0,
    "tests_refused": 0, "tests_refused_periodic": 0, "tests_refused_unannounced": 0, "tests_no_show": 0,
    "tests_no_show_periodic": 0, "tests_no_show_unannounced": 0,
    "referrals_requested": 3, "referrals_counselling": 1, "referrals_training": 1, "referrals_job": 1,
    "referrals_livelihood": 0, "referrals_health": 0, "referrals_papers": 0, "referrals_accepted": 3,
    "referrals_open": 2, "referrals_advised": 1, "referrals_referred": 0, "referrals_no_contact": 0,
    "referrals_declined": 0, "referrals_withdrawn": 0,
    "crisis_episodes": 1, "crisis_answered": 1, "crisis_median_minutes": 12.0, "unreachable": 1, "no_chat": 1,
    "reviews_due": 0, "reviews_written": 0, "reviews_good": 0, "reviews_fair": 0, "reviews_concerning": 0,
    "reviews_missing": 0,
}  # fmt: skip
# Cầu Giấy: Dũng from 15/11 (moved in, under management at the end, an unannounced test refused).
CG_NOVEMBER = {key: 0 for key in COUNT_KEYS} | {
    "moved_in": 1, "under_management_end": 1, "tests_due": 1, "tests_due_unannounced": 1, "tests_refused": 1,
    "tests_refused_unannounced": 1,
    "no_chat": 1, "crisis_median_minutes": None,
}  # fmt: skip
HD_INDICATORS = {
    "managed": (4, 5, 0.8, 1.0),  # handed over: 5
    "accessed_services": (3, 4, 0.75, 0.8),  # An, Giang, Hà had a request taken by 30/11; Bình none
    "vocational_training": (1, 1, 1.0, 1.0),
    "job_support": (0, 1, 0.0, 0.5),
    "livelihood_support": (0, 0, None, None),
    "relapse": (1, 2, 0.5, None),
    "checkins": (2, 3, 0.6667, 1.0),
    "reviews": (0, 0, None, 1.0),
}
