"""What a report is computed from, gathered in a few set queries for a set of communes and a period: clear columns
only, except test results and review ratings, opened here one by one (they are sealed at rest). No names leave.

A person belongs to the gathering when they are on one of the communes' lists now or an accepted move took them
into or out of one: their days in each commune are then told apart by `Person.unit_on`."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.db.crypto import FieldCipher, row_ref
from bot.db.dialect import upsert
from bot.db.models import (
    AbsenceRow,
    AnonymousFactRow,
    AnonymousPersonRow,
    ChannelIdentityRow,
    CheckinRow,
    CounsellingPointRow,
    EscalationRow,
    HandoverCountRow,
    IndicatorTargetRow,
    InPersonCheckRow,
    ObligationRow,
    ObservationRow,
    ParticipantRow,
    QuarterlyReviewRow,
    ReferralEventRow,
    ReferralRow,
    ReportMonthRow,
    StaffRow,
    TestResultRow,
    TransferRow,
)
from bot.domain.entities import Role
from bot.domain.escalations import EscalationKind
from bot.domain.fieldwork import TransferStatus
from bot.domain.planning import ObligationKind, ObligationStatus
from bot.domain.referrals import CADRE_CONVERSATION, ReferralEvent, ReferralStatus
from bot.domain.reports.facts import (
    Absence,
    Chats,
    Crisis,
    Duty,
    Facts,
    InPerson,
    Move,
    Person,
    Request,
    Result,
    Review,
)
from bot.domain.reports.figures import Tally
from bot.domain.reports.period import Period

_RESULT = "test_result.result"
_REVIEW = "quarterly_review.assessment"
_ANSWERS = (ReferralEvent.ACCEPTED.value, ReferralEvent.FIRST_REPLY.value)


def _scope(units: Sequence[int]) -> Select[tuple[int]]:
    """Ids of the people on these lists now or moved into or out of them (accepted moves): a UNION, so each side uses
    its index (participant.unit_id; transfer's units) where an OR would read the whole participant table."""
    moved_out = select(TransferRow.participant_id).where(
        TransferRow.status == TransferStatus.ACCEPTED.value,
        TransferRow.from_unit_id.in_(units),  # type: ignore[attr-defined]
    )
    moved_in = select(TransferRow.participant_id).where(
        TransferRow.status == TransferStatus.ACCEPTED.value,
        TransferRow.to_unit_id.in_(units),  # type: ignore[attr-defined]
    )
    listed = select(ParticipantRow.id).where(ParticipantRow.unit_id.in_(units))  # type: ignore[attr-defined]
    return select(union(listed, moved_out, moved_in).subquery().c[0])


class ReportRepository:
    def __init__(self, session: AsyncSession, clock: Clock, cipher: FieldCipher) -> None:
        self._s = session
        self._clock = clock
        self._cipher = cipher

    async def _rows(self, stmt: Any) -> Any:
        """Plain rows through the session's connection: the ORM's result machinery costs more than the query here
        (a province's month is ~200,000 rows)."""
        return await (await self._s.connection()).execute(stmt)

    async def facts(
        self, units: Sequence[int], period: Period, tz: tzinfo, *, results: bool = True, anonymous: bool = True
    ) -> Facts:
        """Everything the figures of `period` rest on for these communes (`results=False`: no test result opened,
        for a list that needs only who was under management; `anonymous=False`: only people still on record, for a
        list of names), purged people's anonymous rows included (bot/services/retention.py)."""
        units = list(units)
        scope = _scope(units)
        since = datetime.combine(period.first, time(0), tzinfo=tz).astimezone(UTC)
        until = datetime.combine(period.last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
        facts = Facts()
        moves = await self._moves(scope)
        facts.moves = [m for ms in moves.values() for m in ms]
        facts.people = await self._people(scope, period.first, period.last, moves)
        facts.absences = await self._absences(scope, period)
        facts.duties = await self._duties(scope, period)
        facts.in_person = await self._in_person(scope, period)
        facts.results = await self._results(scope, period) if results else []
        facts.requests = await self._requests(scope, until, tz)
        facts.crises = await self._crises(scope, since, until, tz)
        facts.reviews = await self._reviews(scope, [quarter for quarter, _ in period.quarter_ends()])
        facts.chats = await self._chats(scope)
        if anonymous:
            await self._anonymous(facts, units, period, results=results)
        return facts

    async def facts_of(self, people: Sequence[int], tz: tzinfo) -> Facts:
        """Everything any report could take from these people, all their time on the list (what the purge keeps as
        anonymous rows): the same queries as `facts`, over every day."""
        scope = select(ParticipantRow.id).where(ParticipantRow.id.in_(list(people)))  # type: ignore[attr-defined]
        always = Period(date.min + timedelta(days=1), date.max - timedelta(days=1), "always")
        since = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
        until = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
        facts = Facts()
        moves = await self._moves(scope)
        facts.moves = [m for ms in moves.values() for m in ms]
        facts.people = await self._people(scope, always.first, always.last, moves)
        facts.absences = await self._absences(scope, always)
        facts.duties = await self._duties(scope, always)
        facts.in_person = await self._in_person(scope, always)
        facts.results = await self._results(scope, always)
        facts.requests = await self._requests(scope, until, tz)
        facts.crises = await self._crises(scope, since, until, tz)
        quarters = select(QuarterlyReviewRow.quarter).where(QuarterlyReviewRow.participant_id.in_(scope))  # type: ignore[attr-defined]
        facts.reviews = await self._reviews(scope, sorted({q for (q,) in await self._rows(quarters)}))
        facts.chats = await self._chats(scope)
        return facts

    async def _anonymous(self, facts: Facts, units: list[int], period: Period, *, results: bool) -> None:
        """Purged people's anonymous rows, added to the live ones: the same scope (listed in these communes at the
        purge, or moved into or out of one) and the same bounds as each live query."""
        moved = select(AnonymousFactRow.person_id).where(
            AnonymousFactRow.kind == "move",
            or_(AnonymousFactRow.from_unit.in_(units), AnonymousFactRow.to_unit.in_(units)),  # type: ignore[union-attr]
        )
        listed = select(AnonymousPersonRow.id).where(AnonymousPersonRow.unit_id.in_(units))  # type: ignore[attr-defined]
        scope = select(union(listed, moved).subquery().c[0])
        first, last = period.first, period.last
        in_scope = AnonymousPersonRow.id.in_(scope)  # type: ignore[attr-defined]
        if (await self._s.execute(select(AnonymousPersonRow.id).where(in_scope).limit(1))).first() is None:
            return
        # each kind with its own bounds in the query (as the live one): a report reads its period, not all time
        day, kind = AnonymousFactRow.day, AnonymousFactRow.kind
        quarters = {quarter for quarter, _ in period.quarter_ends()}
        within = (first <= day) & (day <= last)  # type: ignore[operator]
        kinds = [
            kind == "move",
            (kind == "absence") & (day <= last) & (AnonymousFactRow.until >= first),  # type: ignore[operator]
            (kind == "duty") & within,
            (kind == "in_person") & within,
            (kind == "request") & (day <= last),  # type: ignore[operator]
            (kind == "crisis") & within,
        ]
        if results:
            kinds.append((kind == "result") & within)
        if quarters:
            kinds.append((kind == "review") & AnonymousFactRow.label.in_(sorted(quarters)))  # type: ignore[union-attr]
        facts_of = select(AnonymousFactRow).where(AnonymousFactRow.person_id.in_(scope), or_(*kinds))  # type: ignore[attr-defined]
        rows = list((await self._s.execute(facts_of.order_by(AnonymousFactRow.id))).scalars())  # type: ignore[arg-type]
        moves: defaultdict[int, list[Move]] = defaultdict(list)
        for f in rows:
            pid, day_ = f.person_id, f.day
            if f.kind == "move":
                move = Move(pid, f.from_unit or 0, f.to_unit or 0, day_)
                moves[pid].append(move)
                facts.moves.append(move)
            elif f.kind == "absence" and f.until is not None:
                facts.absences.append(Absence(pid, day_, f.until, f.flag))
            elif f.kind == "duty":
                facts.duties.append(Duty(pid, f.category or "", day_, f.label or "", f.flag))
            elif f.kind == "in_person":
                facts.in_person.append(InPerson(pid, f.label or "", day_, f.category or ""))
            elif f.kind == "result":
                facts.results.append(Result(pid, day_, f.category or "", f.flag))
            elif f.kind == "request":
                facts.requests.append(Request(pid, f.category or "", day_, f.until, f.label))
            elif f.kind == "crisis":
                facts.crises.append(Crisis(pid, day_, f.minutes))
            elif f.kind == "review":
                facts.reviews.append(Review(pid, f.label or "", f.category or ""))
        chats = select(AnonymousPersonRow.id, AnonymousPersonRow.chats_linked, AnonymousPersonRow.chats_unreachable)
        for pid, linked, unreachable in await self._s.execute(
            chats.where(in_scope, AnonymousPersonRow.chats_linked > 0)
        ):
            facts.chats[pid] = Chats(linked, unreachable)
        # only the people listed at some time in the span (as `_people`): not yet listed, or completed before it, not
        overlap = (AnonymousPersonRow.term_start <= last) & or_(  # type: ignore[operator]
            AnonymousPersonRow.completed_on.is_(None),  # type: ignore[union-attr]
            AnonymousPersonRow.completed_on >= first - timedelta(days=1),  # type: ignore[operator]
        )
        found = list((await self._s.execute(select(AnonymousPersonRow).where(in_scope, overlap))).scalars())
        for row in found:
            own = moves.get(row.id)
            homes = (
                ((date.min, own[0].from_unit), *((m.moved_on, m.to_unit) for m in own))
                if own
                else ((date.min, row.unit_id),)
            )
            facts.people[row.id] = Person(
                row.id, row.term_start, row.expected_end, row.completed_on, homes, row.left_on
            )

    async def _moves(self, scope: Select[tuple[int]]) -> dict[int, list[Move]]:
        stmt = (
            select(TransferRow.participant_id, TransferRow.from_unit_id, TransferRow.to_unit_id, TransferRow.moved_on)
            .where(
                TransferRow.status == TransferStatus.ACCEPTED.value,
                TransferRow.participant_id.in_(scope),  # type: ignore[attr-defined]
            )
            .order_by(TransferRow.moved_on, TransferRow.id)
        )
        out: defaultdict[int, list[Move]] = defaultdict(list)
        for person_id, from_unit, to_unit, moved_on in await self._rows(stmt):
            out[person_id].append(Move(person_id, from_unit, to_unit, moved_on))
        return out

    async def _people(
        self, scope: Select[tuple[int]], first: date, last: date, moves: dict[int, list[Move]]
    ) -> dict[int, Person]:
        stmt = select(
            ParticipantRow.id,
            ParticipantRow.unit_id,
            ParticipantRow.term_start,
            ParticipantRow.expected_end,
            ParticipantRow.completed_on,
            ParticipantRow.left_on,
        ).where(
            ParticipantRow.id.in_(scope),  # type: ignore[attr-defined]
            ParticipantRow.term_start <= last,
            # completed before the span: nothing in it is about their management (a province keeps years of them)
            or_(ParticipantRow.completed_on.is_(None), ParticipantRow.completed_on >= first - timedelta(days=1)),  # type: ignore[union-attr]
        )
        people = {}
        for person_id, unit_id, start, end, completed, left in await self._rows(stmt):
            moved = moves.get(person_id)
            homes = (
                ((date.min, moved[0].from_unit), *((m.moved_on, m.to_unit) for m in moved))
                if moved
                else ((date.min, unit_id),)
            )
            people[person_id] = Person(person_id, start, end, completed, homes, left)
        return people

    async def _absences(self, scope: Select[tuple[int]], period: Period) -> list[Absence]:
        stmt = select(AbsenceRow.participant_id, AbsenceRow.starts_on, AbsenceRow.ends_on, AbsenceRow.reported).where(
            AbsenceRow.participant_id.in_(scope),  # type: ignore[attr-defined]
            AbsenceRow.starts_on <= period.last,
            AbsenceRow.ends_on >= period.first,
        )
        return [Absence(*row) for row in await self._rows(stmt.order_by(AbsenceRow.id))]

    async def _duties(self, scope: Select[tuple[int]], period: Period) -> list[Duty]:
        stmt = (
            select(
                ObligationRow.participant_id,
                ObligationRow.kind,
                ObligationRow.due_on,
                ObligationRow.status,
                CheckinRow.completed_at,
            )
            .outerjoin(CheckinRow, CheckinRow.obligation_id == ObligationRow.id)
            .where(
                ObligationRow.participant_id.in_(scope),  # type: ignore[attr-defined]
                ObligationRow.due_on >= period.first,
                ObligationRow.due_on <= period.last,
                ObligationRow.status != ObligationStatus.CANCELLED.value,
            )
        )
        return [
            Duty(person_id, kind, due_on, status, completed_at is not None)
            for person_id, kind, due_on, status, completed_at in await self._rows(stmt)
        ]

    async def _in_person(self, scope: Select[tuple[int]], period: Period) -> list[InPerson]:
        stmt = select(
            InPersonCheckRow.participant_id, InPersonCheckRow.month, InPersonCheckRow.checked_on,
            InPersonCheckRow.outcome,
        ).where(
            InPersonCheckRow.participant_id.in_(scope),  # type: ignore[attr-defined]
            InPersonCheckRow.checked_on >= period.first,
            InPersonCheckRow.checked_on <= period.last,
        )  # fmt: skip
        return [InPerson(*row) for row in await self._rows(stmt)]

    async def _results(self, scope: Select[tuple[int]], period: Period) -> list[Result]:
        """Results of samples taken in the period, opened one by one (only the outcome is kept)."""
        stmt = (
            select(
                TestResultRow.id,
                TestResultRow.participant_id,
                TestResultRow.taken_on,
                TestResultRow.result_enc,
                ObligationRow.kind,
            )
            .outerjoin(ObligationRow, ObligationRow.id == TestResultRow.obligation_id)
            .where(
                TestResultRow.participant_id.in_(scope),  # type: ignore[attr-defined]
                TestResultRow.taken_on >= period.first,
                TestResultRow.taken_on <= period.last,
            )
            .order_by(TestResultRow.id)
        )
        out = []
        decrypt = self._cipher.decrypt
        for result_id, person_id, taken_on, sealed, kind in await self._rows(stmt):
            opened = json.loads(decrypt(sealed, _RESULT, row_ref(id=result_id, participant=person_id)))
            out.append(Result(person_id, taken_on, str(opened["outcome"]), kind == ObligationKind.RANDOM_TEST.value))
        return out

    async def _requests(self, scope: Select[tuple[int]], until: datetime, tz: tzinfo) -> list[Request]:
        """Every request for help asked before the period's end (earlier ones count for 'accessed services')."""
        stmt = (
            select(
                ReferralRow.participant_id,
                ReferralRow.kind,
                ReferralRow.created_at,
                ReferralRow.accepted_at,
                ReferralRow.status,
                ReferralRow.outcome,
            )
            .where(
                ReferralRow.participant_id.in_(scope),  # type: ignore[attr-defined]
                ReferralRow.kind != CADRE_CONVERSATION,
                ReferralRow.created_at < until,
            )
            .order_by(ReferralRow.id)
        )
        return [
            Request(
                person_id,
                kind,
                created.astimezone(tz).date(),
                accepted.astimezone(tz).date() if accepted is not None else None,
                outcome if status == ReferralStatus.CLOSED.value else None,
            )
            for person_id, kind, created, accepted, status, outcome in await self._rows(stmt)
        ]

    async def _crises(self, scope: Select[tuple[int]], since: datetime, until: datetime, tz: tzinfo) -> list[Crisis]:
        """Crisis episodes begun in the period, with the minutes to the first human answer: a counsellor taking or
        answering one of the person's referrals, or someone acknowledging the alert, whichever came first."""
        stmt = (
            select(EscalationRow.participant_id, EscalationRow.raised_at, EscalationRow.acknowledged_at)
            .where(
                EscalationRow.participant_id.in_(scope),  # type: ignore[attr-defined]
                EscalationRow.kind == EscalationKind.CRISIS.value,
                EscalationRow.raised_at >= since,
                EscalationRow.raised_at < until,
            )
            .order_by(EscalationRow.raised_at)
        )
        episodes = list(await self._rows(stmt))
        if not episodes:
            return []
        answers: defaultdict[int, list[datetime]] = defaultdict(list)
        events = (
            select(ReferralRow.participant_id, ReferralEventRow.at)
            .join(ReferralRow, ReferralRow.id == ReferralEventRow.referral_id)
            .where(
                ReferralRow.participant_id.in_({person_id for person_id, _, _ in episodes}),  # type: ignore[attr-defined]
                ReferralEventRow.status.in_(_ANSWERS),  # type: ignore[attr-defined]
                ReferralRow.urgency == "urgent",  # the crisis's referral (made urgent), not a job request's answer
                ReferralEventRow.actor_type == "staff",
                ReferralEventRow.at >= since,
            )
        )
        for person_id, at in await self._rows(events):
            answers[person_id].append(at)
        out = []
        for person_id, raised, acknowledged in episodes:
            after = [at for at in answers.get(person_id, ()) if at >= raised]
            if acknowledged is not None and acknowledged >= raised:
                after.append(acknowledged)
            minutes = round((min(after) - raised).total_seconds() / 60, 1) if after else None
            out.append(Crisis(person_id, raised.astimezone(tz).date(), minutes))
        return out

    async def _reviews(self, scope: Select[tuple[int]], quarters: list[str]) -> list[Review]:
        if not quarters:
            return []
        stmt = select(
            QuarterlyReviewRow.participant_id, QuarterlyReviewRow.quarter, QuarterlyReviewRow.assessment_enc
        ).where(
            QuarterlyReviewRow.participant_id.in_(scope),  # type: ignore[attr-defined]
            QuarterlyReviewRow.quarter.in_(quarters),  # type: ignore[attr-defined]
        )
        decrypt = self._cipher.decrypt
        return [
            Review(person_id, quarter, str(json.loads(decrypt(sealed, _REVIEW, row_ref(participant=person_id,
                                                                                       quarter=quarter)))["progress"]))
            for person_id, quarter, sealed in await self._rows(stmt)
        ]  # fmt: skip

    async def _chats(self, scope: Select[tuple[int]]) -> dict[int, Chats]:
        unreachable = func.sum(case((ChannelIdentityRow.unreachable.is_(True), 1), else_=0))  # type: ignore[attr-defined]
        stmt = (
            select(ChannelIdentityRow.participant_id, func.count(), unreachable)
            .where(ChannelIdentityRow.participant_id.in_(scope))  # type: ignore[union-attr]
            .group_by(ChannelIdentityRow.participant_id)
        )
        return {person_id: Chats(int(n), int(u or 0)) for person_id, n, u in await self._rows(stmt)}

    # A province's table: staff, points and the last record entered, per commune -------------------------------

    async def cadres(self, units: Sequence[int]) -> dict[int, int]:
        stmt = (
            select(StaffRow.unit_id, func.count())
            .where(StaffRow.unit_id.in_(list(units)), StaffRow.role == Role.CADRE.value, StaffRow.active.is_(True))  # type: ignore[attr-defined]
            .group_by(StaffRow.unit_id)
        )
        return {unit: int(n) for unit, n in await self._rows(stmt)}

    async def points(self, units: Sequence[int]) -> dict[int, int]:
        stmt = (
            select(CounsellingPointRow.unit_id, func.count())
            .where(CounsellingPointRow.unit_id.in_(list(units)))  # type: ignore[attr-defined]
            .group_by(CounsellingPointRow.unit_id)
        )
        return {unit: int(n) for unit, n in await self._rows(stmt)}

    async def last_entries(self, units: Sequence[int], tz: tzinfo) -> dict[int, date]:
        """The day each commune's staff last entered something about its people (a person listed, an in-person
        check, a result, a note, a review, an absence): a commune that stopped recording shows up."""
        units = list(units)
        latest: dict[int, datetime] = {}
        sources = (
            (ParticipantRow.created_at, None),
            (InPersonCheckRow.recorded_at, InPersonCheckRow.participant_id),
            (TestResultRow.recorded_at, TestResultRow.participant_id),
            (ObservationRow.recorded_at, ObservationRow.participant_id),
            (QuarterlyReviewRow.written_at, QuarterlyReviewRow.participant_id),
            (AbsenceRow.recorded_at, AbsenceRow.participant_id),
        )
        for column, person in sources:
            stmt = select(ParticipantRow.unit_id, func.max(column)).where(
                ParticipantRow.unit_id.in_(units)  # type: ignore[attr-defined]
            )
            if person is not None:
                stmt = stmt.join_from(ParticipantRow, column.class_, and_(person == ParticipantRow.id))  # type: ignore[attr-defined]
            for unit, at in await self._rows(stmt.group_by(ParticipantRow.unit_id)):
                if at is not None:
                    at = at if at.tzinfo else at.replace(tzinfo=UTC)
                    latest[unit] = max(latest.get(unit, at), at)
        kept = select(AnonymousPersonRow.unit_id, func.max(AnonymousPersonRow.last_entry_at)).where(
            AnonymousPersonRow.unit_id.in_(units)  # type: ignore[attr-defined]
        )
        for unit, at in await self._rows(kept.group_by(AnonymousPersonRow.unit_id)):
            if at is not None:  # purged people's entries still happened (bot/services/retention.py)
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                latest[unit] = max(latest.get(unit, at), at)
        return {unit: at.astimezone(tz).date() for unit, at in latest.items()}

    # Settled months (a trend's points) -------------------------------------------------------------------------

    async def settled_months(self, units: Sequence[int], months: Sequence[str]) -> dict[tuple[int, str], Tally]:
        stmt = select(ReportMonthRow.unit_id, ReportMonthRow.month, ReportMonthRow.figures).where(
            ReportMonthRow.unit_id.in_(list(units)),  # type: ignore[attr-defined]
            ReportMonthRow.month.in_(list(months)),  # type: ignore[attr-defined]
        )
        return {(unit, month): Tally.load(figures) for unit, month, figures in await self._rows(stmt)}

    async def keep_months(self, months: dict[tuple[int, str], Tally]) -> None:
        """Store settled months; one already stored (a report made at the same moment) stays as it is."""
        if not months:
            return
        now = self._clock.now()
        rows = [{"unit_id": unit, "month": month, "figures": t.dump(), "made_at": now}
                for (unit, month), t in months.items()]  # fmt: skip
        stmt = upsert(self._s, ReportMonthRow).values(rows)
        await self._s.execute(stmt.on_conflict_do_nothing(index_elements=["unit_id", "month"]))

    # Targets and the numbers officers enter ------------------------------------------------------------------

    async def targets(self, unit_id: int) -> dict[str, float | None]:
        stmt = select(IndicatorTargetRow.indicator, IndicatorTargetRow.target).where(
            IndicatorTargetRow.unit_id == unit_id
        )
        return {name: target for name, target in await self._rows(stmt)}

    async def set_target(self, unit_id: int, indicator: str, target: float | None, by: int | None) -> None:
        stmt = upsert(self._s, IndicatorTargetRow).values(
            unit_id=unit_id, indicator=indicator, target=target, set_by=by, set_at=self._clock.now()
        )
        await self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=["unit_id", "indicator"],
                set_={k: stmt.excluded[k] for k in ("target", "set_by", "set_at")},
            )
        )

    async def handed_over(self, units: Sequence[int], month: str) -> dict[int, int]:
        stmt = select(HandoverCountRow.unit_id, HandoverCountRow.people).where(
            HandoverCountRow.unit_id.in_(list(units)),  # type: ignore[attr-defined]
            HandoverCountRow.month == month,
        )
        return {unit: int(people) for unit, people in await self._rows(stmt)}

    async def set_handed_over(self, unit_id: int, month: str, people: int, by: int | None) -> None:
        stmt = upsert(self._s, HandoverCountRow).values(
            unit_id=unit_id, month=month, people=people, set_by=by, set_at=self._clock.now()
        )
        await self._s.execute(
            stmt.on_conflict_do_update(
                index_elements=["unit_id", "month"],
                set_={k: stmt.excluded[k] for k in ("people", "set_by", "set_at")},
            )
        )

    async def forget_months(self, units: Sequence[int]) -> int:
        """Drop these communes' kept months: the next trend counts them again from the records (`report --recount`)."""
        found = await self._s.execute(
            delete(ReportMonthRow).where(ReportMonthRow.unit_id.in_(list(units)))  # type: ignore[attr-defined]
        )
        return int(found.rowcount or 0)  # type: ignore[attr-defined]
