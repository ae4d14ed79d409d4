"""The report's figures against the commune of tests/support/reports.py, whose every figure is computed by hand, on
SQLite and PostgreSQL; the province's figures are the sum of its communes'; who may see which report."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.app import Application
from bot.db.models import ObligationRow, ReportMonthRow
from bot.domain.authz import Actor, ActorKind
from bot.domain.entities import Role
from bot.domain.reports.figures import COUNT_KEYS
from bot.domain.reports.period import parse_period
from bot.services import reports
from bot.services.access import Refused
from bot.services.operators import Operator
from tests.fakes.clock import FakeClock
from tests.support.records import audit_trail
from tests.support.reports import CG_NOVEMBER, HANOI, HD_INDICATORS, HD_NOVEMBER, NOVEMBER, build_communes


async def test_a_commune_month_and_its_province_match_the_figures_computed_by_hand(
    app: Application, clock: FakeClock
) -> None:
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        hd = await reports.build(repos, await repos.units.get(ids["HD"]), NOVEMBER, HANOI, clock.now())  # type: ignore[arg-type]
        cg = await reports.build(repos, await repos.units.get(ids["CG"]), NOVEMBER, HANOI, clock.now())  # type: ignore[arg-type]
        hn = await reports.build(repos, await repos.units.get(ids["HN"]), NOVEMBER, HANOI, clock.now())  # type: ignore[arg-type]
    assert hd.counts == HD_NOVEMBER
    assert cg.counts == CG_NOVEMBER
    got = {name: (i.numerator, i.denominator, i.value, i.target) for name, i in hd.indicators.items()}
    assert got == HD_INDICATORS
    # The province: one row per commune (Thanh Xuân has nobody), every count the sum of its communes'.
    assert [line.unit.code for line in hn.communes] == ["CG", "HD", "TX"]
    by_code = {line.unit.code: line for line in hn.communes}
    assert by_code["HD"].counts == HD_NOVEMBER and by_code["CG"].counts == CG_NOVEMBER
    for key in COUNT_KEYS:
        if key != "crisis_median_minutes":
            assert hn.counts[key] == sum(line.counts[key] or 0 for line in hn.communes), key  # type: ignore[operator]
    assert hn.counts["moved_out"] == hn.counts["moved_in"] == 1  # a move inside the province: out of one, into one
    assert by_code["HD"].cadres == 1 and by_code["CG"].cadres == 0 and by_code["TX"].last_entry is None
    assert by_code["HD"].last_entry == date(2026, 12, 2)
    assert hn.indicators["relapse"].numerator == 1 and hn.indicators["relapse"].denominator == 2
    assert hn.indicators["managed"].denominator is None  # Cầu Giấy and Thanh Xuân entered no number
    body = hn.as_dict()
    assert set(body) >= {"unit", "period", "counts", "indicators", "communes"}
    assert body["period"] == {"from": "2026-11-01", "to": "2026-11-30", "label": "2026-11"}
    assert "Nguyễn" not in str(body) and "Bình" not in str(body)  # a province's report carries no names
    # December sees the other crisis and nobody's answer to it.
    async with app.store.transaction() as repos:
        december = await reports.build(repos, await repos.units.get(ids["HD"]), parse_period("2026-12"), HANOI,  # type: ignore[arg-type]
                                       clock.now())  # fmt: skip
    assert december.counts["crisis_episodes"] == 1 and december.counts["crisis_answered"] == 0


async def test_the_quarter_counts_reviews_and_the_trend_gives_each_month_its_own(
    app: Application, clock: FakeClock
) -> None:
    ids = await build_communes(app, clock)
    async with app.store.transaction() as repos:
        hd = await repos.units.get(ids["HD"])
        assert hd is not None
        q3 = await reports.build(repos, hd, parse_period("2026-Q3"), HANOI, clock.now())
        year = await reports.build(repos, hd, parse_period("2026-11"), HANOI, clock.now(), trend=True)
    # On 30/09 Hà Đông had An, Cường, Dũng, Em, Giang, Hà (Bình starts in November): An good, Hà concerning.
    reviews = {key: q3.counts[key] for key in q3.counts if key.startswith("reviews_")}
    assert reviews == {"reviews_due": 6, "reviews_written": 2, "reviews_good": 1, "reviews_fair": 0,
                       "reviews_concerning": 1, "reviews_missing": 4}  # fmt: skip
    assert q3.indicators["reviews"].value == 0.3333
    months = [point.month for point in year.trend]
    assert months[0] == "2025-12" and months[-1] == "2026-11" and len(months) == 12
    assert year.trend[-1].counts == HD_NOVEMBER
    assert year.trend[-2].counts["checkins_done"] == 1 and year.trend[-2].counts["checkins_due"] == 1  # October
    # Settled months (over a month past their end on 02/12) are kept, counts only; November is not settled yet.
    async with app.store.transaction() as repos:
        kept = select(ReportMonthRow.month).where(ReportMonthRow.unit_id == hd.id)
        assert sorted((await repos.session.execute(kept)).scalars()) == months[:-1]
        stored = (await repos.session.execute(select(ReportMonthRow.figures))).scalars().first()
        assert "Nguyễn" not in str(stored) and "participant" not in str(stored)
        # A check-in of October recorded late: October's own report sees it, the trend keeps its settled point.
        repos.session.add(ObligationRow(key="late", participant_id=ids["ha"], kind="checkin", due_on=date(2026, 10, 10),
                                        status="done", created_at=clock.now()))  # fmt: skip
    async with app.store.transaction() as repos:
        october = await reports.build(repos, hd, parse_period("2026-10"), HANOI, clock.now())
        again = await reports.build(repos, hd, parse_period("2026-11"), HANOI, clock.now(), trend=True)
    assert october.counts["checkins_due"] == 2 and again.trend[-2].counts["checkins_due"] == 1
    assert again.trend[-1].counts == HD_NOVEMBER
    # A range ending mid-month tallies its trend's months whole: September kept from 1–15/09 would be a half month.
    async with app.store.transaction() as repos:
        await repos.reports.forget_months([hd.id])
        half = await reports.build(repos, hd, parse_period("2026-09-01..2026-09-15"), HANOI, clock.now(), trend=True)
        september = await reports.build(repos, hd, parse_period("2026-09"), HANOI, clock.now())
        kept = await reports.build(repos, hd, parse_period("2026-11"), HANOI, clock.now(), trend=True)
    assert half.trend[-1].counts == september.counts == kept.trend[-3].counts
    assert september.counts["reviews_due"] == 6  # the quarter ends on 30/09, after the range: it is September's
    # --recount (corrections to old months) forgets the kept months: October counts the late check-in now.
    async with app.store.transaction() as repos:
        recounted = await reports.build(repos, hd, parse_period("2026-11"), HANOI, clock.now(), trend=True,
                                        recount=True)  # fmt: skip
    assert recounted.trend[-2].counts["checkins_due"] == 2
    # A province's trend keeps its own months (people counted once across communes): a settled month's point is
    # that month's province report, figures and indicators alike; --recount without a trend forgets them too.
    async with app.store.transaction() as repos:
        province = await repos.units.get(ids["HN"])
        assert province is not None
        first = await reports.build(repos, province, parse_period("2026-11"), HANOI, clock.now(), trend=True)
        again = await reports.build(repos, province, parse_period("2026-11"), HANOI, clock.now(), trend=True)
        october = await reports.build(repos, province, parse_period("2026-10"), HANOI, clock.now())
        await reports.build(repos, province, parse_period("2026-11"), HANOI, clock.now(), recount=True)
        left = (await repos.session.execute(select(ReportMonthRow.month))).scalars().all()
    assert again.trend[-2].counts == first.trend[-2].counts == october.counts
    assert {n: i.as_dict() for n, i in again.trend[-2].indicators.items() if n != "managed"} == {
        n: i.as_dict() for n, i in october.indicators.items() if n != "managed"
    }
    assert left == []


async def test_who_may_see_which_report(app: Application, clock: FakeClock) -> None:
    ids = await build_communes(app, clock)

    def staff(role: Role, who: str, unit: str) -> Actor:
        return Actor(ActorKind.STAFF, ids[who], role, ids[unit])

    allowed = [(staff(Role.OFFICER, "officer", "HD"), "HD"), (staff(Role.ADMIN, "admin", "HN"), "HN"),
               (staff(Role.ADMIN, "admin", "HN"), "CG")]  # fmt: skip
    refused = [(staff(Role.OFFICER, "cg_officer", "CG"), "HD"), (staff(Role.OFFICER, "officer", "HD"), "HN"),
               (staff(Role.CADRE, "cadre", "HD"), "HD"), (staff(Role.COUNSELLOR, "counsellor", "HD"), "HD"),
               (staff(Role.OFFICER, "officer", "HD"), "NOPE")]  # fmt: skip
    for actor, code in allowed:
        async with app.store.transaction() as repos:
            assert (await reports.unit_in_reach(repos, code, actor, Operator())).code == code
    for actor, code in refused:
        with pytest.raises(Refused):
            async with app.store.transaction() as repos:
                await reports.unit_in_reach(repos, code, actor, Operator())
    # Refusals are audited even though the transaction that raised was rolled back? No: the caller commits them.
    async with app.store.transaction() as repos:
        with pytest.raises(Refused):
            await reports.unit_in_reach(repos, "HD", staff(Role.CADRE, "cadre", "HD"), Operator(staff_id=ids["cadre"]))
    assert [e.outcome for e in await audit_trail(app, "denied:view_report")] == ["denied"]
    # Targets: an admin sets the province's; an officer may not; a commune's report then uses it.
    async with app.store.transaction() as repos:
        province = await repos.units.get(ids["HN"])
        assert province is not None
        admin, officer = staff(Role.ADMIN, "admin", "HN"), staff(Role.OFFICER, "officer", "HD")
        assert reports.parse_target("85 %") == 0.85 and reports.parse_target("") is None
        for typed in ("120", "-1", "nan", "1e400", "tám mươi"):
            with pytest.raises(reports.ReportError):
                reports.parse_target(typed)
        wanted = {"accessed_services": 0.85, "checkins": 1.0}  # the checkins default: nothing to change
        assert await reports.set_targets(repos, province, wanted, admin, Operator()) == ["accessed_services"]
        with pytest.raises(reports.ReportError):
            await reports.set_targets(repos, province, {"nonsense": 0.1}, None, Operator())
        with pytest.raises(reports.ReportError):
            await reports.set_targets(repos, province, {"job_support": 6.0}, None, Operator())
        with pytest.raises(Refused):
            await reports.set_targets(repos, province, {"job_support": 0.6}, officer, Operator())
    assert [e.detail for e in await audit_trail(app, "target_set")] == [
        {"indicator": "accessed_services", "target": 0.85}
    ]
    async with app.store.transaction() as repos:
        hd = await repos.units.get(ids["HD"])
        assert hd is not None
        assert (await reports.targets_of(repos, hd))["accessed_services"] == 0.85
        made = await reports.build(repos, hd, NOVEMBER, HANOI, clock.now())
    assert made.indicators["accessed_services"].target == 0.85 and made.indicators["accessed_services"].met is False
